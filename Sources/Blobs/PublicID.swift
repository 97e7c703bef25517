import Security

/// Why a `public_id` or `folder` was refused. The description is the message for a 400 answer.
public enum PublicIDError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty(field: String)
    case tooLong(field: String, limit: Int)
    /// A character Cloudinary forbids (`? & # \ % < > +`) or a control character.
    case forbiddenCharacter(field: String, character: String)
    /// Leading or trailing whitespace or `/`, or an empty segment (`a//b`).
    case badSlashOrSpace(field: String)
    /// A `.` or `..` segment.
    case dotSegment(field: String)
    /// A folder segment of the form `v<digits>`, which delivery URLs would read as a version.
    case versionLikeFolder(field: String, segment: String)

    public var description: String {
        switch self {
        case .empty(let field): return "\(field) must not be empty"
        case .tooLong(let field, let limit): return "\(field) is longer than \(limit) characters"
        case .forbiddenCharacter(let field, let character):
            return "\(field) must not contain \(character)"
        case .badSlashOrSpace(let field):
            return "\(field) must not begin or end with '/' or whitespace, nor contain empty segments"
        case .dotSegment(let field): return "\(field) must not contain '.' or '..' segments"
        case .versionLikeFolder(let field, let segment):
            return "\(field) must not use '\(segment)' (v followed by digits) as a folder name"
        }
    }
}

/// Cloudinary public ids: validation and the naming rules of the Upload API.
///
/// Rules (Cloudinary's "Permitted naming conventions",
/// <https://cloudinary.com/documentation/ts_permitted_naming_conventions>): 1 to 255 characters (Unicode
/// scalars); any letter of any language, digits, and other printable characters except `? & # \ % < > +`,
/// which are forbidden; no control characters (C0, DEL, C1); must not begin or end with whitespace or `/`;
/// `/` separates folders, and a folder may not be named `v<digits>`. Where Cloudinary silently rewrites
/// (trims, replaces), this server refuses, and additionally refuses empty, `.` and `..` segments: a public
/// id never becomes a file system path here (bytes are stored by SHA-256), but it does become a URL path.
public enum PublicID {
    public static let maxLength = 255
    /// The characters Cloudinary's documentation calls "utterly forbidden".
    public static let forbiddenCharacters: Set<Unicode.Scalar> = ["?", "&", "#", "\\", "%", "<", ">", "+"]
    /// Length of a generated public id (`lfx2xgnzwzb6z3ecf0ti`).
    public static let randomLength = 20
    /// Length of the random suffix `unique_filename` adds (`sample_apvz1t`).
    public static let uniqueSuffixLength = 6

    /// Validates a complete public id (folders included).
    public static func validate(_ id: String, field: String = "public_id") throws(PublicIDError) {
        try validatePath(id, field: field, lastSegmentIsName: true)
    }

    /// Validates a `folder` parameter. A single trailing `/` is allowed and dropped (`photos/` is
    /// `photos`); the result is returned.
    @discardableResult
    public static func validateFolder(_ folder: String) throws(PublicIDError) -> String {
        var trimmed = Substring(folder)
        if trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        try validatePath(String(trimmed), field: "folder", lastSegmentIsName: false)
        return String(trimmed)
    }

