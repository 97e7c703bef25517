/// Severity of a log event. Events below the configured level are dropped before their message is built.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable, LosslessStringConvertible {
    case debug, info, warn, error

    /// Parses a level as written in configuration: `debug`, `info`, `warn` (or `warning`), `error`; case-insensitive.
    public init?(_ description: String) {
        switch description.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warn", "warning": self = .warn
        case "error": self = .error
        default: return nil
        }
    }

    /// The name written to log lines and accepted by `init?(_:)`.
    public var description: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// How each event is rendered: `key=value` pairs (logfmt) or one JSON object per line.
public enum LogFormat: String, Sendable, CaseIterable {
    case logfmt, json
}
