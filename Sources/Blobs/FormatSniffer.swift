/// Cloudinary's asset types (`resource_type` in URLs and responses). `auto` is a request-side choice only:
/// it becomes one of these after sniffing.
public enum ResourceType: String, Sendable, Equatable, CaseIterable {
    case image
    case video
    case raw
}

/// What the first bytes of an upload say it is.
public struct SniffedFormat: Sendable, Equatable {
    /// `image` or `video` (raw files are not sniffed: ``FormatSniffer/sniff(_:)`` returns nil).
    public var resourceType: ResourceType
    /// Cloudinary's `format`: `png`, `jpg`, `gif`, `webp`, `pdf`, `mp4`, `mov`, `m4a`, `webm`, `mkv`.
    public var format: String
    /// The `Content-Type` to deliver it with.
    public var mimeType: String
    /// Pixels, from the header; nil when the header is not within the bytes given or has none.
    public var width: Int?
    public var height: Int?

    public init(resourceType: ResourceType, format: String, mimeType: String, width: Int? = nil, height: Int? = nil) {
        self.resourceType = resourceType
        self.format = format
        self.mimeType = mimeType
        self.width = width
        self.height = height
    }
}

/// Tells the format of an upload from its first bytes, never from its name, and reads image dimensions from
/// the headers without decoding anything.
///
/// Recognised, as Cloudinary classifies them
/// (<https://cloudinary.com/documentation/image_transformations#supported_image_formats>):
/// - images: PNG (IHDR), JPEG (the first SOFn frame header, reached by walking the marker segments), GIF
///   (logical screen), WebP (`VP8 `, `VP8L` and `VP8X` chunks), and PDF, which Cloudinary stores as an
///   `image` with format `pdf` (a document of pages it can rasterise); its size is the first `/MediaBox`
///   found in the bytes given, in PDF points, when there is one;
/// - video: ISO base media files (`ftyp` box: `mp4`, `mov` for QuickTime's `qt  ` brand, `m4a` for audio,
///   which Cloudinary also files under `video`) and Matroska/EBML (`webm`, or `mkv` for other doc types).
///
/// Everything else is nil (a `raw` asset). SVG and HTML in particular are never images here: served from
/// our origin they could run script.
///
/// Give it the first 64 KiB (``BlobWriter/sniffPrefixLength``): enough for any JPEG's segments before the
/// frame header except ones with huge embedded thumbnails, whose size then stays unknown.
public enum FormatSniffer {
    public static func sniff(_ bytes: [UInt8]) -> SniffedFormat? {
        let reader = ByteReader(bytes)
        if let format = png(reader) ?? jpeg(reader) ?? gif(reader) ?? webp(reader) ?? pdf(reader) {
            return format
        }
        return isoMedia(reader) ?? ebml(reader)
    }

    // MARK: Images

    private static func png(_ data: ByteReader) -> SniffedFormat? {
        guard data.matches([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], at: 0) else { return nil }
        var format = SniffedFormat(resourceType: .image, format: "png", mimeType: "image/png")
        // The first chunk must be IHDR: length (4), "IHDR", width (4, big-endian), height (4).
        if data.matches(Array("IHDR".utf8), at: 12), let width = data.uint32BE(at: 16),
            let height = data.uint32BE(at: 20)
        {
            format.width = Int(width)
            format.height = Int(height)
        }
        return format
    }

