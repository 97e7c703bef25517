import Blobs

/// `chat blobs credentials`: the Upload API credentials (from `[blobs]`, else generated once into the data
/// directory) as a `CLOUDINARY_URL` for the Cloudinary SDKs, with the server's address as the upload prefix, and
/// the key of token-based (expiring) delivery URLs.
struct BlobsCommand {
    let settings: Settings
    let subcommand: String?

    func run() throws {
        guard (subcommand ?? "credentials") == "credentials" else {
            throw MigrateCommand.Failure(description: "unknown blobs subcommand")
        }
        try DataDirectory.create(settings.server.dataDir)
        _ = try BlobFileStore(root: settings.blobsDirectory)
        let blobs = settings.blobs
        let credentials = try BlobCredentials.loadOrCreate(
            blobsDirectory: settings.blobsDirectory, cloudName: blobs.cloudName,
            apiKey: blobs.apiKey.isEmpty ? nil : blobs.apiKey,
            apiSecret: blobs.apiSecret.isEmpty ? nil : blobs.apiSecret)
        let listen = settings.server.listen
        let host = listen.host == "0.0.0.0" || listen.host == "::" ? "127.0.0.1" : listen.host
        let url = credentials.cloudinaryURL(host: listen.isIPv6 ? "[\(host)]" : host, port: Int(listen.port))
        Console.output("CLOUDINARY_URL=\(url)\n")
        // For SDKs that build expiring links themselves: cloudinary_url(…, sign_url=True, auth_token={"key": …}).
        Console.output("CLOUDINARY_AUTH_TOKEN_KEY=\(credentials.authTokenKeyHex)\n")
    }
}
