/// Serialises a response head (RFC 9112 §4, §6): status line, the handler's headers, then the framing and
/// connection headers the connection owns (`Date`, `Content-Length` or `Transfer-Encoding`, `Connection`).
enum ResponseHead {
    enum Framing {
        case length(Int)
        case chunked
        /// HTTP/1.0 stream: the body ends when the connection closes.
        case untilClose
        case none
    }

    static func write(
        _ response: HTTPResponse, version: HTTPVersion, framing: Framing, keepAlive: Bool, date: String,
        into buffer: ByteBuffer
    ) {
        var head = version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 "
        head.reserveCapacity(160 + response.headers.count * 40)
        head += String(response.status.code)
        head += " "
        head += response.status.reason
        head += "\r\n"
        for field in response.headers where !isConnectionOwned(field.name) {
            head += field.name
            head += ": "
            head += field.value
            head += "\r\n"
        }
        head += "Date: "
        head += date
        head += "\r\n"
        switch framing {
        case .length(let length):
            head += "Content-Length: "
            head += String(length)
            head += "\r\n"
        case .chunked:
            head += "Transfer-Encoding: chunked\r\n"
        case .untilClose, .none:
            break
        }
        if !keepAlive {
            head += "Connection: close\r\n"
        } else if version == .http1_0 {
            head += "Connection: keep-alive\r\n"
        }
        head += "\r\n"
        buffer.append(head)
    }

    /// Headers a handler may not set: the connection decides framing and persistence.
    private static func isConnectionOwned(_ name: String) -> Bool {
        let utf8 = name.utf8
        switch utf8.count {
        case 4: return HTTPHeaders.namesEqual(name, "Date")
        case 10: return HTTPHeaders.namesEqual(name, "Connection")
        case 14: return HTTPHeaders.namesEqual(name, "Content-Length")
        case 17: return HTTPHeaders.namesEqual(name, "Transfer-Encoding")
        default: return false
        }
    }
}