    private static func validatePath(_ text: String, field: String, lastSegmentIsName: Bool) throws(PublicIDError) {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { throw .empty(field: field) }
        guard scalars.count <= maxLength else { throw .tooLong(field: field, limit: maxLength) }
        for scalar in scalars {
            if forbiddenCharacters.contains(scalar) {
                throw .forbiddenCharacter(field: field, character: "'\(scalar)'")
            }
            if isControl(scalar) {
                throw .forbiddenCharacter(field: field, character: "control character U+\(hex4(scalar.value))")
            }
        }
        if first == "/" || last == "/" || first.properties.isWhitespace || last.properties.isWhitespace {
            throw .badSlashOrSpace(field: field)
        }
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            if segment.isEmpty { throw .badSlashOrSpace(field: field) }
            if segment == "." || segment == ".." { throw .dotSegment(field: field) }
            let isFolder = !lastSegmentIsName || index < segments.count - 1
            if isFolder, CloudinarySignature.isVersionComponent(segment) {
                throw .versionLikeFolder(field: field, segment: String(segment))
            }
        }
    }

    /// C0 controls, DEL and C1 controls; also the line and paragraph separators, which break headers and logs.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
            || scalar.value == 0x2029
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: Generated names

    /// A random public id like Cloudinary's: 20 characters of `a-z0-9`, from the CSPRNG.
    public static func random() -> String {
        randomCharacters(randomLength)
    }

    /// `count` characters of `a-z0-9`, uniformly (rejection sampling, no modulo bias).
    public static func randomCharacters(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(count)
        while output.count < count {
            // 252 = 7 * 36: bytes at or above it would favour the first characters.
            for byte in SecureRandom.bytes(count - output.count + 8) where byte < 252 && output.count < count {
                output.append(alphabet[Int(byte % 36)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The name part of an uploaded file's name: the last path component (either separator: the Python SDK
    /// sends the path it was given, browsers on Windows may send `C:\…`).
    public static func baseName(_ filename: String) -> Substring {
        let name = filename.split(omittingEmptySubsequences: true) { $0 == "/" || $0 == "\\" }.last
        return name ?? ""
    }

    /// Cloudinary's `original_filename`: the base name without its extension (`/tmp/cat.photo.png` →
    /// `cat.photo`). Nil when nothing is left.
    public static func originalFilename(_ filename: String) -> String? {
        let stem = splitExtension(baseName(filename)).stem
        return stem.isEmpty ? nil : String(stem)
    }

    /// The extension of the base name (`png` of `cat.png`), lowercased; nil when there is none.
    public static func fileExtension(_ filename: String) -> String? {
        splitExtension(baseName(filename)).extension.map { $0.lowercased() }
    }

    private static func splitExtension(_ name: Substring) -> (stem: Substring, extension: Substring?) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, nil) }
        let ext = name[name.index(after: dot)...]
        guard !ext.isEmpty else { return (name, nil) }
        return (name[..<dot], ext)
    }

    /// A file name made usable as a public id: characters other than letters, digits, `-`, `_` and `.`
    /// become `_` (as Cloudinary does with "other special characters"), runs of them collapse, and `_`, `.`
    /// and whitespace are trimmed from both ends; cut to 200 scalars, leaving room for a folder and a suffix.
    public static func sanitizedName(_ name: Substring) -> String {
        var output = String.UnicodeScalarView()
        var lastWasReplacement = false
        for scalar in name.unicodeScalars {
            let keep =
                scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "-"
                || scalar == "_" || scalar == "."
            if keep {
                output.append(scalar)
                lastWasReplacement = false
            } else if !lastWasReplacement {
                output.append("_")
                lastWasReplacement = true
            }
        }
        var result = Substring(String(output))
        while let first = result.first, first == "_" || first == "." { result = result.dropFirst() }
        while let last = result.last, last == "_" || last == "." { result = result.dropLast() }
        return String(String.UnicodeScalarView(result.unicodeScalars.prefix(200)))
    }

    /// The public id of a new upload, following Cloudinary's Upload API rules
    /// (<https://cloudinary.com/documentation/image_upload_api_reference#upload_optional_parameters>):
    /// - `public_id` given: `folder/public_id` (the folder is prepended, fixed-folder mode);
    /// - else `use_filename` with a file name: the sanitized file name without extension, plus `_` and 6
    ///   random characters unless `unique_filename` is false;
    /// - else 20 random characters.
    ///
    /// Raw assets keep their extension in the public id (Cloudinary has no `format` for them, the id is the
    /// whole name): for a generated id the original file's extension is appended. The result is validated.
    public static func make(
        publicID: String?, folder: String?, useFilename: Bool, uniqueFilename: Bool, filename: String?,
        resourceType: ResourceType
    ) throws(PublicIDError) -> String {
        let prefix: String
        if let folder, !folder.isEmpty {
            prefix = try validateFolder(folder) + "/"
        } else {
            prefix = ""
        }
        if let publicID, !publicID.isEmpty {
            try validate(publicID)
            let id = prefix + publicID
            try validate(id)
            return id
        }
        var name = ""
        if useFilename, let filename {
            let base = baseName(filename)
            let parts = splitExtension(base)
            name = sanitizedName(parts.stem)
            if !name.isEmpty, uniqueFilename {
                name += "_" + randomCharacters(uniqueSuffixLength)
            }
        }
        if name.isEmpty { name = random() }
        if resourceType == .raw, let filename, let ext = splitExtension(baseName(filename)).extension {
            let cleanExtension = sanitizedName(ext)
            if !cleanExtension.isEmpty { name += "." + cleanExtension }
        }
        let id = prefix + name
        try validate(id)
        return id
    }
}
