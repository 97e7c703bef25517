/// The contract's input rules for rooms, as pure functions. Each `...Error` function returns the message
/// for a bad (already trimmed) value, or nil.
public enum RoomValidation {
    /// Characters of a group's name, after trimming.
    public static let nameLength = 1...100
    /// Characters of a topic, after trimming.
    public static let topicMaximumLength = 500

    /// `text` without leading and trailing whitespace (newlines included).
    public static func trimmed(_ text: String) -> String { AccountValidation.trimmed(text) }

    public static func nameError(_ name: String) -> String? {
        guard nameLength.contains(name.count) else {
            return "must be \(nameLength.lowerBound) to \(nameLength.upperBound) characters"
        }
        return controlCharacterError(name)
    }

    public static func topicError(_ topic: String) -> String? {
        guard topic.count <= topicMaximumLength else { return "must be at most \(topicMaximumLength) characters" }
        return controlCharacterError(topic)
    }

    private static func controlCharacterError(_ text: String) -> String? {
        // General category Cc (C0, DEL, C1): line breaks included, a name or topic is one line.
        text.unicodeScalars.contains(where: \.isControl) ? "must not contain control characters" : nil
    }
}