    private static func jpeg(_ data: ByteReader) -> SniffedFormat? {
        guard data.matches([0xFF, 0xD8, 0xFF], at: 0) else { return nil }
        var format = SniffedFormat(resourceType: .image, format: "jpg", mimeType: "image/jpeg")
        var offset = 2
        // Marker segments: 0xFF, marker (after optional 0xFF fill bytes), big-endian length that counts itself.
        while let byte = data.byte(at: offset), byte == 0xFF {
            var markerOffset = offset + 1
            while data.byte(at: markerOffset) == 0xFF { markerOffset += 1 }
            guard let marker = data.byte(at: markerOffset) else { break }
            offset = markerOffset + 1
            // Standalone markers carry no length: TEM, RST0-7.
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }
            // SOI again, EOI or SOS (entropy-coded data follows): no frame header before it.
            if marker == 0xD8 || marker == 0xD9 || marker == 0xDA { break }
            guard let length = data.uint16BE(at: offset), length >= 2 else { break }
            // SOF0-15 except DHT (C4), JPG (C8) and DAC (CC): precision (1), height (2), width (2).
            if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                if let height = data.uint16BE(at: offset + 3), let width = data.uint16BE(at: offset + 5) {
                    format.width = Int(width)
                    format.height = Int(height)
                }
                break
            }
            offset += Int(length)
        }
        return format
    }

    private static func gif(_ data: ByteReader) -> SniffedFormat? {
        guard data.matches(Array("GIF87a".utf8), at: 0) || data.matches(Array("GIF89a".utf8), at: 0) else {
            return nil
        }
        var format = SniffedFormat(resourceType: .image, format: "gif", mimeType: "image/gif")
        if let width = data.uint16LE(at: 6), let height = data.uint16LE(at: 8) {
            format.width = Int(width)
            format.height = Int(height)
        }
        return format
    }

    private static func webp(_ data: ByteReader) -> SniffedFormat? {
        guard data.matches(Array("RIFF".utf8), at: 0), data.matches(Array("WEBP".utf8), at: 8) else { return nil }
        var format = SniffedFormat(resourceType: .image, format: "webp", mimeType: "image/webp")
        let chunk = 20  // The first chunk's payload, after its FourCC (12) and size (16).
        if data.matches(Array("VP8 ".utf8), at: 12) {
            // Lossy (RFC 6386 §9.1): frame tag (3), start code 9D 01 2A, then 14-bit width and height.
            if data.matches([0x9D, 0x01, 0x2A], at: chunk + 3), let width = data.uint16LE(at: chunk + 6),
                let height = data.uint16LE(at: chunk + 8)
            {
                format.width = Int(width & 0x3FFF)
                format.height = Int(height & 0x3FFF)
            }
        } else if data.matches(Array("VP8L".utf8), at: 12) {
            // Lossless: signature 0x2F, then width - 1 and height - 1 in 14 bits each, little-endian.
            if data.byte(at: chunk) == 0x2F, let bits = data.uint32LE(at: chunk + 1) {
                format.width = Int(bits & 0x3FFF) + 1
                format.height = Int((bits >> 14) & 0x3FFF) + 1
            }
        } else if data.matches(Array("VP8X".utf8), at: 12) {
            // Extended: flags (1), reserved (3), canvas width - 1 and height - 1 in 24 bits each.
            if let width = data.uint24LE(at: chunk + 4), let height = data.uint24LE(at: chunk + 7) {
                format.width = Int(width) + 1
                format.height = Int(height) + 1
            }
        }
        return format
    }

    private static func pdf(_ data: ByteReader) -> SniffedFormat? {
        guard data.matches(Array("%PDF-".utf8), at: 0) else { return nil }
        var format = SniffedFormat(resourceType: .image, format: "pdf", mimeType: "application/pdf")
        if let box = mediaBox(data) {
            format.width = box.width
            format.height = box.height
        }
        return format
    }

    /// The first `/MediaBox [x0 y0 x1 y1]` in the bytes, rounded to whole points; nil if there is none in
    /// plain text (object streams compress it).
    private static func mediaBox(_ data: ByteReader) -> (width: Int, height: Int)? {
        guard let start = data.firstIndex(of: Array("/MediaBox".utf8)) else { return nil }
        var offset = start + 9
        while let byte = data.byte(at: offset), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            offset += 1
        }
        guard data.byte(at: offset) == UInt8(ascii: "[") else { return nil }
        offset += 1
        var numbers: [Double] = []
        var token: [UInt8] = []
        while numbers.count < 4, let byte = data.byte(at: offset), offset - start < 200 {
            offset += 1
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            {
                token.append(byte)
                continue
            }
            if !token.isEmpty {
                guard let number = Double(String(decoding: token, as: UTF8.self)) else { return nil }
                numbers.append(number)
                token = []
            }
            if byte == UInt8(ascii: "]") { break }
        }
        guard numbers.count == 4 else { return nil }
        let width = (numbers[2] - numbers[0]).magnitude.rounded()
        let height = (numbers[3] - numbers[1]).magnitude.rounded()
        guard width >= 1, height >= 1, width < 1_000_000, height < 1_000_000 else { return nil }
        return (Int(width), Int(height))
    }

    // MARK: Video

    private static func isoMedia(_ data: ByteReader) -> SniffedFormat? {
        // ISO/IEC 14496-12: the first box is `ftyp` (size 4, type 4, major brand 4).
        guard data.matches(Array("ftyp".utf8), at: 4), let size = data.uint32BE(at: 0), size >= 12,
            let brandBytes = data.slice(at: 8, count: 4)
        else { return nil }
        switch String(decoding: brandBytes, as: UTF8.self) {
        case "qt  ":
            return SniffedFormat(resourceType: .video, format: "mov", mimeType: "video/quicktime")
        case "M4A ", "M4B ":
            return SniffedFormat(resourceType: .video, format: "m4a", mimeType: "audio/mp4")
        default:
            return SniffedFormat(resourceType: .video, format: "mp4", mimeType: "video/mp4")
        }
    }

    private static func ebml(_ data: ByteReader) -> SniffedFormat? {
        guard data.matches([0x1A, 0x45, 0xDF, 0xA3], at: 0) else { return nil }
        // DocType element (ID 0x4282) in the EBML header: one-byte size (0x80 | n), then n ASCII bytes.
        if let index = data.firstIndex(of: [0x42, 0x82], limit: 64), let size = data.byte(at: index + 2),
            size & 0x80 != 0, let docType = data.slice(at: index + 3, count: Int(size & 0x7F)),
            String(decoding: docType, as: UTF8.self) != "webm"
        {
            return SniffedFormat(resourceType: .video, format: "mkv", mimeType: "video/x-matroska")
        }
        return SniffedFormat(resourceType: .video, format: "webm", mimeType: "video/webm")
    }
}

