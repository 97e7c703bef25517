/// A configuration problem, located at its source so the operator can fix it: the file and line, the
/// environment variable, or the command-line flag.
///
/// `description` reads like `chat.conf:7: invalid value "abc" for http.max_body: expected a size like 1048576 or 1m`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the offending value came from.
    public enum Source: Sendable, Equatable {
        /// A configuration file; `line` is nil for problems with the file as a whole (missing, unreadable).
        case file(path: String, line: Int?)
        /// An environment variable such as `CHAT_HTTP_MAX_BODY`.
        case environment(variable: String)
        /// A command-line flag, with its dashes: `--listen`.
        case flag(String)
        /// An override key that no flag is registered for.
        case override(key: String)
    }

    public var source: Source
    /// The problem itself, without the location prefix.
    public var message: String

    public init(_ source: Source, _ message: String) {
        self.source = source
        self.message = message
    }

    public var description: String {
        switch source {
        case .file(let path, let line?): "\(path):\(line): \(message)"
        case .file(let path, nil): "\(path): \(message)"
        case .environment(let variable): "environment \(variable): \(message)"
        case .flag(let flag): "flag \(flag): \(message)"
        case .override(let key): "override \(key): \(message)"
        }
    }
}

/// A value that does not parse for its setting; `expected` says what would, e.g. `a size like 1048576 or 1m`.
struct SettingValueError: Error, Equatable {
    var expected: String
}

/// Helpers for the texts of configuration and usage errors.
enum ConfigText {
    /// `value` in double quotes with quotes, backslashes and control characters escaped, so that empty,
    /// blank or multi-line values are visible in an error message.
    static func quoted(_ value: some StringProtocol) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    static func isSpace(_ character: Character) -> Bool {
        character == " " || character == "\t"
    }

    static func trimmed(_ text: some StringProtocol) -> Substring {
        let string = Substring(text)
        guard let first = string.firstIndex(where: { !isSpace($0) }),
            let last = string.lastIndex(where: { !isSpace($0) })
        else { return string[string.endIndex...] }
        return string[first...last]
    }

    /// The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo.
    static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        let limit = max(1, min(3, word.count / 3))
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            if distance <= limit && distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs)
        let b = Array(rhs)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
