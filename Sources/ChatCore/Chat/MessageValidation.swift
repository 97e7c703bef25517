/// The input rules of messages, reactions, read receipts and search. Each check returns the message for
/// its field, or nil if the value is acceptable, so callers can report every bad field at once.
enum MessageValidation {
    /// The MIME types a message may have; the first is the default.
    static let mimeTypes = ["text/plain", "text/markdown"]
    static let clientMessageIDMaxLength = 64
    static let emojiMaxBytes = 32
    /// Longer queries are not searches for words a person typed; the bound keeps the FTS5 query small.
    static let searchQueryMaxLength = 1_000

    /// Content must have something besides whitespace and fit in `maxBytes` of UTF-8. It is kept as
    /// sent (leading spaces may be formatting); only the emptiness test trims.
    static func contentError(_ content: String, maxBytes: Int) -> String? {
        if content.allSatisfy(\.isWhitespace) {
            return "must not be empty"
        }
        if content.utf8.count > maxBytes {
            return "must be at most \(maxBytes) bytes"
        }
        // Control characters other than tab and line breaks only serve to garble what others see (terminal
        // escapes, bidi tricks are left to the client's rendering).
        if content.unicodeScalars.contains(where: {
            ($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") || $0.value == 0x7F
        }) {
            return "must not contain control characters other than tab and line breaks"
        }
        return nil
    }

    /// The canonical MIME type for `mimeType` (nil: the default), or nil if it is not allowed.
    static func canonicalMIMEType(_ mimeType: String?) -> String? {
        guard let mimeType else { return mimeTypes[0] }
        let lowered = mimeType.lowercased()
        return mimeTypes.first { $0 == lowered }
    }

    static func clientMessageIDError(_ id: String) -> String? {
        guard !id.isEmpty, id.count <= clientMessageIDMaxLength else {
            return "must be 1 to \(clientMessageIDMaxLength) characters"
        }
        if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "must not contain control characters"
        }
        return nil
    }

    /// 1–32 bytes, no whitespace or control characters. Format characters stay allowed: emoji sequences
    /// join with U+200D and pick their style with variation selectors.
    static func emojiError(_ emoji: String) -> String? {
        guard !emoji.isEmpty, emoji.utf8.count <= emojiMaxBytes else {
            return "must be 1 to \(emojiMaxBytes) bytes"
        }
        if emoji.unicodeScalars.contains(where: {
            $0.properties.isWhitespace || $0.properties.generalCategory == .control
        }) {
            return "must not contain whitespace or control characters"
        }
        return nil
    }

    /// The words of a search query, or the problem with it.
    static func searchTerms(_ query: String) -> Result<[String], ChatError> {
        let trimmed = AccountValidation.trimmed(query)
        if trimmed.isEmpty {
            return .failure(.validation(["q": "must not be empty"]))
        }
        if trimmed.count > searchQueryMaxLength {
            return .failure(.validation(["q": "must be at most \(searchQueryMaxLength) characters"]))
        }
        // Repeating a word adds nothing to the result but one more ANDed phrase to evaluate, and every
        // term costs a pass over its FTS hits: keep the distinct ones, and at most `searchMaxTerms`.
        var seen = Set<String>()
        var terms: [String] = []
        for word in trimmed.split(whereSeparator: \.isWhitespace) where seen.insert(word.lowercased()).inserted {
            terms.append(String(word))
            if terms.count == searchMaxTerms { break }
        }
        return .success(terms)
    }

    /// Distinct words a search uses; further words are ignored.
    static let searchMaxTerms = 8
}
