/// One schema change: SQL to apply it (`up`) and, optionally, SQL to revert it (`down`).
///
/// The checksum fingerprints `up` so that editing a migration after it was applied somewhere is
/// detected instead of silently leaving databases with different schemas.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let up: String
    public let down: String?
    /// SHA-256 of the UTF-8 bytes of `up`, as 64 lowercase hex digits.
    public let checksum: String
    /// The file `up` came from, for error messages (`"0001_init.up.sql"` by default).
    public let upFileName: String

    public init(version: Int, name: String, up: String, down: String? = nil, upFileName: String? = nil) {
        self.version = version
        self.name = name
        self.up = up
        self.down = down
        self.checksum = SHA256.hexDigest(up)
        self.upFileName = upFileName ?? MigrationFileName(version: version, name: name, direction: .up).fileName
    }
}

/// Whether a migration file applies or reverts its change.
public enum MigrationDirection: String, Sendable {
    case up, down
}

/// The parts of a migration file name: `<version>_<name>.<up|down>.sql`, e.g. `0001_init.up.sql`.
///
/// The version is decimal digits (zero-padding is customary, so files sort in order); the name is
/// letters, digits, `_` and `-`.
public struct MigrationFileName: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let direction: MigrationDirection

    public init(version: Int, name: String, direction: MigrationDirection) {
        self.version = version
        self.name = name
        self.direction = direction
    }

    /// The canonical file name, with the version padded to 4 digits.
    public var fileName: String {
        let digits = String(version)
        let padded = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        return "\(padded)_\(name).\(direction.rawValue).sql"
    }
}

/// Where a known migration stands in one database.
public struct MigrationStatus: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case pending
        /// `appliedAt` is the UTC time of application, ISO 8601 (`2025-01-31T12:00:00.000Z`).
        case applied(appliedAt: String)
        /// Applied to the database but unknown to this binary: the database is newer.
        case unknown(appliedAt: String)
    }

    public let version: Int
    public let name: String
    public let state: State
    /// For applied migrations: whether the checksum recorded at application matches the file now.
    /// Always true for pending ones, false for unknown ones.
    public let checksumMatches: Bool
}

/// Why migrations could not be loaded, checked, applied or reverted.
public enum MigrationError: Error, Equatable, CustomStringConvertible {
    case invalidFileName(String, reason: String)
    case duplicateVersion(Int, files: [String])
    /// Two files of one version disagree on the name (`0002_a.up.sql` / `0002_b.down.sql`).
    case nameMismatch(version: Int, upFile: String, downFile: String)
    case missingUp(version: Int, downFile: String)
    /// Versions must run 1, 2, 3, ... without gaps, so a missing file is caught.
    case versionGap(missing: Int)
    /// An applied migration's up SQL changed since it was applied.
    case checksumMismatch(version: Int, file: String, applied: String, current: String)
    /// The database has a migration this binary does not know: it is newer than the binary.
    case unknownAppliedVersion(version: Int, name: String)
    case missingDown(version: Int, name: String)
    case unknownTarget(Int)
    /// `up(to:)` with a target below the current version; use `down` to go back.
    case targetBelowCurrent(target: Int, current: Int)
    case invalidStepCount(Int)
    /// Migrations run each in its own transaction, so they cannot start inside one.
    case insideTransaction
    case unreadableFile(String, reason: String)

    public var description: String {
        switch self {
        case .invalidFileName(let file, let reason):
            return "invalid migration file name \(file): \(reason)"
        case .duplicateVersion(let version, let files):
            return "migration version \(version) is used by several files: \(files.joined(separator: ", "))"
        case .nameMismatch(let version, let upFile, let downFile):
            return "migration \(version): \(upFile) and \(downFile) have different names"
        case .missingUp(let version, let downFile):
            return "migration \(version): \(downFile) has no matching .up.sql file"
        case .versionGap(let missing):
            return "migration version \(missing) is missing: versions must be 1, 2, 3, ... without gaps"
        case .checksumMismatch(let version, let file, let applied, let current):
            return "migration \(version) (\(file)) was changed after it was applied: "
                + "checksum \(current) differs from the applied \(applied); add a new migration instead"
        case .unknownAppliedVersion(let version, let name):
            return "the database has migration \(version) (\(name)) which this binary does not know: "
                + "the database is newer than the binary"
        case .missingDown(let version, let name):
            return "migration \(version) (\(name)) has no down SQL, so it cannot be reverted"
        case .unknownTarget(let target):
            return "there is no migration version \(target)"
        case .targetBelowCurrent(let target, let current):
            return "target version \(target) is below the current version \(current); use down to revert"
        case .invalidStepCount(let steps):
            return "cannot revert \(steps) migrations: the count must be at least 1"
        case .insideTransaction:
            return "migrations must not run inside a transaction: each one runs in its own"
        case .unreadableFile(let file, let reason):
            return "cannot read migration file \(file): \(reason)"
        }
    }
}
