import Storage

/// Realistic random accounts for `chat seed`: `first.last<number>` usernames (at most 8 + 1 + 10 + 7
/// = 26 characters), "First Last" display names, `<username>@example.com` addresses.
///
/// With 64 first names, 64 last names and numbers below 10,000,000 there are about 4·10¹⁰ usernames,
/// so a seed of 10,000 draws a duplicate with probability around 0.1 %; duplicates are redrawn.
enum SeedNames {
    static let firstNames = [
        "olivia", "liam", "emma", "noah", "amelia", "oliver", "ava", "elijah", "sophia", "james", "isabella",
        "william", "mia", "benjamin", "charlotte", "lucas", "harper", "henry", "evelyn", "theodore", "luna",
        "jack", "camila", "levi", "gianna", "alexander", "elizabeth", "jackson", "eleanor", "mateo", "ella",
        "daniel", "abigail", "michael", "sofia", "mason", "avery", "sebastian", "scarlett", "ethan", "emily",
        "logan", "aria", "owen", "penelope", "samuel", "chloe", "jacob", "layla", "asher", "mila", "aiden",
        "nora", "john", "hazel", "joseph", "madison", "wyatt", "ellie", "david", "lily", "leo", "nova", "aisha",
    ]

    static let lastNames = [
        "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez",
        "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin",
        "lee", "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson",
        "walker", "young", "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores", "green",
        "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell", "carter", "roberts", "müller",
        "schmidt", "dubois", "rossi", "kowalski", "novak", "silva", "santos", "tanaka", "sato", "kim", "park",
        "chen", "okafor",
    ]

    static let bios = [
        "", "", "", "Coffee first.", "Here for the group chats.", "Building things on weekends.",
        "Ask me about hiking.", "Probably on a train.", "Photographer and part-time gardener.",
        "Night owl.\nDay job: software.",
    ]

    static func record(
        passwordHash: String, now: Int64, using generator: inout some RandomNumberGenerator
    ) -> NewUserRecord {
        let first = firstNames.randomElement(using: &generator) ?? "user"
        let last = lastNames.randomElement(using: &generator) ?? "seed"
        let number = Int.random(in: 0..<10_000_000, using: &generator)
        // Usernames are ASCII only: strip the umlaut the display name keeps.
        let username = "\(first).\(asciiFolded(last))\(number)"
        return NewUserRecord(
            username: username, email: "\(username)@example.com",
            displayName: "\(capitalized(first)) \(capitalized(last))",
            bio: bios.randomElement(using: &generator) ?? "", passwordHash: passwordHash, createdAt: now)
    }

    private static func capitalized(_ name: String) -> String {
        name.prefix(1).uppercased() + name.dropFirst()
    }

    private static func asciiFolded(_ name: String) -> String {
        String(name.map { $0 == "ü" ? "u" : $0 })
    }
}
