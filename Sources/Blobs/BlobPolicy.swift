/// The limits and presets of the blob store (`[blobs]` settings).
public struct BlobPolicy: Sendable, Equatable {
    public var maxImageBytes: Int64 = 20 << 20
    public var maxVideoBytes: Int64 = 1 << 30
    public var maxRawBytes: Int64 = 1 << 30
    /// Total bytes one chat user may store through the chat API.
    public var userQuota: Int64 = 1 << 30
    /// A signed request's `timestamp` older than this (seconds) is refused ("Stale request").
    public var maxTimestampAge: Int64 = 3600
    /// Partial chunked uploads untouched this long (seconds) are removed.
    public var chunkExpiry: Int64 = 86_400
    public var presets: [String: UploadPreset] = [:]

    public init() {}

    /// The most bytes an upload to `resourceType` (`auto` when unknown yet) may have.
    public func maxBytes(for resourceType: String, preset: UploadPreset?) -> Int64 {
        let byType: Int64
        switch resourceType {
        case "image": byType = maxImageBytes
        case "video": byType = maxVideoBytes
        case "raw": byType = maxRawBytes
        default: byType = max(maxImageBytes, maxVideoBytes, maxRawBytes)
        }
        return min(byType, preset?.maxBytes ?? byType)
    }
}

/// An upload preset: defaults and limits applied to uploads that name it; `unsigned` ones need no signature.
public struct UploadPreset: Sendable, Equatable {
    public var name: String
    public var unsigned = false
    public var folder: String?
    /// Allowed formats (`png`, `jpg`…); nil allows any.
    public var formats: Set<String>?
    public var maxBytes: Int64?
    public var type: String?
    public var tags: [String] = []

    public init(name: String) {
        self.name = name
    }

    /// Parses `name:key=value,key=value;name2:…` (keys `unsigned`, `folder`, `formats` (`a|b`), `max_bytes`
    /// (bytes), `type`, `tags` (`a|b`)); nil with the reason for anything else.
    public static func parseList(_ text: String) -> Result<[String: UploadPreset], PresetError> {
        var presets: [String: UploadPreset] = [:]
        for entry in text.split(separator: ";") {
            let entry = entry.trimmingCharacters(in: " ")
            guard !entry.isEmpty else { continue }
            let parts = entry.split(separator: ":", maxSplits: 1)
            let name = parts[0].trimmingCharacters(in: " ")
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                return .failure(PresetError("preset name \"\(name)\" must be letters, digits, _ or -"))
            }
            var preset = UploadPreset(name: name)
            for option in parts.count > 1 ? parts[1].split(separator: ",") : [] {
                let pair = option.split(separator: "=", maxSplits: 1)
                let key = pair[0].trimmingCharacters(in: " ")
                let value = pair.count > 1 ? pair[1].trimmingCharacters(in: " ") : ""
                switch key {
                case "unsigned":
                    guard value == "true" || value == "false" else {
                        return .failure(PresetError("\(name): unsigned is true or false"))
                    }
                    preset.unsigned = value == "true"
                case "folder": preset.folder = value
                case "formats": preset.formats = Set(value.split(separator: "|").map { $0.lowercased() })
                case "max_bytes":
                    guard let bytes = Int64(value), bytes > 0 else {
                        return .failure(PresetError("\(name): max_bytes is a number of bytes"))
                    }
                    preset.maxBytes = bytes
                case "type":
                    guard value == "upload" || value == "authenticated" else {
                        return .failure(PresetError("\(name): type is upload or authenticated"))
                    }
                    preset.type = value
                case "tags": preset.tags = value.split(separator: "|").map(String.init)
                default: return .failure(PresetError("\(name): unknown option \"\(key)\""))
                }
            }
            presets[name] = preset
        }
        return .success(presets)
    }

    public struct PresetError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        Substring(self).trimmingCharacters(in: set)
    }
}
