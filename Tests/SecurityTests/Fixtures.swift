/// Static keys and vectors made once with the openssl CLI and Python, so tests check interop with
/// independent implementations rather than only round trips through this module.
enum Fixtures {
    /// 2048-bit RSA key in PKCS#1 form (`openssl genrsa -traditional 2048`); the interop vectors
    /// below were made from it with the openssl CLI.
    static let rsa2048PKCS1 = """
        -----BEGIN RSA PRIVATE KEY-----
        MIIEogIBAAKCAQEAktpULvNGugVCVnL2pOspxotngt+kR9vmdF132xFC4WAFF00+
        QbPUsWN1N5rBvqfjGVWB2yBvmI3XN0+fHBD6F5vsHZbtb62feTpy2C+VSaexiBVG
        j52YLUxlGD6UHJoupoWBH9nyiQ/ycEulcw82IKekZsQ/XuGBxlhG977RT0rbCkm/
        kVo8rBTcrt9VlBBdDfuu656vYeofWC79zG2lUZ8sUH8lZREdNO8NdoWhuQxPhwNS
        OPd+cLkggxOXyLs9fShSWajtLz11S/ChYCetu2LXij/8MYegVhERia50+GUl3Hlw
        b9WRm81bQho1Ltah0Soy6d2uFcCTXHNmX5x4nwIDAQABAoIBADaKR8G4MIhd86lP
        wTK29Cj9FVCR5t2ZWhnVrPH7ky9JDhr9YSXduBy5p4sjOtmoWLvL+hJ8FXY/F7M/
        KwSteXTTP/otV7mmbhgEESshYPyd/11fKXmlOiN4wAMlGrUUvkayRqaht2YYOh5i
        uevltmCiYniYYkDG1//mQVU51VrxDirtAeoWY3O4EvGbHWcO/uNClVOdhfPxYOfD
        +kYbIN0OZ8CB3WzXEkwBVk0N1ULVuZL4TuafIZWJK4LEGfv52yHy5sFgEwEiHCBA
        N+atlH0SHWqk9QTJJjmMsztQ5Xphaalv2llKAmka0XpssfqyaXoMfJ4hbrNPFOFj
        OvRAhGECgYEAwkHgeDtZYDEvZayq4UfAslmsBbeK1v2pKbuPdPZwPTbkVD24GFFk
        ZsFeLrlPAxl64uk1x9DK/e3dysunpsnONbKqWzQ82oAwSc0uJPYayBHXdEzMdfjC
        mWt6fhwwBALmKU9zIMJwW/3Q61Y8V++03P9lySLaHL01HAyxjoUvR1sCgYEAwYdL
        Zk86D6hr+paGQAYBxgbL2O410mb0C5pMzVjbYeBCYyDarYGEFN4ifpUeXNFZK+eI
        cOGcSBZeoFm7/nUlahy4A/mOBR/UyC79d6wAaTB60+W1fqF18c+BiEdgZPn3mkkw
        2NDQqTyUXoh5DwXJFQBRncqRgWSvOWDrvfFx2w0CgYBL7NGeTJwXM8IxvDYhzRis
        3M2WgnF6rDRFAnEEpxmhY2YE4wakQpO6cdOs8XLHZFsae0ow6hOdAi6RB95kGzZE
        2Ksq8JTkVfwJrG9ftO0sy4RpiWbUqUDuFAsRZVUDDFsHRG1cHYMrAV55zP/S4vbO
        9efDoKKdXvp2FyQC711WRwKBgDUJBri67YZs+Wpq5c+V1daW9jY00bsfS7ICTxnX
        SAfClW7lCgiSfcfaOEnIQ9Hb7TwC73k/2rxGpRf8f3B0WhSCWkt8kFcHKiDR/9RT
        5qjtCDwZr2tMhC4IV88pAFmrxxcZB7HjR8uZNm/RpptfUoPW2ocLhGSZWwu2a+RZ
        zoHhAoGAaLf4XHiaibKndlVCEWU90JvLq7bpE/ofdmIAFCrDW2u18RGtziQ+QJw9
        aX8g9AiyIJW9wSw4r6yOu7Q/9KOv05GJwp8U+3grQHu4Nvk9fGSj36y+RdJ/f5/5
        FeJuX1i5E2gnPbN6m+Xos2DVNUexigemq9AFKnXfTXfNRSj4GFU=
        -----END RSA PRIVATE KEY-----
        """

