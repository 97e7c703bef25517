/// The contract's input rules for accounts, as pure functions.
///
/// Each `...Error` function returns the message for a bad value or nil; the `validate...` functions
/// normalize a whole request and throw ``AccountError/validation(_:)`` naming every bad field at once.
public enum AccountValidation {
    public static let usernameLength = 3...32
    public static let emailMaximumBytes = 254
    public static let passwordBytes = 8...128
    public static let displayNameLength = 1...64
    public static let bioMaximumLength = 500
    public static let avatarURLMaximumBytes = 2048
    public static let searchLimits = 1...100
    /// Prefix of the usernames given to deleted accounts.
    public static let deletedUsernamePrefix = "deleted-"

    // MARK: Normalization

    /// Lower-cased, so `Alice` registers (and logs in) as `alice`.
    public static func normalizeUsername(_ raw: String) -> String { raw.lowercased() }

    /// Trimmed, with the domain lower-cased; the local part is kept as typed.
    public static func normalizeEmail(_ raw: String) -> String {
        let email = trimmed(raw)
        guard let at = email.lastIndex(of: "@") else { return email }
        return String(email[...at]) + email[email.index(after: at)...].lowercased()
    }

    public static func normalizeDisplayName(_ raw: String) -> String { trimmed(raw) }

    /// `text` without leading and trailing whitespace (Unicode `White_Space`, newlines included).
    public static func trimmed(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(text[first...last])
    }

    // MARK: Rules (on normalized values)

    public static func usernameError(_ username: String) -> String? {
        guard usernameLength.contains(username.count) else {
            return "must be \(usernameLength.lowerBound) to \(usernameLength.upperBound) characters"
        }
        guard username.unicodeScalars.allSatisfy(isUsernameScalar) else {
            return "may contain only letters a-z, digits, '_', '.' and '-'"
        }
        // Deleted accounts are renamed `deleted-<id>`: a live account holding such a name would make
        // that rename fail, and would pass for a deleted one.
        if username.hasPrefix(deletedUsernamePrefix),
            username.dropFirst(deletedUsernamePrefix.count).allSatisfy({ $0.isASCII && $0.isNumber })
        {
            return "is reserved"
        }
        return nil
    }

    private static func isUsernameScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "0"..."9", "_", ".", "-": return true
        default: return false
        }
    }

    public static func emailError(_ email: String) -> String? {
        guard email.utf8.count <= emailMaximumBytes else { return "must be at most \(emailMaximumBytes) bytes" }
        guard !email.unicodeScalars.contains(where: { $0.isControl || $0.properties.isWhitespace }) else {
            return "must not contain spaces or control characters"
        }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last, !local.isEmpty,
            !domain.isEmpty, domain.contains(".")
        else { return "must be an email address" }
        return nil
    }

    /// `username` is the account's normalized username, which the password must not equal.
    public static func passwordError(_ password: String, username: String) -> String? {
        let bytes = password.utf8.count
        guard passwordBytes.contains(bytes) else {
            return "must be \(passwordBytes.lowerBound) to \(passwordBytes.upperBound) bytes"
        }
        guard !password.utf8.contains(0) else { return "must not contain NUL characters" }
        guard password.lowercased() != username.lowercased() else { return "must not be the username" }
        return nil
    }

    public static func displayNameError(_ displayName: String) -> String? {
        guard displayNameLength.contains(displayName.count) else {
            return "must be \(displayNameLength.lowerBound) to \(displayNameLength.upperBound) characters"
        }
        guard !displayName.unicodeScalars.contains(where: \.isControl) else {
            return "must not contain control characters"
        }
        return nil
    }

    public static func bioError(_ bio: String) -> String? {
        guard bio.count <= bioMaximumLength else { return "must be at most \(bioMaximumLength) characters" }
        // Line breaks are the one kind of control character a multi-line bio needs (CR for CRLF).
        guard !bio.unicodeScalars.contains(where: { $0.isControl && $0 != "\n" && $0 != "\r" }) else {
            return "must not contain control characters other than newlines"
        }
        return nil
    }

    public static func avatarURLError(_ url: String) -> String? {
        guard !url.isEmpty else { return nil }
        guard url.utf8.count <= avatarURLMaximumBytes else { return "must be at most \(avatarURLMaximumBytes) bytes" }
        guard !url.unicodeScalars.contains(where: { $0.isControl || $0.properties.isWhitespace }) else {
            return "must not contain spaces or control characters"
        }
        let lowered = url.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            rest = url.dropFirst("https://".count)
        } else if lowered.hasPrefix("http://") {
            rest = url.dropFirst("http://".count)
        } else {
            return "must be an http:// or https:// URL"
        }
        guard let first = rest.first, first != "/", first != "?", first != "#" else { return "must name a host" }
        return nil
    }

    // MARK: Requests

    /// A registration (or admin-created account) after validation.
    public struct NewAccount: Sendable, Equatable {
        public var username: String
        public var email: String
        public var password: String
        public var displayName: String
    }

    /// Validates a registration: username, email, password and an optional display name, which
    /// defaults to the username when absent.
    public static func validateRegistration(
        username rawUsername: String, email rawEmail: String, password: String, displayName rawDisplayName: String?
    ) throws(AccountError) -> NewAccount {
        let username = normalizeUsername(rawUsername)
        let email = normalizeEmail(rawEmail)
        let displayName = rawDisplayName.map(normalizeDisplayName) ?? username
        var fields: [String: String] = [:]
        fields["username"] = usernameError(username)
        fields["email"] = emailError(email)
        fields["password"] = passwordError(password, username: username)
        if rawDisplayName != nil {
            fields["display_name"] = displayNameError(displayName)
        }
        guard fields.isEmpty else { throw .validation(fields) }
        return NewAccount(username: username, email: email, password: password, displayName: displayName)
    }

    /// Validates a profile update; nil fields are left unchanged. Returns the normalized values.
    public static func validateProfileChanges(
        displayName rawDisplayName: String?, bio: String?, avatarURL: String?
    ) throws(AccountError) -> (displayName: String?, bio: String?, avatarURL: String?) {
        let displayName = rawDisplayName.map(normalizeDisplayName)
        var fields: [String: String] = [:]
        fields["display_name"] = displayName.flatMap(displayNameError)
        fields["bio"] = bio.flatMap(bioError)
        fields["avatar_url"] = avatarURL.flatMap(avatarURLError)
        guard fields.isEmpty else { throw .validation(fields) }
        return (displayName, bio, avatarURL)
    }

    /// A login needs both fields; their content is checked by the credentials alone.
    public static func validateLogin(login: String, password: String) throws(AccountError) {
        var fields: [String: String] = [:]
        if trimmed(login).isEmpty { fields["login"] = "is required" }
        if password.isEmpty { fields["password"] = "is required" }
        guard fields.isEmpty else { throw .validation(fields) }
    }

    public static func searchLimitError(_ limit: Int) -> String? {
        searchLimits.contains(limit) ? nil : "must be from \(searchLimits.lowerBound) to \(searchLimits.upperBound)"
    }
}