/// Bounds-checked reads from the sniffed prefix: every read past the end is nil, never a trap.
struct ByteReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func byte(at offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[offset] : nil
    }

    func slice(at offset: Int, count: Int) -> ArraySlice<UInt8>? {
        guard offset >= 0, count >= 0, offset <= bytes.count - count else { return nil }
        return bytes[offset..<offset + count]
    }

    func matches(_ expected: [UInt8], at offset: Int) -> Bool {
        guard let slice = slice(at: offset, count: expected.count) else { return false }
        return slice.elementsEqual(expected)
    }

    func uint16BE(at offset: Int) -> UInt16? {
        guard let s = slice(at: offset, count: 2) else { return nil }
        return UInt16(s[offset]) << 8 | UInt16(s[offset + 1])
    }

    func uint16LE(at offset: Int) -> UInt16? {
        guard let s = slice(at: offset, count: 2) else { return nil }
        return UInt16(s[offset + 1]) << 8 | UInt16(s[offset])
    }

    func uint24LE(at offset: Int) -> UInt32? {
        guard let s = slice(at: offset, count: 3) else { return nil }
        return UInt32(s[offset + 2]) << 16 | UInt32(s[offset + 1]) << 8 | UInt32(s[offset])
    }

    func uint32BE(at offset: Int) -> UInt32? {
        guard let s = slice(at: offset, count: 4) else { return nil }
        return s.reduce(0) { $0 << 8 | UInt32($1) }
    }

    func uint32LE(at offset: Int) -> UInt32? {
        guard let s = slice(at: offset, count: 4) else { return nil }
        return s.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The first offset at which `needle` occurs, searching offsets below `limit`.
    func firstIndex(of needle: [UInt8], limit: Int = Int.max) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        let last = min(bytes.count - needle.count, limit - 1)
        guard last >= 0 else { return nil }
        for offset in 0...last where bytes[offset] == needle[0] && matches(needle, at: offset) {
            return offset
        }
        return nil
    }
}
