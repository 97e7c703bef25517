import Testing

@testable import Blobs

@Suite struct PublicIDTests {
    @Test func validIDs() throws {
        for id in ["sample", "folder/sample", "a/b/c.d-e_f", "café/ü photo", "日本語", "v1", "folder/v2", "x.png"] {
            try PublicID.validate(id)
        }
        try PublicID.validate(String(repeating: "a", count: 255))
    }

    @Test func invalidIDs() {
        let cases: [(String, PublicIDError)] = [
            ("", .empty(field: "public_id")),
            (String(repeating: "a", count: 256), .tooLong(field: "public_id", limit: 255)),
            ("../etc/passwd", .dotSegment(field: "public_id")),
            ("a/../b", .dotSegment(field: "public_id")),
            ("a/./b", .dotSegment(field: "public_id")),
            ("/abs", .badSlashOrSpace(field: "public_id")),
            ("trailing/", .badSlashOrSpace(field: "public_id")),
            ("a//b", .badSlashOrSpace(field: "public_id")),
            (" space", .badSlashOrSpace(field: "public_id")),
            ("space ", .badSlashOrSpace(field: "public_id")),
            ("a\\b", .forbiddenCharacter(field: "public_id", character: "'\\'")),
            ("a?b", .forbiddenCharacter(field: "public_id", character: "'?'")),
            ("a&b", .forbiddenCharacter(field: "public_id", character: "'&'")),
            ("a#b", .forbiddenCharacter(field: "public_id", character: "'#'")),
            ("a%20b", .forbiddenCharacter(field: "public_id", character: "'%'")),
            ("a<b>", .forbiddenCharacter(field: "public_id", character: "'<'")),
            ("a+b", .forbiddenCharacter(field: "public_id", character: "'+'")),
            ("a\nb", .forbiddenCharacter(field: "public_id", character: "control character U+000A")),
            ("a\u{0}b", .forbiddenCharacter(field: "public_id", character: "control character U+0000")),
            ("a\u{7F}b", .forbiddenCharacter(field: "public_id", character: "control character U+007F")),
            ("a\u{85}b", .forbiddenCharacter(field: "public_id", character: "control character U+0085")),
            ("v12/photo", .versionLikeFolder(field: "public_id", segment: "v12")),
        ]
        for (id, expected) in cases {
            #expect(throws: expected, "\(id.debugDescription)") { try PublicID.validate(id) }
        }
    }

    @Test func folders() throws {
        #expect(try PublicID.validateFolder("photos/") == "photos")
        #expect(try PublicID.validateFolder("a/b") == "a/b")
        #expect(throws: PublicIDError.versionLikeFolder(field: "folder", segment: "v1")) {
            try PublicID.validateFolder("a/v1")
        }
        #expect(throws: PublicIDError.dotSegment(field: "folder")) { try PublicID.validateFolder("..") }
        #expect(throws: PublicIDError.badSlashOrSpace(field: "folder")) { try PublicID.validateFolder("/a") }
        #expect(throws: PublicIDError.empty(field: "folder")) { try PublicID.validateFolder("/") }
    }

    @Test func randomIDsLookLikeCloudinarys() {
        var seen = Set<String>()
        for _ in 0..<200 {
            let id = PublicID.random()
            #expect(id.utf8.count == 20)
            #expect(id.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) })
            seen.insert(id)
        }
        #expect(seen.count == 200)
    }

    @Test func fileNames() {
        #expect(PublicID.baseName("/tmp/dir/cat.photo.png") == "cat.photo.png")
        #expect(PublicID.baseName("C:\\Users\\me\\cat.png") == "cat.png")
        #expect(PublicID.originalFilename("/tmp/dir/cat.photo.png") == "cat.photo")
        #expect(PublicID.originalFilename("README") == "README")
        #expect(PublicID.originalFilename(".bashrc") == ".bashrc")
        #expect(PublicID.originalFilename("") == nil)
        #expect(PublicID.fileExtension("a/b.TXT") == "txt")
        #expect(PublicID.fileExtension("noext") == nil)
        #expect(PublicID.sanitizedName("my file (1)") == "my_file_1")
        #expect(PublicID.sanitizedName("__über?&.x__") == "über_.x")
    }

    @Test func namingRules() throws {
        // public_id given: folder prepended.
        #expect(
            try PublicID.make(
                publicID: "cat", folder: "pets/", useFilename: true, uniqueFilename: true, filename: "x.png",
                resourceType: .image) == "pets/cat")
        // use_filename + unique_filename: name + "_" + 6 random characters.
        let unique = try PublicID.make(
            publicID: nil, folder: nil, useFilename: true, uniqueFilename: true, filename: "/tmp/My Cat.png",
            resourceType: .image)
        #expect(unique.hasPrefix("My_Cat_") && unique.utf8.count == "My_Cat_".utf8.count + 6)
        // use_filename without unique_filename: the name itself.
        #expect(
            try PublicID.make(
                publicID: nil, folder: "a", useFilename: true, uniqueFilename: false, filename: "cat.png",
                resourceType: .image) == "a/cat")
        // Raw assets keep the extension.
        #expect(
            try PublicID.make(
                publicID: nil, folder: nil, useFilename: true, uniqueFilename: false, filename: "Report.PDF",
                resourceType: .raw) == "Report.PDF")
        let rawRandom = try PublicID.make(
            publicID: nil, folder: nil, useFilename: false, uniqueFilename: true, filename: "notes.txt",
            resourceType: .raw)
        #expect(rawRandom.hasSuffix(".txt") && rawRandom.utf8.count == 24)
        // Nothing usable: random.
        let random = try PublicID.make(
            publicID: nil, folder: nil, useFilename: true, uniqueFilename: true, filename: "???.png",
            resourceType: .image)
        #expect(random.utf8.count == 20)
        // Invalid given ids and folders are refused.
        #expect(throws: PublicIDError.dotSegment(field: "public_id")) {
            try PublicID.make(
                publicID: "../x", folder: nil, useFilename: false, uniqueFilename: false, filename: nil,
                resourceType: .image)
        }
        #expect(throws: PublicIDError.badSlashOrSpace(field: "folder")) {
            try PublicID.make(
                publicID: "x", folder: "/abs", useFilename: false, uniqueFilename: false, filename: nil,
                resourceType: .image)
        }
    }
}
