/// Collects the small text fields of a form (parts without a `filename`, RFC 7578 §4.2) while file parts
/// stream past: give it every event, and handle yourself the ones it returns false for.
///
/// ```swift
/// for event in try parser.feed(chunk) {
///     if try fields.consume(event) { continue }
///     // .partStart of a file part, its .partData and .partEnd, and .end
/// }
/// ```
public struct MultipartFieldCollector: Sendable {
    /// Largest value of one field; larger gets 413.
    public let maxFieldBytes: Int
    /// Most text fields; more gets 413.
    public let maxFields: Int
    /// The fields so far, in order, values decoded as UTF-8 (RFC 7578 §5.1; invalid sequences replaced).
    public private(set) var fields: [(name: String, value: String)] = []
    private var current: (name: String, bytes: [UInt8])?
    private var inFilePart = false

    public init(maxFieldBytes: Int = 64 * 1024, maxFields: Int = 100) {
        self.maxFieldBytes = maxFieldBytes
        self.maxFields = maxFields
    }

    /// Takes the event if it belongs to a text field and returns true; returns false for the events of file
    /// parts and for `.end`.
    public mutating func consume(_ event: MultipartEvent) throws(MultipartError) -> Bool {
        switch event {
        case .partStart(let headers):
            if headers.filename != nil {
                inFilePart = true
                return false
            }
            guard fields.count < maxFields else { throw .tooManyFields }
            current = (headers.name, [])
            return true
        case .partData(let bytes):
            guard !inFilePart, current != nil else { return false }
            guard let count = current?.bytes.count, count + bytes.count <= maxFieldBytes else {
                throw .fieldTooLarge
            }
            current?.bytes.append(contentsOf: bytes)
            return true
        case .partEnd:
            if inFilePart {
                inFilePart = false
                return false
            }
            guard let field = current else { return false }
            fields.append((field.name, String(decoding: field.bytes, as: UTF8.self)))
            current = nil
            return true
        case .end:
            return false
        }
    }

    /// The first value of field `name`.
    public func value(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    /// The text fields of a whole body in memory (a small form, not an upload); file parts are skipped.
    public static func fields(
        in body: [UInt8], boundary: String, maxFieldBytes: Int = 64 * 1024, maxFields: Int = 100
    ) throws(MultipartError) -> [(name: String, value: String)] {
        var parser = MultipartParser(boundary: boundary)
        var collector = MultipartFieldCollector(maxFieldBytes: maxFieldBytes, maxFields: maxFields)
        for event in try parser.feed(body) { _ = try collector.consume(event) }
        try parser.finish()
        return collector.fields
    }
}
