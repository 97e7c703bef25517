/// The base64url encoding of RFC 4648 §5 without padding, as JOSE uses it (RFC 7515 §2).
///
/// Decoding is strict, so that every byte string has exactly one accepted text form (tokens are
/// compared and logged as text): padding, whitespace, characters outside the URL-safe alphabet,
/// impossible lengths (4n+1) and non-zero trailing bits (RFC 4648 §3.5) are all rejected.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Sextet value of each byte, or 0xFF for bytes outside the alphabet.
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in alphabet.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()

    /// Encodes `bytes` as unpadded base64url.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let input = Array(bytes)
        let outputCount = (input.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: outputCount) { output in
            var out = 0
            var index = 0
            while index + 3 <= input.count {
                let group = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                output[out] = alphabet[Int(group >> 18 & 0x3F)]
                output[out + 1] = alphabet[Int(group >> 12 & 0x3F)]
                output[out + 2] = alphabet[Int(group >> 6 & 0x3F)]
                output[out + 3] = alphabet[Int(group & 0x3F)]
                out += 4
                index += 3
            }
            switch input.count - index {
            case 1:
                let group = UInt32(input[index]) << 16
                output[out] = alphabet[Int(group >> 18 & 0x3F)]
                output[out + 1] = alphabet[Int(group >> 12 & 0x3F)]
                out += 2
            case 2:
                let group = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
                output[out] = alphabet[Int(group >> 18 & 0x3F)]
                output[out + 1] = alphabet[Int(group >> 12 & 0x3F)]
                output[out + 2] = alphabet[Int(group >> 6 & 0x3F)]
                out += 3
            default:
                break
            }
            return out
        }
    }

    /// Decodes unpadded base64url, or returns nil if `text` is not in canonical form.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        if let result = text.utf8.withContiguousStorageIfAvailable({ decode(bytes: $0) }) {
            return result
        }
        return Array(text.utf8).withUnsafeBufferPointer { decode(bytes: $0) }
    }

    static func decode(bytes input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let remainder = input.count % 4
        // One leftover character carries only 6 bits: no byte string encodes to that length.
        guard remainder != 1 else { return nil }
        let outputCount = input.count / 4 * 3 + (remainder == 0 ? 0 : remainder - 1)
        var valid = true
        let output = [UInt8](unsafeUninitializedCapacity: outputCount) { output, initialized in
            initialized = 0
            var out = 0
            var index = 0
            var bad: UInt8 = 0
            while index + 4 <= input.count {
                let a = sextets[Int(input[index])]
                let b = sextets[Int(input[index + 1])]
                let c = sextets[Int(input[index + 2])]
                let d = sextets[Int(input[index + 3])]
                bad |= a | b | c | d
                let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                output[out] = UInt8(truncatingIfNeeded: group >> 16)
                output[out + 1] = UInt8(truncatingIfNeeded: group >> 8)
                output[out + 2] = UInt8(truncatingIfNeeded: group)
                out += 3
                index += 4
            }
            if remainder == 2 {
                let a = sextets[Int(input[index])]
                let b = sextets[Int(input[index + 1])]
                bad |= a | b
                // The last character's low 4 bits are padding and must be zero (canonical form).
                if bad & 0x80 == 0, b & 0x0F != 0 { valid = false }
                output[out] = UInt8(truncatingIfNeeded: UInt32(a) << 2 | UInt32(b) >> 4)
                out += 1
            } else if remainder == 3 {
                let a = sextets[Int(input[index])]
                let b = sextets[Int(input[index + 1])]
                let c = sextets[Int(input[index + 2])]
                bad |= a | b | c
                if bad & 0x80 == 0, c & 0x03 != 0 { valid = false }
                let group = UInt32(a) << 12 | UInt32(b) << 6 | UInt32(c)
                output[out] = UInt8(truncatingIfNeeded: group >> 10)
                output[out + 1] = UInt8(truncatingIfNeeded: group >> 2)
                out += 2
            }
            // Valid sextets are < 64, so bit 7 is set only if some byte was outside the alphabet.
            if bad & 0x80 != 0 { valid = false }
            initialized = out
        }
        return valid ? output : nil
    }
}
