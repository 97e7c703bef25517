/// What `MultipartParser.feed(_:)` found, in body order: each part is `partStart`, any number of `partData`,
/// `partEnd`; the closing boundary is `end`.
public enum MultipartEvent: Sendable, Equatable {
    case partStart(MultipartPartHeaders)
    /// Bytes of the current part's content, never empty, as they arrive.
    case partData([UInt8])
    case partEnd
    /// The close delimiter (RFC 2046 §5.1.1); what follows it (the epilogue) is ignored.
    case end
}

/// The header section of one part (RFC 7578 §4.2, §4.4).
public struct MultipartPartHeaders: Sendable, Equatable {
    /// The `name` parameter of `Content-Disposition: form-data`: the form field.
    public var name: String
    /// The `filename` parameter, exactly as sent: a hint from the client, never a safe path (RFC 7578 §4.2).
    public var filename: String?
    /// The part's `Content-Type`, or nil (then `text/plain`, RFC 7578 §4.4).
    public var contentType: String?
    /// Every header field of the part, in order.
    public var headers: HTTPHeaders

    public init(name: String, filename: String? = nil, contentType: String? = nil, headers: HTTPHeaders = [:]) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.headers = headers
    }

    public static func == (lhs: MultipartPartHeaders, rhs: MultipartPartHeaders) -> Bool {
        lhs.name == rhs.name && lhs.filename == rhs.filename && lhs.contentType == rhs.contentType
            && lhs.headers.fields == rhs.headers.fields
    }
}

/// Limits a `MultipartParser` enforces as bytes arrive.
public struct MultipartLimits: Sendable, Hashable {
    /// Largest header section of one part, its final empty line included; larger gets 431.
    public var maxHeaderBytes: Int
    /// Most parts in a body; more gets 413.
    public var maxParts: Int

    public init(maxHeaderBytes: Int = 8192, maxParts: Int = 1000) {
        self.maxHeaderBytes = max(4, maxHeaderBytes)
        self.maxParts = max(0, maxParts)
    }
}
