import Foundation
import Synchronization
import Testing

@testable import Logging

@Suite struct LogLevelTests {
    @Test func parsesConfigurationNames() {
        #expect(LogLevel("debug") == .debug)
        #expect(LogLevel("info") == .info)
        #expect(LogLevel("warn") == .warn)
        #expect(LogLevel("warning") == .warn)
        #expect(LogLevel("error") == .error)
        #expect(LogLevel("ERROR") == .error)
        #expect(LogLevel("Warning") == .warn)
        #expect(LogLevel("fatal") == nil)
        #expect(LogLevel("") == nil)
    }

    @Test func roundTripsThroughItsDescription() {
        for level in LogLevel.allCases {
            #expect(LogLevel(level.description) == level)
        }
    }

    @Test func ordersBySeverity() {
        #expect(LogLevel.debug < .info && LogLevel.info < .warn && LogLevel.warn < .error)
        #expect(LogLevel.allCases.sorted() == [.debug, .info, .warn, .error])
    }

    @Test func parsesFormats() {
        #expect(LogFormat(rawValue: "logfmt") == .logfmt)
        #expect(LogFormat(rawValue: "json") == .json)
        #expect(LogFormat(rawValue: "xml") == nil)
    }
}

/// A pipe whose write end a test's own ``LogOutput`` is pointed at; the read end is non-blocking so tests can
/// assert that nothing has been written yet. Only for private outputs: nothing else in the process writes here.
private final class CapturePipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        readEnd = fds[0]
        writeEnd = fds[1]
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
    }

    /// Everything written so far (the pipe never holds more than these tests write: < 64 KiB).
    func readAvailable() -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func closeReadEnd() { close(readEnd) }

    deinit {
        close(readEnd)
        close(writeEnd)
    }
}

/// An unlinked temporary file. Used where more than a pipe's 64 KiB may arrive, and for the shared output,
/// which other suites write to concurrently: a pipe nobody drains would block their writes once full.
private final class CaptureFile: Sendable {
    let fileDescriptor: Int32

