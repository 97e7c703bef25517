import Testing

@testable import Blobs

/// Vectors computed with the official Python SDK, `pip install cloudinary==1.46.3`; each test names the call.
@Suite struct CloudinarySignatureTests {
    // MARK: Upload API requests

    /// Cloudinary's documented worked example; also `cloudinary.utils.api_sign_request(params, "abcd")`.
    @Test func theDocumentedWorkedExample() {
        let fields: [(name: String, value: String)] = [
            ("timestamp", "1315060510"), ("public_id", "sample_image"),
            ("eager", "w_400,h_300,c_pad|w_260,h_200,c_crop"),
        ]
        let toSign = CloudinarySignature.stringToSign(fields: fields)
        #expect(toSign == "eager=w_400,h_300,c_pad|w_260,h_200,c_crop&public_id=sample_image&timestamp=1315060510")
        #expect(CloudinarySignature.sign(toSign, secret: "abcd") == "bfd09f95f331f558cbd1320e67aa8d488770583e")
        #expect(
            CloudinarySignature.isValid(
                signature: "bfd09f95f331f558cbd1320e67aa8d488770583e", fields: fields, secret: "abcd"))
        #expect(
            CloudinarySignature.isValid(
                signature: "BFD09F95F331F558CBD1320E67AA8D488770583E", fields: fields, secret: "abcd"))
        #expect(
            !CloudinarySignature.isValid(
                signature: "bfd09f95f331f558cbd1320e67aa8d488770583f", fields: fields, secret: "abcd"))
        #expect(!CloudinarySignature.isValid(signature: "bfd09f95", fields: fields, secret: "abcd"))
        #expect(
            !CloudinarySignature.isValid(
                signature: "bfd09f95f331f558cbd1320e67aa8d488770583e", fields: fields, secret: "abce"))
    }

    /// `cleanup_params({"timestamp": "1700000000", "public_id": "a&b", "tags": ["x", "y&z"],
    /// "context": "caption=Tom & Jerry|alt=t", "empty": "", "none": None, "overwrite": True,
    /// "unique_filename": False})` then `api_string_to_sign` / `api_sign_request(…, "secret123"[, algorithm="sha256"])`.
    /// Booleans are sent as "1"/"0" (a "0" is signed), empty values are dropped, `&` becomes `%26` anywhere in
    /// `k=v`, lists are joined by `,`.
    @Test func escapingEmptyValuesListsAndBooleansAsTheSDK() {
        let fields: [(name: String, value: String)] = [
            ("timestamp", "1700000000"), ("public_id", "a&b"), ("tags[]", "x"), ("tags[]", "y&z"),
            ("context", "caption=Tom & Jerry|alt=t"), ("empty", ""), ("overwrite", "1"), ("unique_filename", "0"),
            ("file", "data:image/png;base64,AAAA"), ("api_key", "123456789012345"), ("signature", "whatever"),
            ("resource_type", "image"), ("cloud_name", "demo"),
        ]
        let toSign = CloudinarySignature.stringToSign(fields: fields)
        #expect(
            toSign
                == "context=caption=Tom %26 Jerry|alt=t&overwrite=1&public_id=a%26b&tags=x,y%26z&timestamp=1700000000"
                + "&unique_filename=0")
        #expect(CloudinarySignature.sign(toSign, secret: "secret123") == "cdd81571b4aa356534328b71015c3de6089fd7ed")
        let sha256 = "77e8fa59573a2c1eccd16fc0c955a4229ee102403b35cbacd58e6eaa25288b79"
        #expect(CloudinarySignature.sign(toSign, secret: "secret123", algorithm: .sha256) == sha256)
        #expect(CloudinarySignature.isValid(signature: sha256, fields: fields, secret: "secret123"))
        #expect(
            CloudinarySignature.isValid(
                signature: "cdd81571b4aa356534328b71015c3de6089fd7ed", fields: fields, secret: "secret123"))
    }

    /// `api_string_to_sign({"tag": "1", "tag2": "2", "t": "3", "tag_a": "4"})`: sorted as whole `k=v` strings.
    @Test func sortsWholeParameterStringsNotNames() {
        let toSign = CloudinarySignature.stringToSign(parameters: ["tag": "1", "tag2": "2", "t": "3", "tag_a": "4"])
        #expect(toSign == "t=3&tag2=2&tag=1&tag_a=4")
    }

    /// `api_sign_request({"public_id": "café/ü", "timestamp": "1"}, "s")`: UTF-8, nothing escaped but `&`.
    @Test func hashesUTF8() {
        let fields: [(name: String, value: String)] = [("public_id", "café/ü"), ("timestamp", "1")]
        #expect(CloudinarySignature.stringToSign(fields: fields) == "public_id=café/ü&timestamp=1")
        #expect(CloudinarySignature.sign(fields: fields, secret: "s") == "de76cfc835de6e06fca0806cbe5877b558c3ef1a")
    }

    /// `api_sign_request({"public_ids": ["a", "b&c"], "timestamp": "1700000000", "mode": "download"}, "secret123")`;
    /// `call_api` sends the list as repeated `public_ids[]` fields.
    @Test func repeatedBracketFieldsAreOneList() {
        let fields: [(name: String, value: String)] = [
            ("public_ids[]", "a"), ("timestamp", "1700000000"), ("public_ids[]", "b&c"), ("mode", "download"),
        ]
        #expect(
            CloudinarySignature.stringToSign(fields: fields) == "mode=download&public_ids=a,b%26c&timestamp=1700000000")
        #expect(
            CloudinarySignature.sign(fields: fields, secret: "secret123") == "d5dce04fb31e431d2684158a30eb8379c2187b1f")
    }

    /// What `uploader.upload(file, public_id="folder/x", tags=["a", "b"], overwrite=True, use_filename=False)`
    /// signs (`utils.sign_request` with api_key 123456789012345, secret "secret123", timestamp pinned).
    @Test func anSDKUploadRequest() {
        let fields: [(name: String, value: String)] = [
            ("public_id", "folder/x"), ("use_filename", "0"), ("overwrite", "1"), ("timestamp", "1700000000"),
            ("tags", "a,b"), ("signature", "8c6b52d5a7908e32007dd81488ac33f43a855016"),
            ("api_key", "123456789012345"), ("file", "…"),
        ]
        #expect(
            CloudinarySignature.stringToSign(fields: fields)
                == "overwrite=1&public_id=folder/x&tags=a,b&timestamp=1700000000&use_filename=0")
        #expect(
            CloudinarySignature.isValid(
                signature: "8c6b52d5a7908e32007dd81488ac33f43a855016", fields: fields, secret: "secret123"))
    }

    @Test func aPlainNameGivenTwiceKeepsTheLastValue() {
        let fields: [(name: String, value: String)] = [("a", "1"), ("a", "2"), ("b[]", "x"), ("b", "y")]
        #expect(CloudinarySignature.stringToSign(fields: fields) == "a=2&b=y")
    }

    // MARK: Responses

    /// `api_sign_request({"public_id": …, "version": …}, "secret123", signature_version=1)`, which is what
    /// `utils.verify_api_response_signature` checks: no `%26` escaping.
    @Test func responseSignature() {
        #expect(
            CloudinarySignature.responseSignature(publicID: "folder/pic", version: 1_700_000_000, secret: "secret123")
                == "4d108a21137300bf31a08ac500e70760e5ff04f5")
        #expect(
            CloudinarySignature.responseSignature(publicID: "a&b", version: 1_700_000_000, secret: "secret123")
                == "b1e66b7a86b55c978f1089f7781cb97960a82a42")
    }

    // MARK: Delivery URLs

    /// URLs from `cloudinary_url(id, sign_url=True, api_secret="secret123", cloud_name="demo",
    /// cname="127.0.0.1:8080", secure=False, **options)`.
    static let signedURLs: [(url: String, toSign: String, algorithm: SignatureAlgorithm, long: Bool)] = [
        // "sample.jpg", no options; and "sample", format="jpg"
        ("http://127.0.0.1:8080/demo/image/upload/s---htDUwHV--/sample.jpg", "sample.jpg", .sha1, false),
        // "folder/sample", format="png", type="authenticated" (the SDK adds v1 for ids with folders)
        (
            "http://127.0.0.1:8080/demo/image/authenticated/s--bJrSKuiw--/v1/folder/sample.png", "folder/sample.png",
            .sha1, false
        ),
        // the same with version=1700000000: the version is not signed
        (
            "http://127.0.0.1:8080/demo/image/authenticated/s--bJrSKuiw--/v1700000000/folder/sample.png",
            "folder/sample.png", .sha1, false
        ),
        // "sample", format="jpg", width=100, height=50, crop="fill"
        (
            "http://127.0.0.1:8080/demo/image/upload/s--lFZ8RLmt--/c_fill,h_50,w_100/sample.jpg",
            "c_fill,h_50,w_100/sample.jpg", .sha1, false
        ),
        // "my file ü", format="pdf", resource_type="raw", type="authenticated": the escaped id is signed
        (
            "http://127.0.0.1:8080/demo/raw/authenticated/s--CuX7F9rX--/my%20file%20%C3%BC.pdf",
            "my%20file%20%C3%BC.pdf",
            .sha1, false
        ),
        // "docs/report.pdf", resource_type="raw", type="authenticated", version=5
        (
            "http://127.0.0.1:8080/demo/raw/authenticated/s--KxEglGCy--/v5/docs/report.pdf", "docs/report.pdf", .sha1,
            false
        ),
        // "sample", format="jpg", long_url_signature=True (32 characters, SHA-256)
        (
            "http://127.0.0.1:8080/demo/image/upload/s--D5cx9jrsY6ss7GWA8SwJdBYCQWhVwjEC--/sample.jpg", "sample.jpg",
            .sha256, true
        ),
        // "sample", format="jpg", signature_algorithm="sha256"
        ("http://127.0.0.1:8080/demo/image/upload/s--D5cx9jrs--/sample.jpg", "sample.jpg", .sha256, false),
    ]

    @Test(arguments: 0..<signedURLs.count) func deliverySignaturesMatchTheSDK(index: Int) throws {
        let vector = Self.signedURLs[index]
        // /demo/<resource_type>/<type>/<signature>/<rest…>
        let components = vector.url.dropFirst("http://127.0.0.1:8080/".count).split(separator: "/")
        let signature = components[3]
        let rest = Array(components[4...])
        #expect(
            CloudinarySignature.deliverySignature(
                toSign: vector.toSign, secret: "secret123", algorithm: vector.algorithm, long: vector.long)
                == String(signature))
        #expect(CloudinarySignature.signedPath(afterSignature: rest) == vector.toSign)
        #expect(
            CloudinarySignature.isValidDelivery(
                signatureComponent: signature, pathAfterSignature: rest, secret: "secret123"))
        #expect(
            !CloudinarySignature.isValidDelivery(
                signatureComponent: signature, pathAfterSignature: rest, secret: "secret124"))
        var tampered = rest
        tampered[tampered.count - 1] = "other.jpg"
        #expect(
            !CloudinarySignature.isValidDelivery(
                signatureComponent: signature, pathAfterSignature: tampered, secret: "secret123"))
    }

    @Test func malformedSignatureComponentsAreRefused() {
        let rest: [Substring] = ["sample.jpg"]
        for component in ["", "s----", "s--abc--", "x---htDUwHV--", "s---htDUwHV-", "s---htDUwHVx--"] {
            #expect(
                !CloudinarySignature.isValidDelivery(
                    signatureComponent: Substring(component), pathAfterSignature: rest, secret: "secret123"))
        }
    }

    /// `smart_escape` as `finalize_source` applies it.
    @Test func smartEscape() {
        #expect(CloudinarySignature.smartEscape("my file ü") == "my%20file%20%C3%BC")
        #expect(CloudinarySignature.smartEscape("a/b_c-d.e:f") == "a/b_c-d.e:f")
        #expect(CloudinarySignature.smartEscape("a+b?c#d&e%") == "a%2Bb%3Fc%23d%26e%25")
    }

    @Test func versionComponents() {
        #expect(CloudinarySignature.isVersionComponent("v1"))
        #expect(CloudinarySignature.isVersionComponent("v1700000000"))
        #expect(!CloudinarySignature.isVersionComponent("v"))
        #expect(!CloudinarySignature.isVersionComponent("v1a"))
        #expect(!CloudinarySignature.isVersionComponent("V1"))
        #expect(!CloudinarySignature.isVersionComponent("w_100"))
    }
}
