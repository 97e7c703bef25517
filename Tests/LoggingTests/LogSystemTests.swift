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

/// A pipe whose write end the log system is pointed at; the read end is non-blocking so tests can assert
/// that nothing has been written yet.
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

private func lines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init)
}

private func messages(_ text: String) -> [String] {
    lines(text).compactMap { line in line.firstRange(of: "msg=").map { String(line[$0.upperBound...]) } }
}

/// These tests reconfigure the process-wide log system, so they run one at a time and restore the defaults.
@Suite(.serialized) struct LogSystemTests {
    private func restoreDefaults() {
        LogSystem.flush()
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: 2)
    }

    @Test func writesOneLinePerEventToTheConfiguredDescriptor() throws {
        let pipe = try CapturePipe()
        LogSystem.configure(level: .debug, format: .logfmt, fileDescriptor: pipe.writeEnd)
        defer { restoreDefaults() }

        let logger = Logger("test")
        logger.debug("first", ["n": "1"])
        logger.info("second")
        logger.warn("third")
        logger.error("fourth", ["why": "disk full"])
        logger.log(.info, "fifth", [:])

        let output = lines(pipe.readAvailable())
        #expect(output.count == 5)
        #expect(output.first?.hasPrefix("ts=") == true)
        #expect(output.first?.hasSuffix(" level=debug component=test msg=first n=1") == true)
        #expect(output.last?.hasSuffix(" level=info component=test msg=fifth") == true)
        #expect(
            output.dropFirst(3).first?.hasSuffix(#" level=error component=test msg=fourth why="disk full""#) == true)
    }

    @Test func writesJSONWhenConfigured() throws {
        let pipe = try CapturePipe()
        LogSystem.configure(level: .info, format: .json, fileDescriptor: pipe.writeEnd)
        defer { restoreDefaults() }

        Logger("api").info("hello \"you\"", ["user": "42"])
        let line = pipe.readAvailable()
        #expect(line.hasSuffix("\n"))
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(object?["component"] == "api")
        #expect(object?["msg"] == "hello \"you\"")
        #expect(object?["user"] == "42")
        #expect(object?["level"] == "info")
    }

    @Test func dropsEventsBelowTheLevelWithoutBuildingTheMessage() throws {
        let pipe = try CapturePipe()
        LogSystem.configure(level: .warn, format: .logfmt, fileDescriptor: pipe.writeEnd)
        defer { restoreDefaults() }

        var evaluated: [String] = []
        func message(_ text: String) -> String {
            evaluated.append(text)
            return text
        }
        let logger = Logger("filter")
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

        LogSystem.configure(level: .debug, format: .logfmt, fileDescriptor: pipe.writeEnd)
        #expect(LogLevel.allCases.allSatisfy { logger.isEnabled($0) })
    }

    @Test func batchingThreadsWaitForFlushAndKeepOrder() throws {
        let pipe = try CapturePipe()
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: pipe.writeEnd)
        defer { restoreDefaults() }

        let beforeFlush = Mutex<String?>(nil)
        onNewThread {
            LogSystem.batchOnCurrentThread()
            #expect(LogSystem.currentThreadBatches)
            let logger = Logger("loop")
            logger.info("b1")
            logger.info("b2")
            logger.info("b3")
            beforeFlush.withLock { $0 = pipe.readAvailable() }
            LogSystem.flush()
        }
        #expect(beforeFlush.withLock { $0 } == "")
        #expect(messages(pipe.readAvailable()) == ["b1", "b2", "b3"])
        #expect(!LogSystem.currentThreadBatches)
    }

    @Test func anImmediateLineWritesEarlierBatchedLinesFirst() throws {
        let pipe = try CapturePipe()
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: pipe.writeEnd)
        defer { restoreDefaults() }

        onNewThread {
            LogSystem.batchOnCurrentThread()
            Logger("loop").info("batched1")
            Logger("loop").info("batched2")
        }
        #expect(pipe.readAvailable() == "")
        Logger("main").info("immediate")
        #expect(messages(pipe.readAvailable()) == ["batched1", "batched2", "immediate"])
    }

    @Test func reconfiguringFlushesPendingLinesToThePreviousDescriptor() throws {
        let first = try CapturePipe()
        let second = try CapturePipe()
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: first.writeEnd)
        defer { restoreDefaults() }

        onNewThread {
            LogSystem.batchOnCurrentThread()
            Logger("loop").info("pending")
        }
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: second.writeEnd)
        Logger("main").info("after")
        #expect(messages(first.readAvailable()) == ["pending"])
        #expect(messages(second.readAvailable()) == ["after"])
    }

    @Test func aFullBatchIsWrittenWithoutWaitingForFlush() throws {
        // A regular file rather than a pipe: more than a pipe's 64 KiB capacity is written here.
        var template = Array("/tmp/logging-test-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        unlink(String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
        defer { close(fd) }
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: fd)
        defer { restoreDefaults() }

        let padding = String(repeating: "x", count: 1000)
        let sizes = Mutex<[Int]>([])
        onNewThread {
            LogSystem.batchOnCurrentThread()
            let logger = Logger("loop")
            for index in 0..<100 {
                logger.info("line\(index)", ["pad": padding])
                let size = Int(lseek(fd, 0, SEEK_END))
                sizes.withLock { $0.append(size) }
            }
            LogSystem.flush()
        }
        let recorded = sizes.withLock { $0 }
        // Nothing reaches the file until the buffer holds 64 KiB, then it is written in one go.
        #expect(recorded.first == 0)
        #expect(recorded.contains { $0 >= LogSystem.batchLimit })
        #expect(recorded.allSatisfy { $0 == 0 || $0 >= LogSystem.batchLimit })

        lseek(fd, 0, SEEK_SET)
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            contents.append(contentsOf: chunk[0..<count])
        }
        let written = messages(String(decoding: contents, as: UTF8.self)).map { $0.prefix { $0 != " " } }
        #expect(written == (0..<100).map { "line\($0)"[...] })
    }

    @Test func survivesAReaderThatWentAway() throws {
        let pipe = try CapturePipe()
        LogSystem.configure(level: .info, format: .logfmt, fileDescriptor: pipe.writeEnd)
        defer { restoreDefaults() }
        pipe.closeReadEnd()

        // Without the SIGPIPE guard this would kill the test process.
        Logger("gone").error("nobody is listening")
        onNewThread {
            LogSystem.batchOnCurrentThread()
            Logger("gone").info("batched")
            LogSystem.flush()
        }
        var action = sigaction()
        sigaction(SIGPIPE, nil, &action)
        #expect(action.__sigaction_handler.sa_handler != nil)
    }

    @Test func linesFromManyThreadsNeverInterleave() throws {
        var template = Array("/tmp/logging-test-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        unlink(String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
        defer { close(fd) }
        LogSystem.configure(level: .info, format: .json, fileDescriptor: fd)
        defer { restoreDefaults() }

        let padding = String(repeating: "y", count: 300)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<200 {
                Logger("worker\(worker)").info("event \(index)", ["pad": padding])
            }
        }
        onNewThread {
            LogSystem.batchOnCurrentThread()
            for index in 0..<200 { Logger("loop").info("event \(index)", ["pad": padding]) }
            LogSystem.flush()
        }

        lseek(fd, 0, SEEK_SET)
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            contents.append(contentsOf: chunk[0..<count])
        }
        let parsed = try String(decoding: contents, as: UTF8.self).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        #expect(parsed.count == 9 * 200)
        #expect(parsed.allSatisfy { $0?["pad"] == padding })
        let loopOrder = parsed.compactMap { $0?["component"] == "loop" ? $0?["msg"] : nil }
        #expect(loopOrder == (0..<200).map { "event \($0)" })
    }
}
