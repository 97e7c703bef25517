import CCrypt
import COpenSSL
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a password could not be hashed.
public enum BCryptError: Error, Sendable, Equatable {
    /// Costs outside 4...31 are not bcrypt.
    case invalidCost(Int)
    /// bcrypt stops at the first NUL byte, so everything after it would be silently ignored.
    case passwordContainsNUL
    /// libcrypt refused to produce a salt or hash.
    case hashingFailed
}

/// bcrypt password hashing (Provos & Mazières, "$2b$") through libxcrypt's `crypt_r`.
///
/// bcrypt uses only the first 72 bytes of the UTF-8 password: longer passwords are accepted, and
/// two passwords that share their first 72 bytes hash alike. Callers that allow longer passwords
/// should cap the length (or pre-hash) at the account layer. Passwords containing NUL are rejected
/// by ``hash(_:cost:)`` and never verify, because C strings end there.
public enum BCrypt {
    /// libxcrypt's accepted bcrypt work factors (log2 of the rounds).
    public static let costRange = 4...31

    /// Hashes `password` with a fresh 128-bit salt from ``SecureRandom`` at `cost`. Returns the
    /// 60-character modular crypt string, e.g. `$2b$12$<22 salt chars><31 hash chars>`.
    public static func hash(_ password: String, cost: Int) throws(BCryptError) -> String {
        guard costRange.contains(cost) else { throw .invalidCost(cost) }
        guard !password.utf8.contains(0) else { throw .passwordContainsNUL }
        let random = SecureRandom.bytes(16)
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        let generated = random.withUnsafeBufferPointer { random in
            random.withMemoryRebound(to: CChar.self) { random in
                crypt_gensalt_rn(
                    "$2b$", UInt(cost), random.baseAddress, Int32(random.count), &setting, Int32(setting.count))
            }
        }
        guard generated != nil else { throw .hashingFailed }
        let settingString = String(decoding: setting.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let hash = crypt(password, setting: settingString), parse(hash) != nil else { throw .hashingFailed }
        return hash
    }

    /// Whether `password` matches `hash`. Any malformed or unsupported hash is `false`: only
    /// well-formed `$2a$`, `$2b$` and `$2y$` strings are handed to libcrypt, so its failure tokens
    /// ("*0", "*1") and other algorithms (md5-crypt, sha512-crypt, DES) can never match.
    public static func verify(_ password: String, hash: String) -> Bool {
        guard parse(hash) != nil, !password.utf8.contains(0), let computed = crypt(password, setting: hash) else {
            return false
        }
        return constantTimeEqual(computed.utf8, hash.utf8)
    }

    /// The cost factor of a well-formed bcrypt hash (`12` for `$2b$12$...`), or nil.
    public static func cost(of hash: String) -> Int? {
        parse(hash)
    }

    /// A valid hash of a random, discarded password at `cost`, computed once per cost.
    ///
    /// Verify login attempts for unknown users against it so they take as long as for real users,
    /// and do not reveal which accounts exist. Traps on a cost outside ``costRange`` (a programming
    /// error) or if libcrypt cannot hash at all.
    public static func dummyHash(cost: Int) -> String {
        precondition(costRange.contains(cost), "bcrypt cost \(cost) outside \(costRange)")
        if let cached = dummyHashes.withLock({ $0[cost] }) { return cached }
        // Computed outside the lock: a concurrent first call merely hashes twice, and the first stored wins.
        guard let fresh = try? hash(SecureRandom.token(), cost: cost) else {
            fatalError("bcrypt hashing unavailable")
        }
        return dummyHashes.withLock { cache in
            if let existing = cache[cost] { return existing }
            cache[cost] = fresh
            return fresh
        }
    }

    private static let dummyHashes = Mutex<[Int: String]>([:])

    private static let saltAlphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Checks the exact shape `$2[aby]$NN$` + 53 bcrypt-base64 characters and returns the cost.
    private static func parse(_ hash: String) -> Int? {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
            [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
            bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
            let tens = digit(bytes[4]), let ones = digit(bytes[5]),
            bytes[7...].allSatisfy({ saltAlphabet.contains($0) })
        else { return nil }
        let cost = tens * 10 + ones
        return costRange.contains(cost) ? cost : nil
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// `crypt_r(password, setting)`, or nil when libcrypt fails (NULL or a "*" failure token).
    private static func crypt(_ password: String, setting: String) -> String? {
        // struct crypt_data is ~32 KiB: too big for a thread stack frame, so it lives on the heap.
        // It must start zeroed, and is wiped afterwards because it holds password-derived state.
        let size = MemoryLayout<crypt_data>.size
        let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<crypt_data>.alignment)
        memset(data, 0, size)
        defer {
            OPENSSL_cleanse(data, size)
            data.deallocate()
        }
        let typed = data.bindMemory(to: crypt_data.self, capacity: 1)
        guard let output = crypt_r(password, setting, typed) else { return nil }
        let result = String(cString: output)
        return result.hasPrefix("$2") ? result : nil
    }
}
