import Storage

extension BlobService {
    /// Checks a chunk of an `upload_large` against its upload's state before its bytes are read, starting the
    /// upload at its first chunk. Throws ``BlobError/badRequest(_:)`` for a gap, an overlap, a changed total or an
    /// unknown upload.
    public func beginChunk(uploadID: String, range: ContentRange, resourceType: String, limit: Int64)
        async throws(BlobError) -> ChunkedUpload.Outcome
    {
        let cloud = credentials.cloudName
        let now = clock()
        let expiry = policy.chunkExpiry * 1000
        let path: String
        do {
            path = try files.partialPath(uploadID: uploadID)
        } catch {
            throw .badRequest(ChunkedUploadError.invalidUploadID.description)
        }
        let files = self.files
        return try await write { [store] db in
            var session = try store.uploadSession(cloudName: cloud, uploadID: uploadID, db)
            if let expired = session, expired.expiresAt <= now {
                // Abandoned past `chunk_expiry`: gone, whether or not the periodic sweep got to it yet.
                _ = try store.deleteUploadSession(cloudName: cloud, uploadID: uploadID, db)
                files.removePartial(uploadID: uploadID)
                session = nil
                if range.first > 0 { throw BlobError.badRequest("The chunked upload \(uploadID) expired") }
            }
            let outcome: ChunkedUpload.Outcome
            do throws(ChunkedUploadError) {
                outcome = try ChunkedUpload.check(
                    range, nextOffset: session?.nextOffset, total: session?.totalBytes, limit: limit)
            } catch {
                throw BlobError.badRequest(error.description)
            }
            if session == nil {
                try store.insertUploadSession(
                    UploadSessionRecord(
                        cloudName: cloud, uploadID: uploadID, resourceType: resourceType, type: .upload,
                        publicID: "", totalBytes: range.total, nextOffset: 0, tempPath: path, createdAt: now,
                        updatedAt: now, expiresAt: now + expiry), db)
            }
            return outcome
        }
    }

    /// Records a chunk as stored (its bytes are in the partial file); nil if another request stored the same
    /// chunk meanwhile, else the upload's public id: `publicID` (what this chunk's fields name or imply) for the
    /// first chunk, the first chunk's for the others, so every answer and the asset agree. The last chunk ends the
    /// session: the caller then stages the partial file.
    public func endChunk(uploadID: String, range: ContentRange, publicID: String) async throws(BlobError) -> String? {
        let cloud = credentials.cloudName
        let now = clock()
        let expiry = policy.chunkExpiry * 1000
        return try await write { [store] db in
            let moved = try store.advanceUploadSession(
                cloudName: cloud, uploadID: uploadID, from: range.first, to: range.last + 1, now: now,
                expiresAt: now + expiry, db)
            guard moved else { return nil }
            let claimed = try store.claimUploadSessionPublicID(
                cloudName: cloud, uploadID: uploadID, publicID: publicID, db)
            if range.isLast {
                _ = try store.deleteUploadSession(cloudName: cloud, uploadID: uploadID, db)
            }
            return claimed ?? publicID
        }
    }

    /// Removes chunked uploads nobody touched within the expiry (rows and partial files); returns how many.
    @discardableResult
    public func expireChunkedUploads() async throws(BlobError) -> Int {
        let now = clock()
        let files = self.files
        return try await write { [store] db in
            let expired = try store.deleteExpiredUploadSessions(now: now, db)
            for session in expired { files.removePartial(uploadID: session.uploadID) }
            return expired.count
        }
    }
}
