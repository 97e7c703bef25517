import Foundation
import Testing

@testable import ChatServer

/// `chat.conf.example` at the repository root, found by walking up from this source file.
private func exampleFile() throws -> String {
    var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while directory.path != "/" {
        let candidate = directory.appendingPathComponent("chat.conf.example")
        if FileManager.default.fileExists(atPath: candidate.path) {
            return try String(contentsOf: candidate, encoding: .utf8)
        }
        directory = directory.deletingLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile)
}

/// The example with each commented-out setting (`# key = default`) turned into a real line. Prose
/// comments never have that shape: a lower-case word directly followed by ` =`.
private func uncommentedSettings(_ text: String) -> (text: String, keys: [String]) {
    var section = ""
    var keys: [String] = []
    var lines: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("[") {
            section = String(line.dropFirst().prefix { $0 != "]" })
            lines.append(String(line))
            continue
        }
        guard line.hasPrefix("# ") else {
            lines.append(String(line))
            continue
        }
        let body = line.dropFirst(2)
        let name = body.prefix { $0.isLowercase || $0 == "_" }
        if !name.isEmpty, body.dropFirst(name.count).hasPrefix(" =") {
            keys.append("\(section).\(name)")
            lines.append(String(body))
        } else {
            lines.append(String(line))
        }
    }
    return (lines.joined(separator: "\n"), keys)
}

@Suite struct ConfigExampleTests {
    @Test func documentsEveryKeyExactlyOnce() throws {
        let (_, keys) = uncommentedSettings(try exampleFile())
        #expect(keys == Settings.keys)
    }

    @Test func itsDocumentedValuesAreTheDefaults() throws {
        let (text, _) = uncommentedSettings(try exampleFile())
        let path = try makeConfigTestFile(text)
        let settings = try Settings.load(configPath: path, environment: [:], overrides: [:])
        #expect(settings == Settings())
    }

    @Test func asShippedItChangesNothing() throws {
        let path = try makeConfigTestFile(try exampleFile())
        #expect(try Settings.load(configPath: path, environment: [:], overrides: [:]) == Settings())
    }

    @Test func namesTheFlagOfEachSettingThatHasOne() throws {
        let text = try exampleFile()
        for definition in Settings.definitions {
            guard let flag = definition.flag else { continue }
            #expect(text.contains("Flag: --\(flag)"), "\(definition.key)")
        }
    }
}