    init() throws {
        var template = Array("/tmp/logging-test-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        unlink(String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
        fileDescriptor = fd
    }

    var size: Int {
        var status = stat()
        return fstat(fileDescriptor, &status) == 0 ? Int(status.st_size) : -1
    }

    /// The whole file, read with `pread` so the offset that writers use is left alone.
    func contents() -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes {
                pread(fileDescriptor, $0.baseAddress, $0.count, off_t(bytes.count))
            }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    deinit { close(fileDescriptor) }
}

/// Runs `body` on a fresh pthread (like an event loop) and waits for it. Threads are never reused, so
/// marking one as batching cannot leak into other tests.
private func onNewThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {  // handed to exactly one thread, which consumes it
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(
        &thread, nil,
        { argument in
            if let argument {
                Unmanaged<Box>.fromOpaque(argument).takeRetainedValue().body()
            }
            return nil
        }, box)
    #expect(created == 0)
    if created == 0 {
        pthread_join(thread, nil)
    } else {
        Unmanaged<Box>.fromOpaque(box).release()
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; whether it came to hold (a bound, not a timing assertion).
private func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

private func lines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init)
}

private func messages(_ text: String) -> [String] {
    messages(lines(text))
}

private func messages(_ lines: [String]) -> [String] {
    lines.compactMap { line in line.firstRange(of: "msg=").map { String(line[$0.upperBound...]) } }
}

/// Each test writes to its own ``LogOutput``, which nothing else in the process touches, so exact output can
/// be asserted while other suites (servers, storage) log through the shared output at the same time.
@Suite struct LogOutputTests {
    @Test func writesOneLinePerEventToItsDescriptor() throws {
        let pipe = try CapturePipe()
        let output = LogOutput(level: .debug, format: .logfmt, fileDescriptor: pipe.writeEnd)

        let logger = Logger("test", output: output)
        logger.debug("first", ["n": "1"])
        logger.info("second")
        logger.warn("third")
        logger.error("fourth", ["why": "disk full"])
        logger.log(.info, "fifth", [:])

        let written = lines(pipe.readAvailable())
        #expect(written.count == 5)
        #expect(written.first?.hasPrefix("ts=") == true)
        #expect(written.first?.hasSuffix(" level=debug component=test msg=first n=1") == true)
        #expect(written.last?.hasSuffix(" level=info component=test msg=fifth") == true)
        #expect(
            written.dropFirst(3).first?.hasSuffix(#" level=error component=test msg=fourth why="disk full""#) == true)
    }

    @Test func writesJSONWhenConfigured() throws {
        let pipe = try CapturePipe()
        let output = LogOutput(level: .info, format: .json, fileDescriptor: pipe.writeEnd)

        Logger("api", output: output).info("hello \"you\"", ["user": "42", "msg": "mine"])
        let line = pipe.readAvailable()
        #expect(line.hasSuffix("\n"))
        #expect(lines(line).count == 1)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(object?["component"] == "api")
        #expect(object?["msg"] == "hello \"you\"")
        #expect(object?["_msg"] == "mine")  // a reserved name is renamed, not allowed to replace the real one
        #expect(object?["user"] == "42")
        #expect(object?["level"] == "info")
    }

    @Test func reconfiguringChangesFormatAndLevel() throws {
        let pipe = try CapturePipe()
        let output = LogOutput(level: .info, format: .json, fileDescriptor: pipe.writeEnd)
        let logger = Logger("swap", output: output)

        logger.info("as json")
        output.configure(level: .error, format: .logfmt, fileDescriptor: pipe.writeEnd)
        logger.warn("dropped")
        logger.error("as logfmt", ["level": "mine"])

        let written = lines(pipe.readAvailable())
        #expect(written.count == 2)
        #expect(written.first?.hasPrefix(#"{"ts":""#) == true)
        #expect(written.first?.hasSuffix(#","level":"info","component":"swap","msg":"as json"}"#) == true)
        #expect(written.last?.hasSuffix(#" level=error component=swap msg="as logfmt" _level=mine"#) == true)
    }

    @Test func dropsEventsBelowTheLevelWithoutBuildingTheMessage() throws {
        let pipe = try CapturePipe()
        let output = LogOutput(level: .warn, format: .logfmt, fileDescriptor: pipe.writeEnd)

        var evaluated: [String] = []
        func message(_ text: String) -> String {
            evaluated.append(text)
            return text
        }
        let logger = Logger("filter", output: output)
        logger.debug(message("debug"))
        logger.info(message("info"), ["k": "v"])
        logger.log(.info, message("log-info"), [:])
        logger.warn(message("warn"))
        logger.error(message("error"))
        logger.log(.error, message("log-error"), [:])

        #expect(evaluated == ["warn", "error", "log-error"])
        #expect(messages(pipe.readAvailable()) == ["warn", "error", "log-error"])
        #expect(!logger.isEnabled(.debug) && !logger.isEnabled(.info))
        #expect(logger.isEnabled(.warn) && logger.isEnabled(.error))

        output.configure(level: .debug, format: .logfmt, fileDescriptor: pipe.writeEnd)
        #expect(LogLevel.allCases.allSatisfy { logger.isEnabled($0) })
    }

    @Test func batchingThreadsWaitForFlushAndKeepOrder() throws {
        let pipe = try CapturePipe()
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: pipe.writeEnd)

        let beforeFlush = Mutex<String?>(nil)
        onNewThread {
            LogSystem.batchOnCurrentThread()
            #expect(LogSystem.currentThreadBatches)
            let logger = Logger("loop", output: output)
            logger.info("b1")
            logger.info("b2")
            logger.info("b3")
            beforeFlush.withLock { $0 = pipe.readAvailable() }
            output.flush()
        }
        #expect(beforeFlush.withLock { $0 } == "")
        #expect(messages(pipe.readAvailable()) == ["b1", "b2", "b3"])
        #expect(!LogSystem.currentThreadBatches)
    }

    @Test func anImmediateLineWritesEarlierBatchedLinesFirst() throws {
        let pipe = try CapturePipe()
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: pipe.writeEnd)

        onNewThread {
            LogSystem.batchOnCurrentThread()
            Logger("loop", output: output).info("batched1")
            Logger("loop", output: output).info("batched2")
        }
        #expect(pipe.readAvailable() == "")
        Logger("main", output: output).info("immediate")
        #expect(messages(pipe.readAvailable()) == ["batched1", "batched2", "immediate"])
    }

    /// The isolation the tests above rely on: neither another output's immediate line nor the event loops'
    /// `LogSystem.flush()` writes this output's batch.
    @Test func eachOutputKeepsItsOwnBatch() throws {
        let mine = try CapturePipe()
        let theirs = try CapturePipe()
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: mine.writeEnd)
        let otherOutput = LogOutput(level: .info, format: .logfmt, fileDescriptor: theirs.writeEnd)

        onNewThread {
            LogSystem.batchOnCurrentThread()
            Logger("loop", output: output).info("mine")
            Logger("loop", output: otherOutput).info("theirs")
        }
        Logger("main", output: otherOutput).info("immediate")
        LogSystem.flush()
        #expect(mine.readAvailable() == "")
        #expect(messages(theirs.readAvailable()) == ["theirs", "immediate"])

