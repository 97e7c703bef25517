import Foundation
import Testing

@testable import Blobs

@Suite struct BlobCredentialsTests {
    @Test func generatedLikeCloudinarys() throws {
        let credentials = try BlobCredentials.generate()
        #expect(credentials.cloudName == "local")
        #expect(credentials.apiKey.utf8.count == 15 && credentials.apiKey.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
        #expect(credentials.apiKey.first != "0")
        #expect(credentials.apiSecret.utf8.count == 27 && BlobCredentials.isValidKeyOrSecret(credentials.apiSecret))
        #expect(try BlobCredentials.generate() != credentials)
    }

    @Test func storedOnFirstStartAndReused() throws {
        try withTemporaryDirectory { data in
            let directory = data + "/blobs"
            let first = try BlobCredentials.loadOrCreate(blobsDirectory: directory)
            let path = directory + "/credentials"
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(try BlobCredentials.loadOrCreate(blobsDirectory: directory) == first)
            #expect(try BlobCredentials.read(blobsDirectory: directory) == first)

            // Config values win field by field.
            let overridden = try BlobCredentials.loadOrCreate(blobsDirectory: directory, cloudName: "mycloud")
            #expect(overridden.cloudName == "mycloud" && overridden.apiKey == first.apiKey)
            let configured = try BlobCredentials.loadOrCreate(
                blobsDirectory: data + "/other", apiKey: "key", apiSecret: "secret")
            #expect(configured == (try BlobCredentials(cloudName: "local", apiKey: "key", apiSecret: "secret")))
            #expect(!FileManager.default.fileExists(atPath: data + "/other/credentials"))
        }
    }

    @Test func badFilesAndValues() throws {
        try withTemporaryDirectory { data in
            #expect(
                FileManager.default.createFile(atPath: data + "/credentials", contents: Data("api_key=1\nnope\n".utf8)))
            #expect(throws: BlobCredentialsError.malformedFile(path: data + "/credentials", line: 2)) {
                try BlobCredentials.read(blobsDirectory: data)
            }
        }
        #expect(throws: BlobCredentialsError.self) {
            try BlobCredentials(cloudName: "1abc", apiKey: "k", apiSecret: "s")
        }
        #expect(throws: BlobCredentialsError.self) { try BlobCredentials(cloudName: "a", apiKey: "k", apiSecret: "s") }
        #expect(throws: BlobCredentialsError.self) {
            try BlobCredentials(cloudName: "ok", apiKey: "k:x", apiSecret: "s")
        }
        #expect(throws: BlobCredentialsError.self) {
            try BlobCredentials(cloudName: "ok", apiKey: "k", apiSecret: "s@")
        }
        #expect(BlobCredentials.isValidCloudName("my-cloud2"))
    }

    /// The SDK reads this URL back: `cloudinary.config()` with `CLOUDINARY_URL` set gives cloud_name "local",
    /// api_key "123456789012345", api_secret "AbC-dEf_gHiJkLmNoPqRsTuVwXy", upload_prefix "http://127.0.0.1:8080",
    /// and `utils.cloudinary_api_url("upload", resource_type="raw")` is
    /// `http://127.0.0.1:8080/v1_1/local/raw/upload` (SDK 1.46.3).
    @Test func cloudinaryURL() throws {
        let credentials = try BlobCredentials(
            cloudName: "local", apiKey: "123456789012345", apiSecret: "AbC-dEf_gHiJkLmNoPqRsTuVwXy")
        #expect(
            credentials.cloudinaryURL(host: "127.0.0.1", port: 8080)
                == "cloudinary://123456789012345:AbC-dEf_gHiJkLmNoPqRsTuVwXy@local?upload_prefix=http://127.0.0.1:8080")
        #expect(credentials.cloudinaryURL(host: "::1", port: 80).hasSuffix("upload_prefix=http://[::1]:80"))
        #expect(credentials.matches(apiKey: "123456789012345", apiSecret: "AbC-dEf_gHiJkLmNoPqRsTuVwXy"))
        #expect(!credentials.matches(apiKey: "123456789012345", apiSecret: "AbC-dEf_gHiJkLmNoPqRsTuVwXz"))
    }
}