    /// 1024-bit RSA key (`openssl genrsa -traditional 1024`): too small, must be rejected.
    static let rsa1024PKCS1 = """
        -----BEGIN RSA PRIVATE KEY-----
        MIICXQIBAAKBgQDABpVmJDAoGqPWRT9FQ3LF1snwAeN6++08ui5F45nQY00gKfNk
        hzjG/cDSbxElcuDLSQ+LD3IYNOx7Z8gcHxfifVdxbuNo/lRdM9zDpj8TRjnFCw7A
        RDZT+6HOalRq+DTCg/Ma4wZKVDf4f9LMJu3/ADvx7emYXK6W1Mm9NrLqdwIDAQAB
        AoGADZtp0scVsoHQwko95YaWB3bk8GDx4bEgaoE27jTmnWGsAW93k9QRLeilVUQR
        jvnI/B69Pzlk+Font8bu4y9A3ehZCru9MR/naUzKaxA5R+XYnZBrHUt2Z1N0Cqyf
        EZZGzNnZIeEblDVqKjnafXX5ighGgJnmYlM2o3wHx9jHnoECQQDm6ZiM7FkyVy3v
        cpvj3XfrFPPEhHPh49ngzeVSeUZU9YQoVXIr2z4uuJLmN8ZVa0cWff+q7kh2NSmp
        QCZ9gY5nAkEA1ONskwfFpgiVkWJyJHwPYw2ykbFz7pOXVDFI+VS8tU6BkxKJ8Uy2
        GMxe++itJuYpz7GMz0Z9dKS3VM+24q0ZcQJBAKiVbQmd2HU3TtMdgpC29UENF/em
        mBAYUM6eo8k1v1JxuR3VXDiGpXxoxt8LY2Kjos/aB5ncw8yBfbwSmMdSmgsCQFFz
        Ga0/Qf1+N0tCcQ1IcdKiAPoA/KwAx9ssaBEMvI5ZlPWiGCi8AseGGakjomvJj6Go
        +oirHYCtLH9EYWJke+ECQQDmRenS7WSSaGMbZmUQxppk5wgMobWQi4Dr3Plc6M1p
        wOSfxPI4lPMdSm6hHH1GIakuRspejIi/T5FUNlsEC0NW
        -----END RSA PRIVATE KEY-----
        """

    /// Its public key.
    static let rsa1024Public = """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDABpVmJDAoGqPWRT9FQ3LF1snw
        AeN6++08ui5F45nQY00gKfNkhzjG/cDSbxElcuDLSQ+LD3IYNOx7Z8gcHxfifVdx
        buNo/lRdM9zDpj8TRjnFCw7ARDZT+6HOalRq+DTCg/Ma4wZKVDf4f9LMJu3/ADvx
        7emYXK6W1Mm9NrLqdwIDAQAB
        -----END PUBLIC KEY-----
        """

    /// P-256 EC key: not RSA, must be rejected.
    static let ecPrivate = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgW2NlN09IT96a2HSY
        1gso3G/uJKFjukAgkSC3DRpRYQihRANCAATSmVyv/spL1UYmIOSIlgTpDpZRJG44
        8QwFiLsymh4TmpTnPYV6t9WHy/0vpv44jb6p/CfcB1PDNXm7oUsKTrv4
        -----END PRIVATE KEY-----
        """

    /// Its public key.
    static let ecPublic = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0plcr/7KS9VGJiDkiJYE6Q6WUSRu
        OPEMBYi7MpoeE5qU5z2FerfVh8v9L6b+OI2+qfwn3AdTwzV5u6FLCk67+A==
        -----END PUBLIC KEY-----
        """