        output.flush()
        #expect(messages(mine.readAvailable()) == ["mine"])
    }

    @Test func reconfiguringFlushesPendingLinesToThePreviousDescriptor() throws {
        let first = try CapturePipe()
        let second = try CapturePipe()
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: first.writeEnd)

        onNewThread {
            LogSystem.batchOnCurrentThread()
            Logger("loop", output: output).info("pending")
        }
        output.configure(level: .info, format: .logfmt, fileDescriptor: second.writeEnd)
        Logger("main", output: output).info("after")
        #expect(messages(first.readAvailable()) == ["pending"])
        #expect(messages(second.readAvailable()) == ["after"])
    }

    @Test func aFullBatchIsWrittenWithoutWaitingForFlush() throws {
        // A regular file rather than a pipe: more than a pipe's 64 KiB capacity is written here.
        let file = try CaptureFile()
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: file.fileDescriptor)

        let padding = String(repeating: "x", count: 1000)
        let sizes = Mutex<[Int]>([])
        onNewThread {
            LogSystem.batchOnCurrentThread()
            let logger = Logger("loop", output: output)
            for index in 0..<100 {
                logger.info("line\(index)", ["pad": padding])
                let size = file.size
                sizes.withLock { $0.append(size) }
            }
            output.flush()
        }
        let recorded = sizes.withLock { $0 }
        // Nothing reaches the file until the buffer holds 64 KiB, then it is written in one go.
        #expect(recorded.count == 100)
        #expect(recorded.first == 0)
        #expect(recorded.contains { $0 >= LogOutput.batchLimit })
        #expect(recorded.allSatisfy { $0 == 0 || $0 >= LogOutput.batchLimit })
        #expect(recorded.last.map { $0 < 100 * 1000 } == true)  // the tail waited for the flush

        let written = messages(file.contents()).map { $0.prefix { $0 != " " } }
        #expect(written == (0..<100).map { "line\($0)"[...] })
    }

    @Test func survivesAReaderThatWentAway() throws {
        let pipe = try CapturePipe()
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: pipe.writeEnd)
        pipe.closeReadEnd()

        // Without the SIGPIPE guard, which creating any output installs, this would kill the test process.
        Logger("gone", output: output).error("nobody is listening")
        onNewThread {
            LogSystem.batchOnCurrentThread()
            Logger("gone", output: output).info("batched")
            output.flush()
        }
        var action = sigaction()
        sigaction(SIGPIPE, nil, &action)
        #expect(action.__sigaction_handler.sa_handler != nil)
    }

    @Test func handedOffBatchesAreWrittenByTheOutputsOwnThread() throws {
        let file = try CaptureFile()
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: file.fileDescriptor, background: true)
        onNewThread {
            LogSystem.batchOnCurrentThread()
            let logger = Logger("loop", output: output)
            for index in 0..<3 { logger.info("h\(index)") }
            output.handOff()
        }
        #expect(waitUntil { messages(file.contents()) == ["h0", "h1", "h2"] })
    }

    /// House rule 7: a log pipe nobody reads must not block an event loop. The loop's lines pile up to
    /// `pendingLimit`, the rest are dropped and counted, and the count is logged once the pipe drains.
    @Test func aStalledDescriptorNeverBlocksABatchingThread() throws {
        let pipe = try CapturePipe()
        let output = LogOutput(level: .info, format: .logfmt, fileDescriptor: pipe.writeEnd, background: true)
        let finished = Atomic<Bool>(false)
        let padding = String(repeating: "z", count: 1000)
        let total = 3 * LogOutput.pendingLimit / 1000  // three times what may wait
        Thread.detachNewThread {
            LogSystem.batchOnCurrentThread()
            let logger = Logger("loop", output: output)
            for index in 0..<total {
                logger.info("n\(index)", ["pad": padding])
                if index % 50 == 0 { output.handOff() }
            }
            output.handOff()
            finished.store(true, ordering: .releasing)
        }
        var received: [UInt8] = []
        // Nothing is read until the loop is done: had it blocked, this would give up and fail.
        #expect(waitUntil { finished.load(ordering: .acquiring) })
        #expect(
            waitUntil(seconds: 60) {
                received += Array(pipe.readAvailable().utf8)
                return String(decoding: received, as: UTF8.self).contains("log lines dropped")
            })
        let text = String(decoding: received, as: UTF8.self)
        let warning = lines(text).first { $0.contains("log lines dropped") } ?? ""
        let dropped = Int(warning.split(separator: "dropped=").last ?? "") ?? 0
        #expect(dropped > 0 && dropped < total)
        // What was written is in order: the first lines, none twice.
        let indices = messages(text).compactMap { Int($0.dropFirst().prefix { $0.isNumber }) }
        #expect(indices.first == 0)
        #expect(indices == indices.sorted() && Set(indices).count == indices.count)
    }

    @Test func linesFromManyThreadsNeverInterleave() throws {
        let file = try CaptureFile()
        let output = LogOutput(level: .info, format: .json, fileDescriptor: file.fileDescriptor)

        let padding = String(repeating: "y", count: 300)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<200 {
                Logger("worker\(worker)", output: output).info("event \(index)", ["pad": padding])
            }
        }
        onNewThread {
            LogSystem.batchOnCurrentThread()
            for index in 0..<200 { Logger("loop", output: output).info("event \(index)", ["pad": padding]) }
            output.flush()
        }

        let parsed = try file.contents().split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        #expect(parsed.count == 9 * 200)
        #expect(parsed.allSatisfy { $0?["pad"] == padding })
        let loopOrder = parsed.compactMap { $0?["component"] == "loop" ? $0?["msg"] : nil }
        #expect(loopOrder == (0..<200).map { "event \($0)" })
    }
}

