/// One `key = value` line of a configuration file, with its section folded into the key (`http.max_body`).
struct ConfigFileEntry: Equatable, Sendable {
    var key: String
    var value: String
    var line: Int
}

/// Parser for the INI-like configuration format.
///
/// ```
/// # full-line comment
/// [http]
/// max_body = 1m            # trailing comment: a '#' preceded by whitespace, outside quotes
/// request_id_header = "X-Request-Id"
/// ```
/// Keys before the first `[section]` are top-level. Quoted values keep `#` and surrounding spaces and
/// understand `\"` and `\\`. A key may appear only once per file.
enum ConfigFileParser {
    /// - Parameters:
    ///   - path: used only in error messages.
    ///   - sections: the section names that exist; any other `[name]` is an error on its own line.
    static func parse(_ text: String, path: String, sections: Set<String>) throws(ConfigError) -> [ConfigFileEntry] {
        var entries: [ConfigFileEntry] = []
        var firstLineOfKey: [String: Int] = [:]
        var section: String?
        var contents = Substring(text)
        if contents.first == "\u{FEFF}" { contents = contents.dropFirst() }  // byte-order mark left by some editors

        // Split on scalars: as Characters, "\r\n" is a single grapheme and would not match "\n".
        let lines = contents.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, scalars) in lines.enumerated() {
            let lineNumber = index + 1
            let rawLine = Substring(scalars)
            func fail(_ message: String) -> ConfigError {
                ConfigError(.file(path: path, line: lineNumber), message)
            }
            let line = ConfigText.trimmed(rawLine.last == "\r" ? rawLine.dropLast() : rawLine)
            if line.isEmpty || line.first == "#" { continue }

            if line.first == "[" {
                section = try parseSectionHeader(line, sections: sections, fail: fail)
                continue
            }

            guard let equals = line.firstIndex(of: "=") else {
                throw fail("expected \"key = value\" or \"[section]\", found \(ConfigText.quoted(line))")
            }
            let name = ConfigText.trimmed(line[..<equals])
            guard !name.isEmpty, name.allSatisfy(isNameCharacter) else {
                throw fail("invalid key \(ConfigText.quoted(name)): use letters, digits and \"_\"")
            }
            let key = section.map { "\($0).\(name)" } ?? String(name)
            let value: String
            do {
                value = try parseValue(line[line.index(after: equals)...])
            } catch {
                throw fail("\(error.message) for \(key)")
            }
            if let first = firstLineOfKey[key] {
                throw fail("duplicate key \(ConfigText.quoted(key)) (first set on line \(first))")
            }
            firstLineOfKey[key] = lineNumber
            entries.append(ConfigFileEntry(key: key, value: value, line: lineNumber))
        }
        return entries
    }

    private static func parseSectionHeader(
        _ line: Substring, sections: Set<String>, fail: (String) -> ConfigError
    ) throws(ConfigError) -> String {
        guard let close = line.firstIndex(of: "]") else {
            throw fail("expected \"]\" to close the section header \(ConfigText.quoted(line))")
        }
        let rest = ConfigText.trimmed(line[line.index(after: close)...])
        guard rest.isEmpty || rest.first == "#" else {
            throw fail("unexpected \(ConfigText.quoted(rest)) after the section header")
        }
        let name = String(ConfigText.trimmed(line[line.index(after: line.startIndex)..<close]))
        guard !name.isEmpty, name.allSatisfy(isNameCharacter) else {
            throw fail("invalid section name \(ConfigText.quoted(name))")
        }
        guard sections.contains(name) else {
            var message = "unknown section [\(name)]"
            if let guess = ConfigText.suggestion(for: name, among: sections) {
                message += "; did you mean [\(guess)]?"
            }
            message += " (sections: \(sections.sorted().map { "[\($0)]" }.joined(separator: ", ")))"
            throw fail(message)
        }
        return name
    }

    private struct ValueError: Error {
        var message: String
    }

    /// The text after `=`: a quoted string, or bare text up to a whitespace-preceded `#`, trimmed.
    private static func parseValue(_ text: Substring) throws(ValueError) -> String {
        let start = ConfigText.trimmed(text)
        guard start.first == "\"" else {
            var end = text.endIndex
            var previous: Character?
            for index in text.indices {
                if text[index] == "#", let previous, ConfigText.isSpace(previous) {
                    end = index
                    break
                }
                previous = text[index]
            }
            return String(ConfigText.trimmed(text[..<end]))
        }

        var value = ""
        var index = start.index(after: start.startIndex)
        while index < start.endIndex {
            let character = start[index]
            switch character {
            case "\"":
                let rest = ConfigText.trimmed(start[start.index(after: index)...])
                guard rest.isEmpty || rest.first == "#" else {
                    throw ValueError(message: "unexpected \(ConfigText.quoted(rest)) after the closing quote")
                }
                return value
            case "\\":
                let next = start.index(after: index)
                guard next < start.endIndex, start[next] == "\"" || start[next] == "\\" else {
                    let escape = next < start.endIndex ? "\\\(start[next])" : "\\"
                    throw ValueError(
                        message: "invalid escape \(ConfigText.quoted(escape)) (only \\\" and \\\\ are allowed)")
                }
                value.append(start[next])
                index = start.index(after: next)
                continue
            default:
                value.append(character)
            }
            index = start.index(after: index)
        }
        throw ValueError(message: "missing closing quote")
    }

    private static func isNameCharacter(_ character: Character) -> Bool {
        character == "_" || character == "-" || (character.isASCII && (character.isLetter || character.isNumber))
    }
}