    /// 2048-bit RSA-PSS key (`openssl genpkey -algorithm RSA-PSS`): not plain RSA, must be rejected.
    static let rsaPSSPrivate = """
        -----BEGIN PRIVATE KEY-----
        MIIEugIBADALBgkqhkiG9w0BAQoEggSmMIIEogIBAAKCAQEApW/3q80kQaHJrn2w
        XZIDmzHRTaLvIv8gKJdKuOXKlMwX/+8pB6RAp2zJZFFJCjiImg0sXJN/cNW+r64q
        C7BB1t7xe53pYxKBaJzHj1pajtp4PHcFok7YVye3n46I1+JK8nNepnXyKfrVyNQn
        GMvDML9hJJMbsxJ6hhP54SWnr8/r6XSrASuKn+MXxob03WGzt92b7xcV4wf0yoyb
        jWeNdWNpVtODlfKDdnZ7oWA1clxUjjieqODKnYe9bTmbTxN8gxPe0kJv4PPIB9hM
        PjZgEjkGYrhJjVm+kVju+tKB4vsjUxn/0ICL/Blwa8gpNLGuPdJehrzh8C38BXmc
        f5yBhQIDAQABAoIBAELopWEA70RyFBjzsYQufTHjtJRzLMdZKp7wDWL5YPTMFHrI
        ta3nAtUT3OGrNGCjW6/+Wu44I0c101DHHi8rAn3OHhlSVOViQx9VpSo3rz9uYUmH
        E6rAu6OIJy4rXfH+DjS/b0zgj+flkFgQYZ2YL2HETRwXORE0DIS0iI/EBG1IgjWj
        ZZn3tukOrQ/KjOVilM/pbyPbUBDVHmxISgwqNNyctBHbWn5F6J9bl2qilSRXxnLQ
        GXmkkZ6PzhzZddLPdSyGJdUD0FS3TBuk76ihP1b1b7d9cbNvfSMREUHUPICIeZde
        QR7sTWj69tKoWTLn3huMOyKpTinWgFLIAsAA6nMCgYEA1k1vY6xKifHwd29iJKxu
        +dBaJtPk0rzvLLxplWt88AC68XXIGwlIJcXV5K7md879TKUzupUBD8RRNzUkrr/T
        l/MRzmSsLC9k3ui2wuGHiUkmmZZpQ9kVJDM+dB2Svr0l7PgSrrbd4FL6Fvp9xfpz
        DP845y25PbjNwawTqSuLqz8CgYEAxaCGdQHfLuga1T6U27RhJz31WTXFlQurcjtc
        LxCrQr2+CxdnEpfzxoO3+Evquz0g5BTmxfmX1JY36dWDM6IHDutkeYdnAyfzB/Ep
        W1+BDcTAg/WmWLvJAklMHbNZ4o8dOpFyAhQVJeTu4rTG3HxmJtv5fOvwHmcrM6/h
        g7xDdjsCgYAD2G/fQgA0aXr/KaiBL/bt1KdJexPoFCvWiar7W2pqhBjWrF5i3c/F
        nb8w01KfY7932J8NAg960PMEIpf96sNJPrtbEMNmJ5OPzG07IgDkncNrjh9lcEfI
        1oKQYtd3RL2hevIa4H0qwVJrhyMqokveN9Y1j8R7Lw3CI+xWZMmk0QKBgFeR+gJ/
        AdZXIwy63ls8YpBw8/bDzPluYloL051HVZwNV9iyVgn3Kx4b37k2apztSVXHrTqs
        joq0xbHn2mtWsKn7xFnVld/gI+CxDBJhD156gJP4le1byIYq1H+UqY+qutjo+gvR
        uk1AVFpAoJ2ywdEWSEcChTPzo0ET/mnRUlNhAoGAHn7KpAwntb5yULkTgB3aJGvf
        Whsi2U7Cu6fbbJYl4L7Qj1wXYg1JuFVW3NZ7TAs5kbPv/XCoVrZWP5ZVlo7/eCTV
        4roFxnuwKsHkDIdJxj7ncYuejAD5VYvmp5UoM8kmp+vEZZIqYEgVTPzFhsX3SiA2
        O1HPBcu11XWTUXKHHbk=
        -----END PRIVATE KEY-----
        """

    /// base64url(SHA-256(DER public key of rsa2048PKCS1)[0..<12]), computed with openssl + Python.
    static let rsa2048Kid = "hTQDmJIAeqyYUrWe"

