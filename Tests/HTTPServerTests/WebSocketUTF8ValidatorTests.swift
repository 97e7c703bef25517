import Testing

@testable import HTTPServer

@Suite("WebSocket UTF-8 validator")
struct WebSocketUTF8ValidatorTests {
    /// Bytes that cover every character class, plus both ends of each range.
    static let representative: [UInt8] = [
        0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
        0xEF,
        0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
    ]

    static func swiftAccepts(_ bytes: [UInt8]) -> Bool { String(validating: bytes, as: UTF8.self) != nil }

    static func validates(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isComplete
    }

    /// The bytes that may follow `lead` in valid UTF-8, straight from the UTF8-octets ABNF of RFC 3629 §4.
    static func allowedAfter(_ lead: UInt8) -> [ClosedRange<UInt8>] {
        switch lead {
        case 0x00...0x7F: [0x00...0x7F, 0xC2...0xF4]  // a character is complete; any lead byte may follow
        case 0xC2...0xDF, 0xE1...0xEC, 0xEE...0xEF, 0xF1...0xF3: [0x80...0xBF]
        case 0xE0: [0xA0...0xBF]
        case 0xED: [0x80...0x9F]
        case 0xF0: [0x90...0xBF]
        case 0xF4: [0x80...0x8F]
        default: []  // 80..C1 and F5..FF never start a character
        }
    }

    @Test func agreesWithTheStandardLibraryOnEveryOneAndTwoByteInput() {
        for first in 0...255 {
            if Self.validates([UInt8(first)]) != Self.swiftAccepts([UInt8(first)]) { Issue.record("\(first)") }
            for second in 0...255 {
                let bytes = [UInt8(first), UInt8(second)]
                if Self.validates(bytes) != Self.swiftAccepts(bytes) { Issue.record("\(bytes)") }
            }
        }
    }

    @Test func agreesWithTheStandardLibraryOnThreeAndFourByteInputs() {
        for first in 0xC0...0xFF {
            for second in 0...255 {
                for third in Self.representative {
                    let three = [UInt8(first), UInt8(second), third]
                    if Self.validates(three) != Self.swiftAccepts(three) { Issue.record("\(three)") }
                    guard first >= 0xF0, Self.representative.contains(UInt8(second)) else { continue }
                    for fourth in Self.representative {
                        let four = three + [fourth]
                        if Self.validates(four) != Self.swiftAccepts(four) { Issue.record("\(four)") }
                    }
                }
            }
        }
    }

    @Test func failsAtTheFirstByteThatCannotBeContinued() {
        // Fail-fast: after every prefix, `validate` is false exactly when no continuation could make it valid.
        for first in 0...255 {
            for second in 0...255 {
                let prefix = [UInt8(first), UInt8(second)]
                var validator = UTF8Validator()
                validator.validate([prefix[0]])
                let result = validator.validate([prefix[1]])
                let allowed = Self.allowedAfter(prefix[0]).contains { $0.contains(prefix[1]) }
                if result != allowed { Issue.record("\(prefix)") }
            }
        }
    }

    @Test func knownSequences() {
        #expect(Self.validates(Array("Hello-µ@ßöäüàá-UTF-8!!".utf8)))
        #expect(Self.validates([0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5]))  // κόσμε
        #expect(Self.validates([0xF4, 0x8F, 0xBF, 0xBF]))  // U+10FFFF
        #expect(Self.validates([0xEF, 0xBF, 0xBF]))  // U+FFFF, a noncharacter but valid
        #expect(!Self.validates([0xF4, 0x90, 0x80, 0x80]))  // past U+10FFFF
        #expect(!Self.validates([0xED, 0xA0, 0x80]))  // surrogate U+D800
        #expect(!Self.validates([0xC0, 0x80]))  // overlong NUL
        #expect(!Self.validates([0xE0, 0x80, 0xAF]))  // overlong "/"
        #expect(!Self.validates([0xF8, 0x88, 0x80, 0x80, 0x80]))  // old 5-byte form
        #expect(!Self.validates([0x80]))  // lone continuation
    }

    @Test func rejectsAtTheOffendingByte() {
        var validator = UTF8Validator()
        let lead = validator.validate([0xED])
        #expect(lead)
        let second = validator.validate([0xA0])
        #expect(!second, "a surrogate fails on its second byte")
        #expect(!validator.isValid)
        let afterFailure = validator.validate(Array("fine".utf8))
        #expect(!afterFailure, "stays failed")
        validator.reset()
        let afterReset = validator.validate(Array("fine".utf8))
        #expect(afterReset && validator.isComplete)
    }

    @Test func isCompleteOnlyOnCharacterBoundaries() {
        let bytes = Array("€𝄞".utf8)
        var validator = UTF8Validator()
        var boundaries: [Int] = []
        for (index, byte) in bytes.enumerated() {
            let accepted = validator.validate([byte])
            #expect(accepted)
            if validator.isComplete { boundaries.append(index + 1) }
        }
        #expect(boundaries == [3, 7])
    }

    @Test func asciiFastPathFindsBadBytesAtEveryPosition() {
        for count in 0..<40 {
            let ascii = [UInt8](repeating: 0x41, count: count)
            #expect(!Self.validates(ascii + [0xFF] + ascii), "bad byte at \(count)")
            #expect(Self.validates(ascii + Array("é".utf8) + ascii), "é at \(count)")
            var validator = UTF8Validator()
            let accepted = validator.validate(ascii + [0xE2])
            #expect(accepted)
            #expect(!validator.isComplete, "pending sequence after \(count) ASCII bytes")
        }
    }

    @Test func splitsAnywhereAgreeWithWholeInput() {
        let texts: [[UInt8]] = [
            Array("aé€𝄞 mixed ASCII and multibyte text that is longer than eight bytes".utf8),
            Array("abcdefghijklmnop".utf8) + [0xED, 0xBF, 0xBF] + Array("tail".utf8),
        ]
        for bytes in texts {
            let whole = Self.validates(bytes)
            for split in 0...bytes.count {
                var validator = UTF8Validator()
                let first = validator.validate(Array(bytes[..<split]))
                let second = validator.validate(Array(bytes[split...]))
                #expect((first && second && validator.isComplete) == whole, "split at \(split)")
            }
        }
    }
}
