#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Settings {
    /// The file read when no `--config` is given, if it exists in the working directory.
    public static let defaultConfigPath = "chat.conf"

    /// Builds the settings from defaults, then the config file, then `CHAT_<SECTION>_<KEY>` environment
    /// variables, then `overrides` (flag values keyed by `section.key`, see `ParsedCommand.overrides`).
    ///
    /// - Parameter configPath: the file to read; it must exist. When nil, `./chat.conf` is read if present;
    ///   when empty, no file is read at all.
    /// - Throws: ``ConfigError`` naming the file and line, variable or flag, the key and the offending value.
    ///   Unknown keys in the file are errors; unknown environment variables are not (see
    ///   ``environmentWarnings(_:)``).
    public static func load(
        configPath: String?, environment: [String: String], overrides: [String: String]
    ) throws(ConfigError) -> Settings {
        try load(
            configPath: configPath, environment: environment, overrides: overrides,
            defaultConfigPath: defaultConfigPath)
    }

    static func load(
        configPath: String?, environment: [String: String], overrides: [String: String], defaultConfigPath: String
    ) throws(ConfigError) -> Settings {
        var settings = Settings()

        let path = configPath ?? (access(defaultConfigPath, F_OK) == 0 ? defaultConfigPath : nil)
        if let path, !path.isEmpty {
            let entries = try ConfigFileParser.parse(readFile(path), path: path, sections: sections)
            for entry in entries {
                try settings.apply(key: entry.key, value: entry.value, source: .file(path: path, line: entry.line))
            }
        }

        for definition in definitions {
            let variable = definition.environmentVariable
            if let value = environment[variable] {
                try settings.apply(key: definition.key, value: value, source: .environment(variable: variable))
            }
        }

        // Sorted so that, with several bad flags, the same one is reported every time.
        for (key, value) in overrides.sorted(by: { $0.key < $1.key }) {
            let source = definitionsByKey[key]?.flag.map { ConfigError.Source.flag("--" + $0) } ?? .override(key: key)
            try settings.apply(key: key, value: value, source: source)
        }
        return settings
    }

    /// Messages for `CHAT_<SECTION>_*` variables that match no setting — most likely typos, which would
    /// otherwise be ignored silently. Other `CHAT_*` variables may belong to other tools and are not reported.
    public static func environmentWarnings(_ environment: [String: String]) -> [String] {
        let known = Set(definitions.map(\.environmentVariable))
        let sectionPrefixes = sections.map { environmentPrefix + $0.uppercased() + "_" }
        return environment.keys.sorted().compactMap { variable in
            guard !known.contains(variable), sectionPrefixes.contains(where: { variable.hasPrefix($0) }) else {
                return nil
            }
            var message = "ignoring environment variable \(variable): no such setting"
            if let guess = ConfigText.suggestion(for: variable, among: known) {
                message += "; did you mean \(guess)?"
            }
            return message
        }
    }

    mutating func apply(key: String, value: String, source: ConfigError.Source) throws(ConfigError) {
        guard let definition = Self.definitionsByKey[key] else {
            throw ConfigError(source, Self.unknownKeyMessage(key))
        }
        do {
            try definition.apply(&self, value)
        } catch {
            throw ConfigError(
                source, "invalid value \(ConfigText.quoted(value)) for \(key): expected \(error.expected)")
        }
    }

    private static func unknownKeyMessage(_ key: String) -> String {
        var message = "unknown key \(ConfigText.quoted(key))"
        if !key.contains("."), let match = definitions.first(where: { $0.key.hasSuffix("." + key) }) {
            message += "; keys belong in a section: did you mean \"\(key)\" under [\(match.section)]?"
        } else if let guess = ConfigText.suggestion(for: key, among: definitions.map(\.key)) {
            message += "; did you mean \(ConfigText.quoted(guess))?"
        }
        return message
    }

    /// Config files are small; anything past this is not one.
    static let maximumFileSize = 1 << 20

    private static func readFile(_ path: String) throws(ConfigError) -> String {
        func failure(_ action: String) -> ConfigError {
            ConfigError(.file(path: path, line: nil), "cannot \(action) the configuration file: \(errorText(errno))")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open") }
        defer { close(fd) }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("read")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= maximumFileSize else {
                throw ConfigError(.file(path: path, line: nil), "file is larger than \(maximumFileSize >> 20) MiB")
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        // Decoding replaces invalid sequences, so a byte-for-byte match means the file was valid UTF-8.
        guard text.utf8.elementsEqual(bytes) else {
            throw ConfigError(.file(path: path, line: nil), "file is not valid UTF-8")
        }
        return text
    }

    private static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
