import Security

/// The digest a Cloudinary signature is made with (`signature_algorithm` in the SDKs' configuration).
public enum SignatureAlgorithm: String, Sendable, Equatable, CaseIterable {
    case sha1
    case sha256

    /// The algorithm of a hex Upload API signature, told by its length: 40 hex digits are SHA-1, 64 are
    /// SHA-256 (nil for anything else).
    public init?(hexSignatureLength length: Int) {
        switch length {
        case 40: self = .sha1
        case 64: self = .sha256
        default: return nil
        }
    }

    func digest(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: return Digest.sha1(bytes)
        case .sha256: return Digest.sha256(bytes)
        }
    }
}

/// Cloudinary's request, response and delivery-URL signatures, exactly as the official Python SDK
/// (`cloudinary` 1.46.3, `cloudinary/utils.py`) computes them, so that an application signing with any
/// Cloudinary SDK is accepted.
///
/// Upload API requests (<https://cloudinary.com/documentation/authentication_signatures>), as
/// `api_sign_request`/`api_string_to_sign` with the default `signature_version=2`:
/// - every sent parameter except `file`, `api_key`, `signature`, `resource_type` and `cloud_name`
///   (the last two are part of the URL path, never parameters);
/// - parameters with an empty value are left out (the SDK drops every falsy value: `""`, `None`, `[]`;
///   booleans are sent and signed as `"1"`/`"0"`, so a `"0"` is signed);
/// - a list value (sent as repeated `name[]` fields) is signed once as `name=v1,v2` (joined by `,`);
/// - each parameter is written `name=value` and then every `&` in that text becomes `%26` (the
///   parameter-smuggling fix of signature version 2; `=` and everything else stay as they are);
/// - these strings are sorted as whole strings by code point (not by name: `tag2=…` sorts before
///   `tag=…` because `2` < `=`), joined by `&`, the API secret is appended, and the result is hashed
///   as UTF-8 with SHA-1 (40 hex digits) or SHA-256 (64 hex digits), lowercase hex.
///
/// Worked example of Cloudinary's documentation:
/// `eager=w_400,h_300,c_pad|w_260,h_200,c_crop&public_id=sample_image&timestamp=1315060510` + `abcd`
/// → SHA-1 `bfd09f95f331f558cbd1320e67aa8d488770583e`.
public enum CloudinarySignature {
    /// Parameters that are sent but never signed.
    public static let unsignedParameters: Set<String> = ["file", "api_key", "signature", "resource_type", "cloud_name"]

    // MARK: Upload API requests

    /// The string to sign from the fields of a request, in the order received.
    ///
    /// A field named `name[]` is one element of the list `name`; the elements are joined by `,` in the
    /// order received. A plain name given more than once keeps its last value (a form parser's usual
    /// rule; the SDKs never repeat a plain name).
    public static func stringToSign(fields: [(name: String, value: String)]) -> String {
        var parameters: [String: String] = [:]
        var lists: [String: [String]] = [:]
        for (name, value) in fields {
            if name.hasSuffix("[]") {
                let listName = String(name.dropLast(2))
                parameters[listName] = nil
                lists[listName, default: []].append(value)
            } else {
                lists[name] = nil
                parameters[name] = value
            }
        }
        for (name, list) in lists {
            parameters[name] = list.joined(separator: ",")
        }
        return stringToSign(parameters: parameters)
    }

    /// The string to sign from parameters whose list values are already joined by `,`.
    public static func stringToSign(parameters: [String: String]) -> String {
        var pairs: [String] = []
        pairs.reserveCapacity(parameters.count)
        for (name, value) in parameters where !value.isEmpty && !unsignedParameters.contains(name) {
            pairs.append(escapeAmpersands(name + "=" + value))
        }
        // Python's sorted() on str: code point order, which is the order of the UTF-8 bytes.
        pairs.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return pairs.joined(separator: "&")
    }

    /// Lowercase hex digest of `stringToSign` followed by `secret`.
    public static func sign(_ stringToSign: String, secret: String, algorithm: SignatureAlgorithm = .sha1) -> String {
        hex(algorithm.digest(Array((stringToSign + secret).utf8)))
    }

    /// The signature of a request with these fields.
    public static func sign(
        fields: [(name: String, value: String)], secret: String, algorithm: SignatureAlgorithm = .sha1
    ) -> String {
        sign(stringToSign(fields: fields), secret: secret, algorithm: algorithm)
    }

    /// Whether `signature` (40 or 64 hex digits, either case) signs `stringToSign` under `secret`. The
    /// algorithm follows from the length; the comparison takes time independent of where the digests differ.
    public static func isValid(signature: String, stringToSign: String, secret: String) -> Bool {
        guard let algorithm = SignatureAlgorithm(hexSignatureLength: signature.utf8.count) else { return false }
        let expected = sign(stringToSign, secret: secret, algorithm: algorithm)
        return constantTimeEqual(Array(signature.lowercased().utf8), Array(expected.utf8))
    }

