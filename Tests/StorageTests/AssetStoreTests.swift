import Foundation
import Testing

@testable import Storage

/// The blob metadata statements against the real schema (the repository's migrations, `0006_blobs`).
@Suite struct AssetStoreTests {
    private let store = AssetStore()
    private let accounts = AccountStore()
    private static let migrations = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("migrations").path
    private static let sha = String(repeating: "ab", count: 32)
    private static let otherSHA = String(repeating: "cd", count: 32)
    private static let md5 = String(repeating: "0f", count: 16)

    private func withStore(_ body: (Database) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let db = try Database(configuration: configuration(in: directory))
            try Migrator(directory: Self.migrations).up(db)
            try body(db)
        }
    }

    private func user(_ name: String, _ db: Database) throws -> UserRecord {
        try accounts.insertUser(
            NewUserRecord(
                username: name, email: "\(name)@example.com", displayName: name, passwordHash: "hash", createdAt: 1_000),
            db)
    }

    private func asset(
        _ publicID: String, sha256: String = sha, bytes: Int64 = 100, owner: Int64? = nil,
        type: AssetRecord.DeliveryType = .upload, resourceType: AssetRecord.ResourceType = .image
    ) -> NewAssetRecord {
        NewAssetRecord(
            cloudName: "local", publicID: publicID, resourceType: resourceType, type: type, format: "png",
            version: 1_700_000_000, bytes: bytes, width: 5, height: 3, sha256: sha256, etag: Self.md5,
            tags: ["a", "b \"quoted\""], context: ["caption": "Tom & Jerry"], folder: "pets",
            originalFilename: "cat", ownerUserID: owner, createdAt: 1_700_000_000_000)
    }

    @Test func insertFindAndConflicts() throws {
        try withStore { db in
            let inserted = try store.insert(asset("pets/cat"), db)
            #expect(inserted.assetID.utf8.count == 32 && inserted.versionID.utf8.count == 32)
            #expect(inserted.publicID == "pets/cat" && inserted.tags == ["a", "b \"quoted\""])
            #expect(inserted.context == ["caption": "Tom & Jerry"] && inserted.width == 5 && inserted.height == 3)
            #expect(inserted.originalFilename == "cat" && inserted.ownerUserID == nil && inserted.folder == "pets")
            #expect(
                try store.find(cloudName: "local", resourceType: .image, type: .upload, publicID: "pets/cat", db)
                    == inserted)
            #expect(try store.find(assetID: inserted.assetID, db) == inserted)
            #expect(
                try store.find(cloudName: "local", resourceType: .raw, type: .upload, publicID: "pets/cat", db) == nil)

            #expect(throws: AssetStoreError.publicIDTaken) { try store.insert(asset("pets/cat"), db) }
            // Same public id under another type or resource type is another asset.
            _ = try store.insert(asset("pets/cat", type: .authenticated), db)
            _ = try store.insert(asset("pets/cat", resourceType: .raw), db)
            #expect(try count("assets", in: db) == 3)
        }
    }

    @Test func overwriteKeepsTheAssetIDAndReturnsTheReplaced() throws {
        try withStore { db in
            let (first, none) = try store.upsert(asset("x"), db)
            #expect(none == nil)
            var replacement = asset("x", sha256: Self.otherSHA, bytes: 7)
            replacement.version = 1_700_000_100
            let (second, replaced) = try store.upsert(replacement, db)
            #expect(replaced == first)
            #expect(second.id == first.id && second.assetID == first.assetID && second.versionID != first.versionID)
            #expect(second.sha256 == Self.otherSHA && second.bytes == 7 && second.version == 1_700_000_100)
            #expect(try store.referenceCount(sha256: Self.sha, db) == 0)
            #expect(try store.referenceCount(sha256: Self.otherSHA, db) == 1)
        }
    }

    @Test func referencesDeletionQuotasAndListing() throws {
        try withStore { db in
            let alice = try user("alice", db)
            let bob = try user("bob", db)
            let a = try store.insert(asset("a", bytes: 10, owner: alice.id), db)
            let b = try store.insert(asset("b", bytes: 20, owner: alice.id), db)
            let c = try store.insert(asset("c", sha256: Self.otherSHA, bytes: 40, owner: alice.id), db)
            _ = try store.insert(asset("d", bytes: 80, owner: bob.id), db)
            #expect(try store.referenceCount(sha256: Self.sha, db) == 3)
            #expect(try store.totalBytes(ownerUserID: alice.id, db) == 70)
            #expect(try store.totalBytes(ownerUserID: 999, db) == 0)
            #expect(try store.assets(ownerUserID: alice.id, limit: 10, db).map(\.id) == [c.id, b.id, a.id])
            #expect(try store.assets(ownerUserID: alice.id, limit: 1, beforeID: c.id, db).map(\.id) == [b.id])
            #expect(
                try store.find(cloudName: "local", type: .upload, publicIDs: ["c", "a", "zzz"], db).map(\.id)
                    == [a.id, c.id])
            #expect(try store.find(cloudName: "local", type: .authenticated, publicIDs: ["a"], db).isEmpty)
            #expect(try store.find(cloudName: "local", type: .upload, publicIDs: [], db).isEmpty)

            let deleted = try store.delete(cloudName: "local", resourceType: .image, type: .upload, publicID: "c", db)
            #expect(deleted == c)
            #expect(try store.referenceCount(sha256: Self.otherSHA, db) == 0)
            #expect(try store.delete(cloudName: "local", resourceType: .image, type: .upload, publicID: "c", db) == nil)

            // A user's row going sets the owner to NULL and keeps the asset.
            #expect(try db.run("DELETE FROM users WHERE id = ?", [.integer(bob.id)]) == 1)
            let orphan = try store.find(cloudName: "local", resourceType: .image, type: .upload, publicID: "d", db)
            #expect(orphan?.ownerUserID == nil)
        }
    }

    @Test func schemaChecks() throws {
        try withStore { db in
            var bad = asset("x")
            bad.sha256 = "short"
            #expect(throws: (any Error).self) { try store.insert(bad, db) }
            bad = asset("x")
            bad.bytes = -1
            #expect(throws: (any Error).self) { try store.insert(bad, db) }
        }
    }

    @Test func uploadSessions() throws {
        try withStore { db in
            let session = UploadSessionRecord(
                cloudName: "local", uploadID: "0nolcjtlxw3eznar", resourceType: "raw", type: .upload,
                publicID: "big.bin", totalBytes: 25, nextOffset: 0,
                tempPath: "/data/blobs/tmp/chunked-0nolcjtlxw3eznar",
                createdAt: 1_000, updatedAt: 1_000, expiresAt: 5_000)
            #expect(try store.insertUploadSession(session, db))
            #expect(try !store.insertUploadSession(session, db))
            #expect(try store.uploadSession(cloudName: "local", uploadID: "0nolcjtlxw3eznar", db) == session)
            #expect(try store.uploadSession(cloudName: "other", uploadID: "0nolcjtlxw3eznar", db) == nil)

            // Compare-and-set: only one of two requests with the same chunk moves it.
            #expect(
                try store.advanceUploadSession(
                    cloudName: "local", uploadID: "0nolcjtlxw3eznar", from: 0, to: 10, now: 2_000, expiresAt: 6_000, db)
            )
            #expect(
                try !store.advanceUploadSession(
                    cloudName: "local", uploadID: "0nolcjtlxw3eznar", from: 0, to: 10, now: 2_000, expiresAt: 6_000, db)
            )
            let advanced = try #require(try store.uploadSession(cloudName: "local", uploadID: "0nolcjtlxw3eznar", db))
            #expect(advanced.nextOffset == 10 && advanced.updatedAt == 2_000 && advanced.expiresAt == 6_000)
            // Past the total is refused by the schema.
            #expect(throws: (any Error).self) {
                try store.advanceUploadSession(
                    cloudName: "local", uploadID: "0nolcjtlxw3eznar", from: 10, to: 26, now: 2_000, expiresAt: 6_000, db
                )
            }

            var other = session
            other.uploadID = "second"
            other.expiresAt = 3_000
            #expect(try store.insertUploadSession(other, db))
            #expect(try store.deleteExpiredUploadSessions(now: 2_999, db).isEmpty)
            #expect(try store.deleteExpiredUploadSessions(now: 3_000, db).map(\.uploadID) == ["second"])
            #expect(
                try store.deleteUploadSession(cloudName: "local", uploadID: "0nolcjtlxw3eznar", db)?.nextOffset == 10)
            #expect(try store.deleteUploadSession(cloudName: "local", uploadID: "0nolcjtlxw3eznar", db) == nil)
        }
    }

    @Test func theMigrationReverts() throws {
        try withTemporaryDirectory { directory in
            let db = try Database(configuration: configuration(in: directory))
            let migrator = try Migrator(directory: Self.migrations)
            // Up to 0006 and back: later migrations (message attachments) depend on its tables.
            try migrator.up(db, to: 6)
            try migrator.down(db, steps: 1)
            #expect(try db.queryOne("SELECT 1 FROM sqlite_master WHERE name IN ('assets', 'upload_sessions')") == nil)
            try migrator.up(db)
            #expect(try count("assets", in: db) == 0)
        }
    }
}