/// The static facade over the process-wide output. Other suites log through that output at the same time,
/// so these tests only look at lines carrying a component name unique to the test, and never assert that
/// nothing else was written. They run one at a time because each reconfigures the shared output, and point
/// it at a regular file: other suites' lines land there too, and a pipe nobody drains could block them.
@Suite(.serialized) struct LogSystemTests {
    private func uniqueComponent() -> String {
        "facade-" + String(UInt64.random(in: .min ... .max), radix: 16)
    }

    private func restoreDefaults() {
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: 2)
    }

    /// This test's lines: logfmt lines tagged with `component`.
    private func ownLines(in file: CaptureFile, component: String) -> [String] {
        lines(file.contents()).filter { $0.contains(" component=\(component) msg=") }
    }

    @Test func loggersWithoutAnOutputUseTheSharedOne() {
        #expect(Logger("default").output === LogOutput.shared)
    }

    @Test func configureSetsLevelAndFormatOfTheSharedOutput() throws {
        let file = try CaptureFile()
        LogSystem.configure(level: .warn, format: .logfmt, fileDescriptor: file.fileDescriptor)
        defer { withExtendedLifetime(file) { restoreDefaults() } }  // the file stays open until nothing writes it

        let component = uniqueComponent()
        let logger = Logger(component)
        var evaluated: [String] = []
        func message(_ text: String) -> String {
            evaluated.append(text)
            return text
        }
        logger.debug(message("debug"))
        logger.info(message("info"))
        logger.warn(message("warn"))
        logger.error(message("error"), ["why": "disk full"])
        #expect(evaluated == ["warn", "error"])
        #expect(!logger.isEnabled(.info) && logger.isEnabled(.warn))

        let ours = ownLines(in: file, component: component)
        #expect(messages(ours) == ["warn", #"error why="disk full""#])
        #expect(ours.first?.hasPrefix("ts=") == true)
        #expect(ours.first?.hasSuffix(" level=warn component=\(component) msg=warn") == true)

        LogSystem.configure(level: .debug, format: .json, fileDescriptor: file.fileDescriptor)
        #expect(logger.isEnabled(.debug))
        logger.debug("as json", ["user": "42"])
        let json = lines(file.contents()).filter { $0.contains(#""component":"\#(component)""#) }
        #expect(json.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data((json.first ?? "").utf8)) as? [String: String]
        #expect(object?["level"] == "debug")
        #expect(object?["msg"] == "as json")
        #expect(object?["user"] == "42")
    }

    @Test func batchedLinesReachTheSharedOutputOnFlushInOrder() throws {
        let file = try CaptureFile()
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: file.fileDescriptor)
        defer { withExtendedLifetime(file) { restoreDefaults() } }

        let component = uniqueComponent()
        onNewThread {
            LogSystem.batchOnCurrentThread()
            let logger = Logger(component)
            for index in 0..<5 { logger.info("b\(index)") }
            LogSystem.flush()
        }
        // Another thread's immediate line may have flushed the batch before us; it is complete and in order
        // either way, and written by the time `LogSystem.flush()` returned.
        #expect(messages(ownLines(in: file, component: component)) == (0..<5).map { "b\($0)" })
        #expect(!LogSystem.currentThreadBatches)
    }

    @Test func reconfiguringFlushesPendingLinesToThePreviousDescriptor() throws {
        let first = try CaptureFile()
        let second = try CaptureFile()
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: first.fileDescriptor)
        defer { withExtendedLifetime((first, second)) { restoreDefaults() } }

        let component = uniqueComponent()
        onNewThread {
            LogSystem.batchOnCurrentThread()
            Logger(component).info("pending")
        }
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: second.fileDescriptor)
        Logger(component).info("after")
        #expect(messages(ownLines(in: first, component: component)) == ["pending"])
        #expect(messages(ownLines(in: second, component: component)) == ["after"])
    }
}
