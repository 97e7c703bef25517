import Dispatch
import Foundation
import Storage
import Testing

@Suite struct DatabaseReaderPoolTests {
    /// A writer with table t holding one committed row, and a pool of `readers` connections.
    private func withWriterAndReaders(
        readers: Int = 2, _ body: (DatabaseWriter, DatabaseReaderPool) throws -> Void
    ) throws {
        try withTemporaryDirectory { directory in
            let config = configuration(in: directory, readers: readers)
            let writer = try DatabaseWriter(configuration: config)
            try writer.writeWithoutTransactionSync { db in
                try db.execute("CREATE TABLE t(a); INSERT INTO t VALUES (1);")
            }
            let pool = try DatabaseReaderPool(configuration: config)
            try body(writer, pool)
        }
    }

    @Test func readersSeeCommittedDataButNotAWriteInProgress() throws {
        try withWriterAndReaders { writer, readers in
            let inserted = DispatchSemaphore(value: 0)
            let finishWrite = DispatchSemaphore(value: 0)
            let committed = DispatchSemaphore(value: 0)
            writer.submit({ db in
                try db.run("INSERT INTO t VALUES (2)")
                inserted.signal()
                finishWrite.wait()
            }) { _ in committed.signal() }
            try waitOrFail(inserted, "the uncommitted insert")

            // The writer holds its transaction open: in WAL mode a read neither waits nor sees it.
            #expect(try readers.readSync { db in try count("t", in: db) } == 1)
            finishWrite.signal()
            try waitOrFail(committed, "the commit")
            #expect(try readers.readSync { db in try count("t", in: db) } == 2)
        }
    }

    @Test func oneReadSeesOneSnapshotWhileTheWriterCommits() throws {
        try withWriterAndReaders { writer, readers in
            let firstCountTaken = DispatchSemaphore(value: 0)
            let writeCommitted = DispatchSemaphore(value: 0)
            let counts = Recorder<Int>()
            let readDone = DispatchSemaphore(value: 0)
            readers.submit({ db in
                counts.append(try count("t", in: db))
                firstCountTaken.signal()
                writeCommitted.wait()
                counts.append(try count("t", in: db))
            }) { _ in readDone.signal() }

            try waitOrFail(firstCountTaken, "the first read")
            // The writer commits while the read transaction is open: not blocked by the reader.
            try writer.writeSync { db in try db.run("INSERT INTO t VALUES (2)") }
            writeCommitted.signal()
            try waitOrFail(readDone, "the read")

            #expect(counts.values == [1, 1])
            #expect(try readers.readSync { db in try count("t", in: db) } == 2)
        }
    }

    @Test func readsRunConcurrentlyOnSeveralConnections() throws {
        try withWriterAndReaders(readers: 2) { _, readers in
            // Each read waits for the other to start: this completes only if both run at once.
            let firstStarted = DispatchSemaphore(value: 0)
            let secondStarted = DispatchSemaphore(value: 0)
            let finished = DispatchGroup()
            let met = Recorder<Bool>()
            for (mine, theirs) in [(firstStarted, secondStarted), (secondStarted, firstStarted)] {
                finished.enter()
                readers.submit({ _ in
                    mine.signal()
                    return theirs.wait(timeout: .now() + .seconds(60)) == .success
                }) { result in
                    met.append((try? result.get()) == true)
                    finished.leave()
                }
            }
            try waitOrFail(finished, "both reads")
            #expect(met.values == [true, true])
        }
    }

    @Test func readerConnectionsAreReadOnly() throws {
        try withWriterAndReaders { _, readers in
            let error = #expect(throws: DatabaseError.self) {
                try readers.readSync { db in try db.run("INSERT INTO t VALUES (3)") }
            }
            #expect(error?.resultCode == 8)  // SQLITE_READONLY
            let foreignKeys = try readers.readSync { db in try db.queryOne("PRAGMA foreign_keys")?[0] }
            #expect(foreignKeys == 1)
        }
    }

    @Test func asyncReadReturnsTheJobValue() async throws {
        try await withTemporaryDirectory { directory in
            let config = configuration(in: directory)
            let writer = try DatabaseWriter(configuration: config)
            try await writer.writeWithoutTransaction { db in
                try db.execute("CREATE TABLE t(a); INSERT INTO t VALUES ('hello');")
            }
            let readers = try DatabaseReaderPool(configuration: config)
            let rows = try await readers.read { db in try db.query("SELECT a FROM t") }
            #expect(rows.map { $0["a"] } == ["hello"])
            await #expect(throws: DatabaseError.self) {
                try await readers.read { db in try db.query("SELECT nope FROM t") }
            }
        }
    }

    @Test func blockingReadOnAReaderThreadThrowsInsteadOfDeadlocking() throws {
        try withWriterAndReaders(readers: 1) { _, readers in
            let nested = try readers.readSync { _ -> String in
                do {
                    _ = try readers.readSync { _ in 1 }
                    return "no error"
                } catch {
                    return "\(error)"
                }
            }
            #expect(nested.contains("reader thread"))
        }
    }

    @Test func closeRunsQueuedReadsThenRejectsNewOnes() throws {
        try withWriterAndReaders(readers: 1) { _, readers in
            let results = Recorder<Int>()
            for _ in 0..<20 {
                readers.submit({ db in try count("t", in: db) }) { result in
                    results.append((try? result.get()) ?? -1)
                }
            }
            readers.close()
            #expect(results.values == Array(repeating: 1, count: 20))
            #expect(throws: DatabaseError.self) { try readers.readSync { _ in 0 } }
            readers.close()
        }
    }

    @Test func poolNeedsAnExistingDatabase() throws {
        try withTemporaryDirectory { directory in
            let error = #expect(throws: DatabaseError.self) {
                try DatabaseReaderPool(configuration: configuration(in: directory, readers: 3))
            }
            #expect(error?.resultCode == 14)  // SQLITE_CANTOPEN
        }
    }
}
