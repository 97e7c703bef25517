import Foundation
import Testing

@testable import Blobs

func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

@Suite struct BlobFileStoreTests {
    // sha256sum / md5sum of "hello world".
    static let helloSHA256 = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    static let helloMD5 = "5eb63bbbe01eeed093cb22bb8f5acdc3"

    private func files(under path: String) -> [String] {
        (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path + "/" + $0, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }.sorted()
    }

    @Test func streamsHashesAndPublishesContentAddressed() throws {
        try withTemporaryDirectory { data in
            let store = try BlobFileStore(dataDirectory: data)
            #expect(store.root == data + "/blobs")
            let writer = try store.makeWriter()
            try writer.write(Array("hello ".utf8))
            try writer.write(Array("world".utf8)[...])
            #expect(writer.byteCount == 11)
            let staged = try writer.finish()
            #expect(staged.sha256 == Self.helloSHA256 && staged.md5 == Self.helloMD5 && staged.byteCount == 11)
            #expect(staged.head == Array("hello world".utf8))
            #expect(staged.temporaryPath.hasPrefix(data + "/blobs/tmp/"))
            #expect(!store.contains(sha256: staged.sha256))

            #expect(try store.publish(staged))
            let path = try #require(store.path(sha256: Self.helloSHA256))
            #expect(path == data + "/blobs/b9/4d/" + Self.helloSHA256)
            #expect(FileManager.default.contents(atPath: path) == Data("hello world".utf8))
            #expect(store.contains(sha256: Self.helloSHA256))
            #expect(files(under: data + "/blobs/tmp").isEmpty)

            // The same bytes again: one file; the second staged file is dropped.
            let again = try store.makeWriter()
            try again.write(Array("hello world".utf8))
            let second = try again.finish()
            #expect(second.temporaryPath != staged.temporaryPath)
            #expect(try !store.publish(second))
            #expect(files(under: data + "/blobs") == ["b9/4d/" + Self.helloSHA256])

            #expect(try store.remove(sha256: Self.helloSHA256))
            #expect(try !store.remove(sha256: Self.helloSHA256))
            #expect(!store.contains(sha256: Self.helloSHA256))
        }
    }

    @Test func aLargeUploadKeepsOnlyTheHead() throws {
        try withTemporaryDirectory { data in
            let store = try BlobFileStore(dataDirectory: data)
            let writer = try store.makeWriter()
            let chunk = [UInt8](repeating: 0x61, count: 100_000)
            for _ in 0..<5 { try writer.write(chunk) }
            let staged = try writer.finish()
            #expect(staged.byteCount == 500_000)
            #expect(staged.head.count == BlobWriter.sniffPrefixLength)
            // hashlib.sha256(b"a" * 500000).hexdigest(), hashlib.md5(…).hexdigest()
            #expect(staged.sha256 == "0071c4a7e7200b572501284e9a46954580950d9a73d401869236e87ed2ce99f8")
            #expect(staged.md5 == "87b1c2bb5bcb76dfdd141c5cbf3bec48")
            let expected = try #require(FileManager.default.contents(atPath: staged.temporaryPath))
            #expect(expected.count == 500_000)
            store.discard(staged)
            #expect(!FileManager.default.fileExists(atPath: staged.temporaryPath))
        }
    }

    @Test func limitsAbortsAndWritersDroppedUnfinished() throws {
        try withTemporaryDirectory { data in
            let store = try BlobFileStore(dataDirectory: data)
            let limited = try store.makeWriter(limit: 10)
            try limited.write(Array("0123456789".utf8))
            #expect(throws: BlobStoreError.tooLarge(limit: 10)) { try limited.write([0x41]) }
            #expect(!FileManager.default.fileExists(atPath: limited.temporaryPath))
            #expect(throws: BlobStoreError.writerClosed) { try limited.finish() }

            let aborted = try store.makeWriter()
            try aborted.write([1, 2, 3])
            aborted.abort()
            aborted.abort()
            #expect(!FileManager.default.fileExists(atPath: aborted.temporaryPath))

            var path = ""
            do {
                let dropped = try store.makeWriter()
                try dropped.write([1, 2, 3])
                path = dropped.temporaryPath
                #expect(FileManager.default.fileExists(atPath: path))
            }
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(files(under: data + "/blobs/tmp").isEmpty)
        }
    }

