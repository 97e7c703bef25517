/// A cheap, copyable handle that writes one line per event, tagged with its component (`component=http`).
///
/// A logger writes to one ``LogOutput``: the process-wide one (configured through ``LogSystem``) unless given
/// another, which is how tests capture exactly their own lines. The message is an autoclosure and
/// is only evaluated when the level is enabled; the fields, however, are built by the caller, so keep
/// expensive field values behind ``isEnabled(_:)`` on hot paths.
public struct Logger: Sendable {
    /// The subsystem name written as `component=...` on every line.
    public let component: String

    /// Where the lines go. Held rather than looked up per line, so a logger never changes destination.
    let output: LogOutput

    /// A logger on the process-wide output, ``LogOutput/shared``.
    public init(_ component: String) {
        self.init(component, output: .shared)
    }

    /// A logger on `output`, for code that must keep its lines apart from the rest of the process.
    public init(_ component: String, output: LogOutput) {
        self.component = component
        self.output = output
    }

    /// Whether events of `level` are currently written.
    public func isEnabled(_ level: LogLevel) -> Bool {
        output.isEnabled(level)
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
        guard output.isEnabled(level) else { return }
        output.emit(level: level, component: component, message: message(), fields: fields)
    }
}
