import Testing

@testable import Blobs

@Suite struct FormatSnifferTests {
    private func expectImage(_ bytes: [UInt8], _ format: String, _ mime: String, width: Int?, height: Int?) {
        let sniffed = FormatSniffer.sniff(bytes)
        #expect(
            sniffed == SniffedFormat(resourceType: .image, format: format, mimeType: mime, width: width, height: height)
        )
    }

    @Test func images() {
        expectImage(Fixtures.png, "png", "image/png", width: 5, height: 3)
        expectImage(Fixtures.gif, "gif", "image/gif", width: 5, height: 3)
        expectImage(Fixtures.jpegProgressive, "jpg", "image/jpeg", width: 5, height: 3)
        expectImage(Fixtures.jpegBaseline, "jpg", "image/jpeg", width: 5, height: 3)
        expectImage(Fixtures.webpLossy, "webp", "image/webp", width: 5, height: 3)
        expectImage(Fixtures.webpLossless, "webp", "image/webp", width: 5, height: 3)
        expectImage(Fixtures.webpExtended, "webp", "image/webp", width: 5, height: 3)
    }

    @Test func pdfIsAnImageAsInCloudinary() {
        expectImage(Fixtures.pdf, "pdf", "application/pdf", width: 612, height: 792)
        expectImage(Array("%PDF-1.7\n%âãÏÓ\n".utf8), "pdf", "application/pdf", width: nil, height: nil)
    }

    @Test func video() {
        #expect(
            FormatSniffer.sniff(Fixtures.mp4)
                == SniffedFormat(resourceType: .video, format: "mp4", mimeType: "video/mp4"))
        #expect(
            FormatSniffer.sniff(Fixtures.mov)
                == SniffedFormat(resourceType: .video, format: "mov", mimeType: "video/quicktime"))
        #expect(
            FormatSniffer.sniff(Fixtures.webm)
                == SniffedFormat(resourceType: .video, format: "webm", mimeType: "video/webm"))
        #expect(
            FormatSniffer.sniff(Fixtures.mkv)
                == SniffedFormat(resourceType: .video, format: "mkv", mimeType: "video/x-matroska"))
    }

    @Test func everythingElseIsRaw() {
        #expect(FormatSniffer.sniff([]) == nil)
        #expect(FormatSniffer.sniff(Array("hello, world\n".utf8)) == nil)
        #expect(FormatSniffer.sniff(Array("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8)) == nil)
        #expect(FormatSniffer.sniff(Array("<!DOCTYPE html><script>alert(1)</script>".utf8)) == nil)
        #expect(FormatSniffer.sniff([0x50, 0x4B, 0x03, 0x04]) == nil)  // zip
    }

    /// Truncated headers never trap: every prefix of every fixture is sniffed.
    @Test func truncatedHeadersAreSafe() {
        let all = [
            Fixtures.png, Fixtures.gif, Fixtures.jpegProgressive, Fixtures.jpegBaseline, Fixtures.webpLossy,
            Fixtures.webpLossless, Fixtures.webpExtended, Fixtures.pdf, Fixtures.mp4, Fixtures.webm,
        ]
        for bytes in all {
            for count in 0...bytes.count {
                _ = FormatSniffer.sniff(Array(bytes.prefix(count)))
            }
        }
        // The type is known from the signature alone; the size needs the header.
        expectImage(Array(Fixtures.png.prefix(8)), "png", "image/png", width: nil, height: nil)
        expectImage(Array(Fixtures.jpegBaseline.prefix(20)), "jpg", "image/jpeg", width: nil, height: nil)
    }

    @Test func aJPEGWithBogusSegmentLengthsStopsWithoutSize() {
        expectImage([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xC0], "jpg", "image/jpeg", width: nil, height: nil)
        expectImage([0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF, 0x00], "jpg", "image/jpeg", width: nil, height: nil)
    }
}
