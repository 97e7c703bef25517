import Dispatch
import Foundation
import Storage
import Synchronization
import Testing

@Suite struct DatabaseWriterTests {
    private func makeWriter(in directory: String, maximumBatchSize: Int = 512) throws -> DatabaseWriter {
        let writer = try DatabaseWriter(
            configuration: configuration(in: directory), maximumBatchSize: maximumBatchSize)
        try writer.writeWithoutTransactionSync { db in
            try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, source INTEGER, seq INTEGER, UNIQUE(source, seq))")
        }
        return writer
    }

    @Test func concurrentSubmissionsAreGroupCommittedInOrder() throws {
        try withTemporaryDirectory { directory in
            let writer = try makeWriter(in: directory)
            let blocker = try WriterBlocker(writer)
            let baseline = writer.statistics

            let threads = 4
            let jobsPerThread = 250
            let submitted = DispatchGroup()
            let completed = DispatchGroup()
            let failures = Recorder<String>()
            for source in 0..<threads {
                submitted.enter()
                Thread {
                    for seq in 0..<jobsPerThread {
                        completed.enter()
                        writer.submit({ db in
                            try db.run(
                                "INSERT INTO t(source, seq) VALUES (?, ?)",
                                [.integer(Int64(source)), .integer(Int64(seq))])
                        }) { result in
                            if case .failure(let error) = result {
                                failures.append("\(error)")
                            }
                            completed.leave()
                        }
                    }
                    submitted.leave()
                }.start()
            }
            try waitOrFail(submitted, "submitting threads")
            #expect(writer.statistics.queuedJobs == threads * jobsPerThread)
            try blocker.release()
            try waitOrFail(completed, "all completions")

            #expect(failures.values.isEmpty)
            let stats = writer.statistics
            // The blocker's own batch, then 1000 queued jobs with a cap of 512 per transaction: 2 more.
            #expect(stats.batchesCommitted - baseline.batchesCommitted == 1 + 2)
            #expect(stats.jobsCommitted - baseline.jobsCommitted == 1 + threads * jobsPerThread)
            #expect(stats.queuedJobs == 0)

            // Each thread's jobs ran in the order that thread submitted them.
            let rows = try writer.writeSync { db in
                try db.query("SELECT source, seq FROM t ORDER BY id").map { [$0[0].int ?? -1, $0[1].int ?? -1] }
            }
            #expect(rows.count == threads * jobsPerThread)
            for source in 0..<threads {
                #expect(rows.filter { $0[0] == source }.map { $0[1] } == Array(0..<jobsPerThread))
            }
        }
    }

    @Test func batchSizeIsCapped() throws {
        try withTemporaryDirectory { directory in
            let writer = try makeWriter(in: directory, maximumBatchSize: 3)
            let blocker = try WriterBlocker(writer)
            let baseline = writer.statistics
            let completed = DispatchGroup()
            for seq in 0..<7 {
                completed.enter()
                writer.submit({ db in
                    try db.run("INSERT INTO t(source, seq) VALUES (0, ?)", [.integer(Int64(seq))])
                }) { _ in completed.leave() }
            }
            try blocker.release()
            try waitOrFail(completed, "completions")
            // The blocker's batch, then 3 + 3 + 1.
            #expect(writer.statistics.batchesCommitted - baseline.batchesCommitted == 1 + 3)
            #expect(writer.statistics.jobsCommitted - baseline.jobsCommitted == 1 + 7)
        }
    }

    @Test func failingJobRollsBackOnlyItselfAndGetsItsError() throws {
        try withTemporaryDirectory { directory in
            let writer = try makeWriter(in: directory)
            let blocker = try WriterBlocker(writer)
            let baseline = writer.statistics
            let results = Recorder<(Int, Result<Int, any Error>)>()
            let completed = DispatchGroup()
            let jobs: [@Sendable (Database) throws -> Int] = [
                { db in try db.run("INSERT INTO t(source, seq) VALUES (1, 1)") },
                { db in
                    // Its insert happens, then the job fails: the insert must be undone.
                    try db.run("INSERT INTO t(source, seq) VALUES (1, 2)")
                    throw TestError(id: 2)
                },
                { db in try db.run("INSERT INTO t(source, seq) VALUES (1, 1)") },  // UNIQUE violation
                { db in try db.run("INSERT INTO t(source, seq) VALUES (1, 4)") },
            ]
            for (index, job) in jobs.enumerated() {
                completed.enter()
                writer.submit(job) { result in
                    results.append((index, result))
                    completed.leave()
                }
            }
            try blocker.release()
            try waitOrFail(completed, "completions")

            // After the blocker's batch, all four ran in one transaction, and the two good ones committed.
            #expect(writer.statistics.batchesCommitted - baseline.batchesCommitted == 1 + 1)
            #expect(writer.statistics.jobsCommitted - baseline.jobsCommitted == 1 + 2)
            let outcomes = results.values
            #expect(outcomes.map(\.0) == [0, 1, 2, 3])
            #expect((try? outcomes[0].1.get()) == 1)
            #expect(throws: TestError(id: 2)) { try outcomes[1].1.get() }
            let unique = #expect(throws: DatabaseError.self) { try outcomes[2].1.get() }
            #expect(unique?.isUniqueConstraintViolation == true)
            #expect((try? outcomes[3].1.get()) == 1)
            let seqs = try writer.writeSync { db in try db.query("SELECT seq FROM t ORDER BY seq").map { $0[0] } }
            #expect(seqs == [1, 4])
        }
    }

    @Test func failedCommitFailsEveryJobOfTheBatch() throws {
        try withTemporaryDirectory { directory in
            let writer = try makeWriter(in: directory)
            try writer.writeWithoutTransactionSync { db in
                try db.execute(
                    """
                    CREATE TABLE parent(id INTEGER PRIMARY KEY);
                    CREATE TABLE child(parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
                    """)
            }
            let blocker = try WriterBlocker(writer)
            let baseline = writer.statistics
            let results = Recorder<Result<Int, any Error>>()
            let completed = DispatchGroup()
            let jobs: [@Sendable (Database) throws -> Int] = [
                { db in try db.run("INSERT INTO t(source, seq) VALUES (1, 1)") },
                // A deferred foreign key is only checked at COMMIT, so this job itself succeeds.
                { db in try db.run("INSERT INTO child VALUES (42)") },
                { db in try db.run("INSERT INTO t(source, seq) VALUES (1, 2)") },
            ]
            for job in jobs {
                completed.enter()
                writer.submit(job) { result in
                    results.append(result)
                    completed.leave()
                }
            }
            try blocker.release()
            try waitOrFail(completed, "completions")

            #expect(writer.statistics.batchesCommitted - baseline.batchesCommitted == 1)  // the blocker's
            #expect(writer.statistics.jobsCommitted - baseline.jobsCommitted == 1)
            for result in results.values {
                let error = #expect(throws: DatabaseError.self) { try result.get() }
                #expect(error?.isForeignKeyViolation == true)
                #expect(error?.sql == "COMMIT TRANSACTION")
            }
            // Nothing of the batch was written, and the writer goes on working.
            let rows = try writer.writeSync { db in try count("t", in: db) + count("child", in: db) }
            #expect(rows == 0)
        }
    }

    @Test func completionsRunAfterCommitSoReadersSeeTheWrite() throws {
        try withTemporaryDirectory { directory in
            let writer = try makeWriter(in: directory)
            let readers = try DatabaseReaderPool(configuration: configuration(in: directory))
            let seenByReader = Recorder<Int>()
            let done = DispatchSemaphore(value: 0)
            writer.submit({ db in
                try db.run("INSERT INTO t(source, seq) VALUES (7, 7)")
                return db.lastInsertRowID
            }) { result in
                // Another connection sees the row only if the transaction has committed.
                let seen = (try? readers.readSync { db in try count("t", in: db) }) ?? -1
                seenByReader.append(seen)
                #expect((try? result.get()) == 1)
                done.signal()
            }
            try waitOrFail(done, "the completion")
            #expect(seenByReader.values == [1])
        }
    }

    @Test func asyncWriteReturnsTheJobValue() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try makeWriter(in: directory)
            let id = try await writer.write { db in
                try db.run("INSERT INTO t(source, seq) VALUES (1, 1)")
                return db.lastInsertRowID
            }
            #expect(id == 1)
            await #expect(throws: TestError(id: 9)) {
                try await writer.write { _ in throw TestError(id: 9) }
            }
            let created = try await writer.writeWithoutTransaction { db in
                try db.transaction { db in try db.run("INSERT INTO t(source, seq) VALUES (1, 2)") }
            }
            #expect(created == 1)
        }
    }

    @Test func jobWithoutTransactionRunsAloneAndMayNotLeaveOneOpen() throws {
        try withTemporaryDirectory { directory in
            let writer = try makeWriter(in: directory)
            let wasInTransaction = try writer.writeWithoutTransactionSync { db in db.isInTransaction }
            #expect(!wasInTransaction)
            let wasInBatch = try writer.writeSync { db in db.isInTransaction }
            #expect(wasInBatch)

            let leftOpen = #expect(throws: DatabaseError.self) {
                try writer.writeWithoutTransactionSync { db in
                    try db.execute("BEGIN; INSERT INTO t(source, seq) VALUES (5, 5);")
                }
            }
            #expect(leftOpen?.message.contains("left a transaction open") == true)
            // Its insert was rolled back and the writer still works.
            try writer.writeSync { db in try db.run("INSERT INTO t(source, seq) VALUES (6, 6)") }
            let sources = try writer.writeSync { db in try db.query("SELECT source FROM t").map { $0[0] } }
            #expect(sources == [6])
        }
    }

    @Test func jobThatEndsTheBatchTransactionFailsTheJobsBeforeIt() throws {
        try withTemporaryDirectory { directory in
            let writer = try makeWriter(in: directory)
            let blocker = try WriterBlocker(writer)
            let results = Recorder<(Int, Bool)>()
            let completed = DispatchGroup()
            let jobs: [@Sendable (Database) throws -> Void] = [
                { db in try db.run("INSERT INTO t(source, seq) VALUES (1, 1)") },
                { db in try db.execute("ROLLBACK") },  // misuse: ends the shared transaction
                { db in try db.run("INSERT INTO t(source, seq) VALUES (1, 3)") },
            ]
            for (index, job) in jobs.enumerated() {
                completed.enter()
                writer.submit(job) { result in
                    results.append((index, (try? result.get()) != nil))
                    completed.leave()
                }
            }
            try blocker.release()
            try waitOrFail(completed, "completions")
            // Job 0's insert was rolled back with the transaction, so it must not report success;
            // job 2 ran in a fresh transaction and committed.
            #expect(results.values.map(\.0) == [0, 1, 2])
            #expect(results.values.map(\.1) == [false, false, true])
            let seqs = try writer.writeSync { db in try db.query("SELECT seq FROM t").map { $0[0] } }
            #expect(seqs == [3])
        }
    }

    @Test func blockingWriteOnTheWriterThreadThrowsInsteadOfDeadlocking() throws {
        try withTemporaryDirectory { directory in
            let writer = try makeWriter(in: directory)
            let nested = try writer.writeSync { _ -> String in
                do {
                    try writer.writeSync { _ in }
                    return "no error"
                } catch {
                    return "\(error)"
                }
            }
            #expect(nested.contains("writer thread"))
        }
    }

    @Test func closeRunsQueuedJobsThenRejectsNewOnes() throws {
        try withTemporaryDirectory { directory in
            let config = configuration(in: directory)
            let writer = try makeWriter(in: directory)
            let completedCount = Atomic<Int>(0)
            for seq in 0..<100 {
                writer.submit({ db in
                    try db.run("INSERT INTO t(source, seq) VALUES (0, ?)", [.integer(Int64(seq))])
                }) { result in
                    if case .success = result {
                        completedCount.add(1, ordering: .relaxed)
                    }
                }
            }
            writer.close()
            // close() returned: every queued job ran and completed.
            #expect(completedCount.load(ordering: .relaxed) == 100)
            let error = #expect(throws: DatabaseError.self) { try writer.writeSync { _ in } }
            #expect(error?.message.contains("closed") == true)
            writer.close()  // idempotent

            let db = try Database(path: config.path)
            #expect(try count("t", in: db) == 100)
        }
    }

    @Test func openingInAMissingDirectoryThrows() throws {
        try withTemporaryDirectory { directory in
            #expect(throws: DatabaseError.self) {
                try DatabaseWriter(configuration: DatabaseConfiguration(path: directory + "/no/such/dir/x.db"))
            }
        }
    }
}