    @Test func pathsOnlyFromHashes() throws {
        try withTemporaryDirectory { data in
            let store = try BlobFileStore(dataDirectory: data)
            #expect(store.path(sha256: "../../etc/passwd") == nil)
            #expect(store.path(sha256: Self.helloSHA256.uppercased()) == nil)
            #expect(store.path(sha256: String(Self.helloSHA256.dropLast())) == nil)
            #expect(try !store.remove(sha256: "../x"))
            #expect(!store.contains(sha256: "x"))
        }
    }

    @Test func chunkedUploadsAppendThenStage() throws {
        try withTemporaryDirectory { data in
            let store = try BlobFileStore(dataDirectory: data)
            #expect(throws: BlobStoreError.invalidUploadID) { try store.openChunk(uploadID: "../x", offset: 0) }
            let first = try store.openChunk(uploadID: "0nolcjtlxw3eznar", offset: 0)
            try first.write(Array("hello ".utf8))
            #expect(try first.finish() == 6)
            // A chunk that fails half-way is cut back off.
            let failed = try store.openChunk(uploadID: "0nolcjtlxw3eznar", offset: 6)
            try failed.write(Array("wor".utf8))
            failed.abort()
            // A chunk whose request died without abort: the next attempt at the same offset truncates.
            let dead = try store.openChunk(uploadID: "0nolcjtlxw3eznar", offset: 6)
            try dead.write(Array("xx".utf8))
            _ = try dead.finish()
            let second = try store.openChunk(uploadID: "0nolcjtlxw3eznar", offset: 6, limit: 5)
            #expect(throws: BlobStoreError.tooLarge(limit: 5)) { try second.write(Array("world!".utf8)) }
            let retry = try store.openChunk(uploadID: "0nolcjtlxw3eznar", offset: 6)
            try retry.write(Array("world".utf8))
            try retry.finish()
            // Past the end of the file: a missing chunk.
            #expect(throws: BlobStoreError.partialFileMismatch(expected: 20, actual: 11)) {
                try store.openChunk(uploadID: "0nolcjtlxw3eznar", offset: 20)
            }
            #expect(throws: BlobStoreError.partialFileMismatch(expected: 12, actual: 11)) {
                try store.stagePartial(uploadID: "0nolcjtlxw3eznar", expectedBytes: 12)
            }
            let staged = try store.stagePartial(uploadID: "0nolcjtlxw3eznar", expectedBytes: 11)
            #expect(staged.sha256 == Self.helloSHA256 && staged.md5 == Self.helloMD5 && staged.head.count == 11)
            #expect(try store.publish(staged))
            #expect(store.contains(sha256: Self.helloSHA256))
            #expect(files(under: data + "/blobs/tmp").isEmpty)
            // An upload id without a file.
            #expect(throws: (any Error).self) { try store.openChunk(uploadID: "nothing", offset: 5) }
            store.removePartial(uploadID: "nothing")
        }
    }

    @Test func sweepsOldTemporaryFiles() throws {
        try withTemporaryDirectory { data in
            let store = try BlobFileStore(dataDirectory: data)
            let old = store.temporaryDirectory + "/upload-old"
            let fresh = store.temporaryDirectory + "/upload-fresh"
            #expect(FileManager.default.createFile(atPath: old, contents: Data([1])))
            #expect(FileManager.default.createFile(atPath: fresh, contents: Data([2])))
            let now = Int64(Date().timeIntervalSince1970)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: TimeInterval(now - 7200))], ofItemAtPath: old)
            #expect(try store.sweepTemporaryFiles(olderThan: 3600, now: now) == 1)
            #expect(files(under: store.temporaryDirectory) == ["upload-fresh"])
            // Reopening a store keeps what is there.
            let reopened = try BlobFileStore(dataDirectory: data)
            #expect(files(under: reopened.temporaryDirectory) == ["upload-fresh"])
        }
    }
}
