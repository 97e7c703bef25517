import CLinux
import Glibc

/// Nanoseconds on CLOCK_MONOTONIC: the same clock in every thread, so a timestamp taken by the sending thread
/// can be compared with one taken by a receiving thread.
func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

/// Prints `chat-wsbench: message` to stderr and exits 1: a measurement could not be made.
func fail(_ message: String) -> Never {
    printError("chat-wsbench: \(message)")
    exit(1)
}

/// Writes a line to stderr (file descriptor 2; the C `stderr` global is shared mutable state to Swift 6).
func printError(_ line: String) {
    writeLine(line, to: 2)
}

func writeLine(_ line: String, to fd: Int32) {
    var bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}

/// Prints a line at once (stdout may be a file the bench script polls): write(2), no stdio buffer.
func say(_ line: String) {
    writeLine(line, to: 1)
}

/// Raises RLIMIT_NOFILE for `wanted` descriptors: the hard limit too when the process may (root with
/// CAP_SYS_RESOURCE), else the soft limit up to the hard one. Returns the soft limit in force afterwards.
func raiseDescriptorLimit(wanted: Int) -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
    let target = rlim_t(wanted)
    if limit.rlim_max < target {
        var raised = limit
        raised.rlim_max = target
        raised.rlim_cur = target
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return wanted }
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return limit.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limit.rlim_cur)
}

/// Text of errno `code`.
func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Formats `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int = 1) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if digits == 0, text.hasSuffix(".0") { text.removeLast(2) }
    if let dot = text.firstIndex(of: "."), digits > 0 {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}

/// Reads a whole file as lines without the empty ones (tokens, room ids).
func readLines(_ path: String) -> [String] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("cannot read \(path): \(errorText(errno))") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count >= 0 else { fail("cannot read \(path): \(errorText(errno))") }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() }
        .filter { !$0.isEmpty }
}

/// Writes `lines` to `path`, one a line.
func writeLines(_ lines: [String], to path: String) {
    guard let file = fopen(path, "w") else { fail("cannot write \(path): \(errorText(errno))") }
    for line in lines { fputs(line + "\n", file) }
    fclose(file)
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        while end > start, scalars[scalars.index(before: end)].properties.isWhitespace {
            end = scalars.index(before: end)
        }
        return String(scalars[start..<end])
    }
}

/// xorshift64*: masking keys and jitter. RFC 6455 asks for unpredictable masking keys so that a browser's
/// script cannot steer the bytes on the wire; a load generator that writes its own frames has no such attacker,
/// and seeds it from getrandom(2).
struct FastRandom {
    private var state: UInt64

    init() {
        var seed: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &seed) { getrandom($0.baseAddress, $0.count, 0) }
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
