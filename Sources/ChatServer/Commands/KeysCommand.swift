import Security

/// `chat keys generate|rotate|list`: the RSA keys that sign access tokens.
struct KeysCommand {
    let settings: Settings
    let subcommand: String?

    func run() throws {
        try DataDirectory.create(settings.server.dataDir)
        let now = KeyRing.currentTime()
        guard let ring = try existingRing() else {
            // No key yet (the server has never started here): generate and rotate create the first one.
            guard subcommand == "generate" || subcommand == "rotate" else {
                Console.output("no keys yet: the server generates one on its first start\n")
                return
            }
            let created = try KeyRing(directory: settings.keysDirectory, generateIfEmpty: true)
            Console.output("generated key \(created.active.kid) (the first signing key)\n")
            return
        }
        switch subcommand ?? "list" {
        case "generate":
            let kid = try ring.generate(now: now)
            Console.output("generated key \(kid); it signs new tokens from the next server start\n")
        case "rotate":
            let (old, new) = try ring.rotate(now: now)
            let retired = old.map { "; \($0) retired, still verifying for \(settings.auth.accessTTL)" } ?? ""
            Console.output("new signing key \(new)\(retired). Restart the server to use it.\n")
        case "list":
            let active = ring.active.kid
            for key in ring.list() {
                let state =
                    key.kid == active ? "active" : key.retiredAt.map { "retired at \(Self.date($0))" } ?? "standby"
                Console.output("\(key.kid)  RSA-\(key.bits)  created \(Self.date(key.createdAt))  \(state)\n")
            }
        default:
            throw MigrateCommand.Failure(description: "unknown keys subcommand")
        }
    }

    /// The key ring in the keys directory, or nil when it holds no key yet.
    private func existingRing() throws -> KeyRing? {
        let result = Result { () throws(KeyRingError) -> KeyRing in
            try KeyRing(directory: settings.keysDirectory, generateIfEmpty: false)
        }
        switch result {
        case .success(let ring): return ring
        case .failure(.noActiveKey): return nil
        case .failure(let error): throw error
        }
    }

    /// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (no Foundation date formatting needed).
    static func date(_ seconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        // Civil from days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }
}