    /// JWK `n` of rsa2048PKCS1, from `openssl rsa -modulus`.
    static let rsa2048Modulus =
        "ktpULvNGugVCVnL2pOspxotngt-kR9vmdF132xFC4WAFF00-QbPUsWN1N5rBvqfjGVWB2yBvmI3XN0-fHBD6F5vsHZbtb62feTpy"
        + "2C-VSaexiBVGj52YLUxlGD6UHJoupoWBH9nyiQ_ycEulcw82IKekZsQ_XuGBxlhG977RT0rbCkm_kVo8rBTcrt9VlBBdDfuu656v"
        + "YeofWC79zG2lUZ8sUH8lZREdNO8NdoWhuQxPhwNSOPd-cLkggxOXyLs9fShSWajtLz11S_ChYCetu2LXij_8MYegVhERia50-GUl"
        + "3Hlwb9WRm81bQho1Ltah0Soy6d2uFcCTXHNmX5x4nw"

    /// `printf hello | openssl dgst -sha256 -sign rsa2048PKCS1`, base64url. PKCS#1 v1.5 is
    /// deterministic, so our signature must be byte-identical.
    static let helloSignature =
        "dWEF1bIpCn3bX_XD5DFuBtcrDfvCmmBjv57nYwWp5RSw6Bhtv4JFQgqzo8YrnLYzredwFvuUox7M9zdoCL7cfN9x1G0kCxhW-tsT"
        + "Xv83QruocLIwccy6ynmHlcj_QGCNnBMV6pmgr6jDvuD7xXqyJO7X7zq_kF-TRVGU-otURrMw8Xaq0AnDCdWfE6f581HMoaHq5G_Z"
        + "bOmdZ9X2UO8m-R_hriw_uuAHofFN6zNi9L0JZ1CHOB7ehx2xlxBaDy70b2zszBpjucNElr00Xoevx5nZvQhSfkpwJMvG6TkKr4yF"
        + "cenMboCESgrSh75lCUBRSlLPfesLJw-zgmK8vKbHOg"

    /// A token built by Python and signed by the openssl CLI with rsa2048PKCS1: header with spaces,
    /// a newline and `typ` first; aud array containing "chat-api"; escaped non-ASCII `sub`
    /// ("user-é😀"); an extra nested claim with a fraction. iss "https://chat.example", iat/nbf
    /// 1700000000, exp 1700000900, jti "j-1", sid "s-9".
    static let externalToken =
        "eyJ0eXAiOiJKV1QiLCAiYWxnIjoiUlMyNTYiLAogImtpZCI6ImhUUURtSklBZXF5WVVyV2UifQ."
        + "eyJpc3MiOiJodHRwczovL2NoYXQuZXhhbXBsZSIsInN1YiI6InVzZXItXHUwMGU5XHVkODNkXHVkZTAwIiwiYXVkIjpbIm90aGVy"
        + "IiwiY2hhdC1hcGkiXSwiaWF0IjoxNzAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMDkwMCwianRpIjoiai0x"
        + "Iiwic2lkIjoicy05IiwiZXh0cmEiOnsibmVzdGVkIjpbMS41LHRydWUsbnVsbF19fQ."
        + "OBuek9qDmQQ_S2RWq7AsSzqtW0ECcWiAsqbZ5E25XuZTeoiR2V8wB9FdP_nkxw1uZnxg8MhXR5399VQQ1vOAq3dDYO5rZC6rLZ83"
        + "TCW0oaWmlZEDUHWv1C_lEXISY4-Dli4aYEInqv7B1Yl3yKQbQQPnZ7S3oTxm0_K3JGuveceaarWgyagKmYXq2YSP-Yauf6GPmDMe"
        + "oW2KSmFGbgL3F_uMOz74Hwgac4YhXyuAG092eozHhQVg7nPwbf7LdN_UiOLV4UowkLQ5tUjyZBhpWqgeCqYL-0xS7IHEMfFyli9A"
        + "Wa8Ab4S4GlWXnpUNdt72LJ5vVJAjxbfbytBr3nzBCA"

    /// `bcrypt.hashpw(b"correct horse", bcrypt.gensalt(5))` from Python bcrypt 5.0.0.
    static let pythonBcryptCorrectHorse = "$2b$05$kT6yq05NwXhuJb/eLul2Lu25gWEmjyt50Tr5Pbk2gVFN67jNrIfni"
}
