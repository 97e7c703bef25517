/// Serialises a response head (RFC 9112 §4, §6) straight into the output buffer: status line, the handler's
/// headers, then the framing and connection headers the connection owns (`Date`, `Content-Length` or
/// `Transfer-Encoding`, `Connection`). No intermediate String: this runs once per response.
enum ResponseHead {
    enum Framing {
        case length(Int)
        case chunked
        /// HTTP/1.0 stream: the body ends when the connection closes.
        case untilClose
        case none
        /// A 101 to WebSocket: `Connection: Upgrade` instead of keep-alive or close (RFC 6455 §4.2.2).
        case upgrade
    }

    static func write(
        _ response: HTTPResponse, version: HTTPVersion, framing: Framing, keepAlive: Bool, date: String,
        into buffer: ByteBuffer
    ) {
        buffer.appendLiteral(version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        buffer.appendDecimal(response.status.code)
        buffer.appendLiteral(" ")
        buffer.append(response.status.reason)
        buffer.appendLiteral("\r\n")
        for field in response.headers where !isConnectionOwned(field.name) {
            buffer.append(field.name)
            buffer.appendLiteral(": ")
            buffer.append(field.value)
            buffer.appendLiteral("\r\n")
        }
        buffer.appendLiteral("Date: ")
        buffer.append(date)
        switch framing {
        case .length(let length):
            buffer.appendLiteral("\r\nContent-Length: ")
            buffer.appendDecimal(length)
        case .chunked:
            buffer.appendLiteral("\r\nTransfer-Encoding: chunked")
        case .untilClose, .none:
            break
        case .upgrade:
            buffer.appendLiteral("\r\nConnection: Upgrade\r\n\r\n")
            return
        }
        if !keepAlive {
            buffer.appendLiteral("\r\nConnection: close")
        } else if version == .http1_0 {
            buffer.appendLiteral("\r\nConnection: keep-alive")
        }
        buffer.appendLiteral("\r\n\r\n")
    }

    /// Headers a handler may not set: the connection decides framing and persistence.
    @inline(__always)
    private static func isConnectionOwned(_ name: String) -> Bool {
        switch name.utf8.count {
        case 4: HTTPHeaders.namesEqual(name, "Date")
        case 10: HTTPHeaders.namesEqual(name, "Connection")
        case 14: HTTPHeaders.namesEqual(name, "Content-Length")
        case 17: HTTPHeaders.namesEqual(name, "Transfer-Encoding")
        default: false
        }
    }
}