    /// Whether `signature` signs a request with these fields (``stringToSign(fields:)``).
    public static func isValid(signature: String, fields: [(name: String, value: String)], secret: String) -> Bool {
        isValid(signature: signature, stringToSign: stringToSign(fields: fields), secret: secret)
    }

    // MARK: Upload API responses

    /// The `signature` field of an upload response: hex digest of `public_id=<id>&version=<version>` +
    /// secret, as the SDK's `verify_api_response_signature` checks it. That uses signature version 1, so
    /// an `&` in the public id is *not* escaped here.
    public static func responseSignature(
        publicID: String, version: Int64, secret: String, algorithm: SignatureAlgorithm = .sha1
    ) -> String {
        var pairs = ["public_id=" + publicID, "version=" + String(version)]
        pairs.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return sign(pairs.joined(separator: "&"), secret: secret, algorithm: algorithm)
    }

    // MARK: Delivery URLs

    /// Characters of a signature component: 8 (the default) or 32 (`long_url_signature=True`, always SHA-256).
    public static let shortURLSignatureLength = 8
    public static let longURLSignatureLength = 32

    /// The `s--…--` path component of a signed delivery URL, as `cloudinary_url(..., sign_url=True)`
    /// builds it: the first 8 characters (32 with `long`, which forces SHA-256) of the padded URL-safe
    /// base64 of digest(`toSign` + secret).
    ///
    /// `toSign` is the part of the path after the signature without the version component:
    /// `[<transformation>/]<escaped public id>[.<format>]`, with the public id escaped by
    /// ``smartEscape(_:)`` (as it appears in the URL). The version (`v123/`) is never signed.
    public static func deliverySignature(
        toSign: String, secret: String, algorithm: SignatureAlgorithm = .sha1, long: Bool = false
    ) -> String {
        let digest = (long ? SignatureAlgorithm.sha256 : algorithm).digest(Array((toSign + secret).utf8))
        // Base64URL omits padding; the first 8 or 32 characters of a 20- or 32-byte digest never include it.
        let encoded = Base64URL.encode(digest)
        return "s--" + encoded.prefix(long ? longURLSignatureLength : shortURLSignatureLength) + "--"
    }

    /// The signed part of a delivery path: `components` are the path components after the signature
    /// (`[transformation…, ][v<version>, ]<public id components…>.<ext>`), still percent-encoded as
    /// received; the first component of the form `v<digits>` (the version) is dropped.
    public static func signedPath(afterSignature components: [Substring]) -> String {
        var kept = components
        if let index = kept.firstIndex(where: isVersionComponent) { kept.remove(at: index) }
        return kept.joined(separator: "/")
    }

    /// Whether `component` (`s--XXXXXXXX--`, as found in the path) signs a delivery path whose components
    /// after the signature are `components` (raw, percent-encoded as received).
    ///
    /// Accepts 8-character signatures made with SHA-1 or SHA-256 (the SDK's `signature_algorithm` may be
    /// either) and 32-character ones made with SHA-256. Tries the path without its version component
    /// first, then the whole path (a public id whose first folder looks like a version, for which the SDK
    /// adds no version component); both strings were signed with the secret, so either proves the URL
    /// came from someone holding it.
    public static func isValidDelivery(
        signatureComponent component: Substring, pathAfterSignature components: [Substring], secret: String
    ) -> Bool {
        guard component.hasPrefix("s--"), component.hasSuffix("--"), component.utf8.count > 5 else { return false }
        let given = Array(component.utf8)
        let long = given.count - 5 == longURLSignatureLength
        guard long || given.count - 5 == shortURLSignatureLength else { return false }
        var candidates = [signedPath(afterSignature: components)]
        let whole = components.joined(separator: "/")
        if whole != candidates[0] { candidates.append(whole) }
        let algorithms: [SignatureAlgorithm] = long ? [.sha256] : [.sha1, .sha256]
        var valid = false
        for toSign in candidates {
            for algorithm in algorithms {
                let expected = deliverySignature(toSign: toSign, secret: secret, algorithm: algorithm, long: long)
                // No early exit: every candidate is computed and compared in constant time.
                valid = constantTimeEqual(given, Array(expected.utf8)) || valid
            }
        }
        return valid
    }

    /// Whether `component` is a version path component, `v` followed by one or more ASCII digits.
    public static func isVersionComponent(_ component: Substring) -> Bool {
        let bytes = component.utf8
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "v") else { return false }
        return bytes.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// The SDK's `smart_escape`: percent-encodes (uppercase hex) every UTF-8 byte except ASCII letters,
    /// digits and `_ . - / :`, so that `my file ü` becomes `my%20file%20%C3%BC`. Delivery URLs carry public
    /// ids in this form, and it is the form that is signed.
    public static func smartEscape(_ text: String) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"),
                UInt8(ascii: "/"), UInt8(ascii: ":"):
                output.append(byte)
            default:
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: Helpers

    static func escapeAmpersands(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "&")) else { return text }
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + 4)
        for byte in text.utf8 {
            if byte == UInt8(ascii: "&") {
                output.append(contentsOf: "%26".utf8)
            } else {
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
