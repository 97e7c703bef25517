/// A cheap, copyable handle that writes one line per event, tagged with its component (`component=http`).
///
/// All loggers share the process-wide configuration in ``LogSystem``. The message is an autoclosure and
/// is only evaluated when the level is enabled; the fields, however, are built by the caller, so keep
/// expensive field values behind ``isEnabled(_:)`` on hot paths.
public struct Logger: Sendable {
    /// The subsystem name written as `component=...` on every line.
    public let component: String

    public init(_ component: String) {
        self.component = component
    }

    /// Whether events of `level` are currently written.
    public func isEnabled(_ level: LogLevel) -> Bool {
        LogSystem.isEnabled(level)
    }

    public func debug(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.debug, message(), fields)
    }

    public func info(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.info, message(), fields)
    }

    public func warn(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.warn, message(), fields)
    }

    public func error(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.error, message(), fields)
    }

    /// Writes one event at `level`; does nothing (and does not evaluate `message`) when the level is disabled.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String>) {
        guard LogSystem.isEnabled(level) else { return }
        LogSystem.emit(level: level, component: component, message: message(), fields: fields)
    }
}
