import CLinux
import Glibc
import Logging

/// One accepted TCP connection speaking HTTP/1.x, confined to its event loop thread.
///
/// Reads are edge-triggered: the socket is drained to EAGAIN unless the connection is paused, and a paused
/// connection remembers that more may be waiting (`socketMayHaveData`). Requests are handled one at a time in
/// arrival order, so pipelined responses leave in request order (RFC 9112 §9.3.2); a response available at
/// once is queued before the next pipelined request is parsed, and the output is written once per read batch.
///
/// A streamed request body (`HTTPServerConfiguration.streamedBodies`) is read while its handler runs: reading
/// pauses while the body's stream holds more than its high-water mark. A response queued before the body has
/// arrived ends the stream; the rest is read and discarded when its announced length is within `maxBodyBytes`,
/// otherwise the response carries `Connection: close` (RFC 9110 §10.1.1, RFC 9112 §9.6).
final class HTTPConnection: Selectable {
    private enum Phase {
        case open
        /// Our side is shut down for writing after a final response; unread input is drained until the peer
        /// closes or the deadline passes, so the client reads the response instead of a reset (RFC 9112 §9.6).
        case lingering(deadline: Int64)
        case closed
    }

    private enum OutgoingBody {
        case none
        case file(FileRegion)
        case stream(BodyStream, chunked: Bool)
    }

    private struct Exchange {
        var version: HTTPVersion
        var isHead: Bool
        var keepAlive: Bool
        /// Distinguishes exchanges, so a handler answering after the connection answered for it (a timeout)
        /// cannot answer the next request instead.
        var serial: Int
    }

    let descriptor: Int32
    let peer: SocketAddress?
    private unowned let owner: HTTPServerLoop
    private let input: ByteBuffer
    private let output: ByteBuffer
    private var parser: HTTPRequestParser
    private var phase = Phase.open
    private var body = OutgoingBody.none
    private var exchange: Exchange?
    private var socketMayHaveData = false
    private var writable = true
    private var peerClosed = false
    private var closeWhenFlushed = false
    private var sentContinue = false
    private var processing = false
    private var requestStartedAt: Int64?
    /// Last time bytes moved in either direction, or a response was queued.
    private var lastActivity: Int64
    /// When the current request's body began to arrive, and how much of it has, for the minimum-rate check.
    private var bodyStartedAt: Int64?
    private var bodyBytes = 0
    /// Whether the current exchange's response head has been queued.
    private var responseStarted = false
    /// Set once the connection upgraded to WebSocket; HTTP parsing is over then.
    private var webSocket: WebSocketSession?
    private var exchangeSerial = 0
    /// The stream of the request body being received, from the head until its last byte (also after an early
    /// answer, while the rest is discarded).
    private var inbound: RequestBodyStream?
    /// Reading is paused until the inbound stream's consumer drains it.
    private var inboundPaused = false
    /// `100 Continue` is owed once the consumer asks for the body (RFC 9110 §10.1.1).
    private var continueOwed = false

    /// Bodies slower than this on average (after the first `idleTimeout`) are cut off with 408.
    private static let minimumBodyBytesPerSecond = 1024

    private static let readChunk = 16 * 1024
    private static let bufferBaseline = 4 * 1024
    /// What each buffer of an idle WebSocket keeps: room for a typical event frame without growing.
    private static let webSocketIdleBuffer = 1024

    init(descriptor: Int32, peer: SocketAddress?, owner: HTTPServerLoop, now: Int64) {
        self.descriptor = descriptor
        self.peer = peer
        self.owner = owner
        input = ByteBuffer(capacity: Self.bufferBaseline)
        output = ByteBuffer(capacity: Self.bufferBaseline)
        parser = HTTPRequestParser(
            limits: owner.configuration.limits, streamedBodies: owner.configuration.streamedBodies)
        lastActivity = now
    }

    /// Graceful shutdown: an idle HTTP connection closes now; a WebSocket is told "going away" (1001) and
    /// closes once its peer answers or the drain deadline passes.
    func beginDraining() {
        if let session = webSocket {
            if !session.sentClose {
                closeWebSocket(code: WebSocketCloseCode.goingAway, reason: "server shutting down")
            }
            closeWhenFlushed = true
            flush()
        } else if isIdle {
            close()
        }
    }

    var isIdle: Bool {
        if case .open = phase {
            return exchange == nil && input.isEmpty && output.isEmpty && !parser.hasPartialRequest
        }
        return false
    }

    // MARK: Events

    func ready(events: UInt32) {
        // Both directions are gone or the socket failed: nothing more can be delivered. (EPOLLRDHUP alone
        // is a half-close, after which a client may still wait for its responses.)
        if events & (CLINUX_EPOLLHUP | CLINUX_EPOLLERR) != 0 {
            close()
            return
        }
        if events & CLINUX_EPOLLOUT != 0 {
            writable = true
            flush()
        }
        if events & (CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP) != 0 {
            socketMayHaveData = true
            readFromSocket()
        }
    }

    private func readFromSocket() {
        while socketMayHaveData {
            switch phase {
            case .closed:
                return
            case .lingering:
                drainAndDiscard()
                return
            case .open:
                break
            }
            // Pause while a response is pending (unless its body streams in) or output is backed up, or the body
            // stream is full; resumed when that clears.
            if (exchange != nil && inbound == nil) || inboundPaused || closeWhenFlushed
                || output.readableCount > owner.configuration.outputHighWater
            {
                return
            }
            let region = input.reserve(Self.readChunk)
            // A streamed body takes one read chunk at a time, so its stream passes the high-water mark by at most
            // that much.
            let count = read(descriptor, region.baseAddress, inbound == nil ? region.count : Self.readChunk)
            if count > 0 {
                input.didWrite(count)
                let now = owner.now
                lastActivity = now
                webSocket?.unansweredPings = 0
                if requestStartedAt == nil { requestStartedAt = now }
                if parser.isReadingBody {
                    if bodyStartedAt == nil {
                        bodyStartedAt = now
                        bodyBytes = 0
                    }
                    bodyBytes += count
                }
                processInput()
            } else if count == 0 {
                socketMayHaveData = false
                peerClosed = true
                if let inbound {
                    // The body can never complete; its exchange is answered if the handler still answers.
                    inbound.fail(.disconnected)
                    self.inbound = nil
                }
                // A half-closed client may still wait for responses to what it already sent; a request it left
                // unfinished can never complete, so with nothing in flight the connection is done.
                if exchange == nil && output.isEmpty {
                    close()
                } else {
                    closeWhenFlushed = true
                }
                return
            } else {
                switch errno {
                case EAGAIN, EWOULDBLOCK: socketMayHaveData = false
                case EINTR: continue
                default:
                    close()
                    return
                }
            }
        }
    }

    /// Parses and dispatches every complete request in the input buffer, then writes what was produced.
    private func processInput() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        parsing: while case .open = phase, exchange == nil || inbound != nil, !inboundPaused, !closeWhenFlushed,
            !input.isEmpty
        {
            if webSocket != nil {
                processWebSocketInput()
                break parsing
            }
            let (consumed, event) = parser.parse(input.readable)
            input.consume(consumed)
            switch event {
            case .needMoreData:
                break parsing
            case .expectsContinue:
                // RFC 9110 §10.1.1: tell the client to send the body it is holding back.
                if !sentContinue {
                    sentContinue = true
                    output.appendLiteral("HTTP/1.1 100 Continue\r\n\r\n")
                }
            case .request(let request):
                sentContinue = false
                requestStartedAt = input.isEmpty ? nil : owner.now
                dispatch(request)
            case .streamedRequest(var request, let expectsContinue):
                sentContinue = false
                requestStartedAt = nil
                let stream = RequestBodyStream(
                    expectedLength: parser.remainingBodyLength, highWater: owner.configuration.requestBodyHighWater)
                let connection = LoopBound(self)
                let loop = owner.loop
                stream.onDemand { [weak stream] in
                    guard let stream else { return }
                    loop.execute { connection.value.inboundDemand(stream) }
                }
                if parser.isStreamingBody {
                    inbound = stream
                    continueOwed = expectsContinue
                } else {
                    stream.finish()
                }
                request.bodyStream = stream
                dispatch(request)
            case .bodyData(let bytes, let isLast):
                if let stream = inbound {
                    if !stream.feed(bytes) { inboundPaused = true }
                    if isLast {
                        stream.finish()
                        inbound = nil
                        inboundPaused = false
                        continueOwed = false
                        requestStartedAt = input.isEmpty ? nil : owner.now
                    }
                }
            case .error(let error):
                if let stream = inbound {
                    stream.fail(.invalid(error))
                    inbound = nil
                    if exchange == nil {
                        // Already answered; the discarded rest of its body is broken.
                        close()
                        return
                    }
                    answerAndClose(error.httpError)
                    break parsing
                }
                startExchange(Exchange(version: .http1_1, isHead: false, keepAlive: false, serial: 0))
                complete(error.httpError.response)
                break parsing
            }
        }
        flush()
    }

    private func dispatch(_ request: HTTPRequest) {
        let keepAlive = request.keepAlive && !owner.draining && !peerClosed
        let serial = startExchange(
            Exchange(version: request.version, isHead: request.method == .HEAD, keepAlive: keepAlive, serial: 0))
        let context = RequestContext(
            requestID: "", remoteAddress: peer, receivedAt: MonotonicClock.nanoseconds(), eventLoop: owner.loop)
        switch owner.responder.respond(to: request, context: context) {
        case .now(let response):
            complete(response, serial: serial)
        case .later(let pending):
            let connection = LoopBound(self)
            let loop = owner.loop
            pending.whenComplete { response in
                loop.execute {
                    connection.value.complete(response, serial: serial)
                    connection.value.resume()
                }
            }
        }
    }

    @discardableResult
    private func startExchange(_ new: Exchange) -> Int {
        exchangeSerial += 1
        exchange = new
        exchange?.serial = exchangeSerial
        bodyStartedAt = nil
        responseStarted = false
        lastActivity = owner.now
        return exchangeSerial
    }

    /// Queues the response to the current exchange. Bodies in memory finish the exchange at once; files and
    /// streams finish it when their last byte is queued. `serial` names the exchange a handler answers.
    private func complete(_ response: HTTPResponse, serial: Int? = nil) {
        guard case .open = phase, var current = exchange, !responseStarted, serial == nil || serial == current.serial
        else {
            Self.release(response.body)
            return
        }
        var response = response
        if let stream = inbound {
            // Answered before the body arrived (RFC 9110 §10.1.1): the stream ends here. The rest is read and
            // dropped if it is announced and small enough; otherwise (chunked, large, or never invited with
            // 100 Continue) the connection closes after the response (RFC 9112 §9.6).
            stream.fail(.abandoned)
            inboundPaused = false
            let remaining = parser.remainingBodyLength ?? Int.max
            if continueOwed || remaining > owner.configuration.limits.maxBodyBytes { current.keepAlive = false }
            continueOwed = false
        }
        if case .webSocket(let upgrade) = response.body, response.status.code == 101 {
            startWebSocket(response, upgrade: upgrade, version: current.version)
            return
        }
        if response.status.code < 200 {
            // An interim status as the final answer would leave the client waiting for one forever.
            Self.release(response.body)
            response = ErrorResponse.response(
                for: HTTPError.internalError("A handler answered with an interim status."))
        }
        if case .file(let region) = response.body, region.length == 0 {
            Self.release(response.body)
            response.body = .empty
        }
        responseStarted = true
        lastActivity = owner.now
        if closeWhenFlushed || owner.draining { current.keepAlive = false }
        var sendsBody = response.status.allowsBody && !current.isHead
        let framing: ResponseHead.Framing
        if !response.status.allowsBody {
            framing = .none
        } else {
            switch response.body {
            case .empty: framing = .length(0)
            case .bytes(let bytes): framing = .length(bytes.count)
            case .file(let region): framing = .length(region.length)
            case .webSocket: framing = .length(0)
            case .stream:
                if current.version == .http1_0 {
                    current.keepAlive = false
                    framing = .untilClose
                } else {
                    framing = .chunked
                }
                if current.isHead { sendsBody = false }
            }
        }
        ResponseHead.write(
            response, version: current.version, framing: framing, keepAlive: current.keepAlive,
            date: owner.dateHeader(), into: output)
        if !current.keepAlive { closeWhenFlushed = true }
        if sendsBody {
            switch response.body {
            case .empty, .webSocket: break
            case .bytes(let bytes): output.append(bytes)
            case .file(let region): body = .file(region)
            case .stream(let stream):
                body = .stream(stream, chunked: current.version != .http1_0)
                let connection = LoopBound(self)
                let loop = owner.loop
                stream.attach { loop.execute { connection.value.flush() } }
            }
        } else {
            Self.release(response.body)
        }
        if case .none = body { exchange = nil }
    }

    /// The inbound stream's consumer asked for data: send a `100 Continue` still owed, resume paused reading.
    private func inboundDemand(_ stream: RequestBodyStream) {
        guard case .open = phase, stream === inbound else { return }
        if continueOwed {
            continueOwed = false
            // RFC 9110 §10.1.1: no need once body bytes are arriving anyway.
            if stream.receivedBytes == 0 { output.appendLiteral("HTTP/1.1 100 Continue\r\n\r\n") }
        }
        if inboundPaused {
            inboundPaused = false
            // The client was not sending while paused: restart the minimum-rate window.
            bodyStartedAt = nil
            lastActivity = owner.now
        }
        resume()
    }

    /// Answers the current exchange with `error` if its response has not started, then closes.
    private func answerAndClose(_ error: HTTPError) {
        if var current = exchange, !responseStarted {
            current.keepAlive = false
            exchange = current
            complete(error.response)
        } else {
            closeWhenFlushed = true
        }
        flush()
    }

    /// Continues after an asynchronous response or a finished file/stream body.
    private func resume() {
        flush()
        processInput()
        readFromSocket()
    }

    // MARK: Writing

    /// Writes queued bytes, then the file or stream body, until done or the socket would block.
    private func flush() {
        while true {
            if case .closed = phase { return }
            if !output.isEmpty {
                guard writable else { return }
                let pending = output.readable
                let count = send(descriptor, pending.baseAddress, pending.count, Int32(MSG_NOSIGNAL))
                if count >= 0 {
                    output.consume(count)
                    lastActivity = owner.now
                    continue
                }
                switch errno {
                case EAGAIN, EWOULDBLOCK:
                    writable = false
                    return
                case EINTR:
                    continue
                default:
                    close()
                    return
                }
            }
            switch body {
            case .none:
                output.reset(shrinkingTo: Self.bufferBaseline)
                if closeWhenFlushed && exchange == nil { startLingeringClose() }
                return
            case .file(var region):
                guard writable else { return }
                var offset = off_t(region.offset)
                let count = sendfile(descriptor, region.descriptor, &offset, min(region.length, 1 << 20))
                if count > 0 {
                    lastActivity = owner.now
                    region.offset += count
                    region.length -= count
                    if region.length == 0 {
                        Glibc.close(region.descriptor)
                        body = .none
                        finishBody()
                    } else {
                        body = .file(region)
                    }
                } else if count == 0 {
                    // The file shrank under us: the promised Content-Length cannot be met.
                    close()
                    return
                } else {
                    switch errno {
                    case EAGAIN, EWOULDBLOCK:
                        writable = false
                        return
                    case EINTR:
                        continue
                    default:
                        close()
                        return
                    }
                }
            case .stream(let stream, let chunked):
                // Take only what fits under the high-water mark: a fast producer and a slow reader must not
                // grow our memory; the rest waits in the stream until the socket drains (EPOLLOUT).
                let room = owner.configuration.outputHighWater - output.readableCount
                guard room > 0 else { return }
                let (chunks, finished) = stream.drain(limit: room)
                for chunk in chunks {
                    if chunked { output.append(String(chunk.count, radix: 16) + "\r\n") }
                    output.append(chunk)
                    if chunked { output.appendLiteral("\r\n") }
                }
                if finished {
                    if chunked { output.appendLiteral("0\r\n\r\n") }
                    body = .none
                    finishBody()
                } else if chunks.isEmpty {
                    return
                }
            }
        }
    }

    private func finishBody() {
        exchange = nil
        lastActivity = owner.now
        let connection = LoopBound(self)
        owner.loop.execute { connection.value.resume() }
    }

    // MARK: Closing

    private func startLingeringClose() {
        guard case .open = phase else { return }
        if peerClosed {
            close()
            return
        }
        shutdown(descriptor, Int32(SHUT_WR))
        phase = .lingering(deadline: owner.now + owner.configuration.lingerTimeout)
        input.reset(shrinkingTo: Self.bufferBaseline)
        drainAndDiscard()
    }

    private func drainAndDiscard() {
        let region = input.reserve(Self.readChunk)
        while true {
            let count = read(descriptor, region.baseAddress, region.count)
            if count > 0 { continue }
            if count == 0 {
                close()
            } else if errno == EINTR {
                continue
            } else if errno != EAGAIN && errno != EWOULDBLOCK {
                close()
            }
            socketMayHaveData = false
            return
        }
    }

    func close() {
        if case .closed = phase { return }
        phase = .closed
        owner.loop.deregister(descriptor)
        Glibc.close(descriptor)
        if let session = webSocket, !session.notifiedClosed {
            session.notifiedClosed = true
            session.handler.closed(session.socket, code: nil)
        }
        switch body {
        case .file(let region): Glibc.close(region.descriptor)
        case .stream(let stream, _): stream.cancel()
        case .none: break
        }
        body = .none
        inbound?.fail(.disconnected)
        inbound = nil
        owner.connectionClosed(self)
    }

    /// Answers with `error` if nothing else is under way, then closes.
    private func fail(with error: HTTPError) {
        guard case .open = phase, exchange == nil else {
            close()
            return
        }
        startExchange(Exchange(version: .http1_1, isHead: false, keepAlive: false, serial: 0))
        complete(error.response)
        flush()
    }

    /// Frees what a body holds when it will not be sent: closes a file, cancels a stream.
    private static func release(_ body: HTTPBody) {
        switch body {
        case .file(let region): Glibc.close(region.descriptor)
        case .stream(let stream): stream.cancel()
        case .empty, .bytes, .webSocket: break
        }
    }

    // MARK: Timeouts

    /// Called about once a second by the owning loop.
    func checkTimeouts(now: Int64) {
        let configuration = owner.configuration
        switch phase {
        case .closed:
            return
        case .lingering(let deadline):
            if now >= deadline { close() }
        case .open:
            if let since = webSocket?.closingSince, now - since >= configuration.lingerTimeout {
                // Our Close (RFC 6455 §7.1.2) went unanswered, or a slow consumer never caught up: done waiting.
                close()
            } else if !output.isEmpty || bodyIsSending {
                // A reader that stopped reading (or vanished without a FIN) holds buffers and a slot.
                if now - lastActivity >= configuration.idleTimeout { close() }
            } else if let session = webSocket {
                // A WebSocket quiet for a second gives its buffers back (10,000 idle ones must not pin 20 KiB
                // each); a busy one keeps them, so broadcasts do not allocate and fault pages on every write.
                if now - lastActivity >= 1000 {
                    let input = input.releaseIfIdle(keeping: Self.webSocketIdleBuffer)
                    let output = output.releaseIfIdle(keeping: Self.webSocketIdleBuffer)
                    if input || output { owner.releasedBuffers = true }
                }
                // Heartbeat: ping a quiet WebSocket each period; one that missed two pings is gone.
                guard now - lastActivity >= configuration.webSocketPingInterval else { return }
                if session.unansweredPings >= 2 {
                    close()
                } else {
                    session.unansweredPings += 1
                    lastActivity = now
                    output.append(WebSocketFrameWriter.ping())
                    flush()
                }
            } else if let stream = inbound, !inboundPaused, !continueOwed {
                // A streamed body: the same minimum rate as buffered ones, counted while we are reading.
                guard isBodyTooSlow(now: now) else { return }
                stream.fail(.timedOut)
                inbound = nil
                if exchange == nil {
                    close()  // answered already; the rest was being discarded
                } else {
                    answerAndClose(
                        HTTPError(.requestTimeout, code: "request_timeout", message: "The request body stalled."))
                }
            } else if exchange != nil {
                guard now - lastActivity >= configuration.responseTimeout else { return }
                if responseStarted {
                    close()  // a stream whose producer went quiet
                } else {
                    complete(
                        HTTPError(
                            .serviceUnavailable, code: "response_timeout",
                            message: "The server did not produce a response in time."
                        ).response)
                    flush()
                }
            } else if parser.isReadingBody {
                if isBodyTooSlow(now: now) {
                    fail(
                        with: HTTPError(.requestTimeout, code: "request_timeout", message: "The request body stalled."))
                }
            } else if parser.hasPartialRequest || !input.isEmpty {
                // Slowloris: the whole head must arrive within header_timeout of its first byte.
                if let started = requestStartedAt, now - started >= configuration.headerTimeout {
                    fail(
                        with: HTTPError(
                            .requestTimeout, code: "request_timeout", message: "The request head took too long."))
                }
            } else if owner.draining || now - lastActivity >= configuration.idleTimeout {
                close()
            }
        }
    }

    /// A body that stalled for `idleTimeout`, or averages under the minimum rate after its first `idleTimeout`.
    private func isBodyTooSlow(now: Int64) -> Bool {
        let idleTimeout = owner.configuration.idleTimeout
        let elapsed = now - (bodyStartedAt ?? lastActivity)
        let tooSlow =
            elapsed >= idleTimeout && Int64(bodyBytes) * 1000 < Int64(Self.minimumBodyBytesPerSecond) * elapsed
        return now - lastActivity >= idleTimeout || tooSlow
    }

    private var bodyIsSending: Bool {
        if case .none = body { return false }
        return true
    }

    // MARK: WebSocket (RFC 6455)

    private func startWebSocket(_ response: HTTPResponse, upgrade: WebSocketUpgrade, version: HTTPVersion) {
        ResponseHead.write(
            response, version: version, framing: .upgrade, keepAlive: true, date: owner.dateHeader(), into: output)
        responseStarted = true
        exchange = nil
        let socket = WebSocket(connection: self, eventLoop: owner.loop)
        let session = WebSocketSession(
            parser: WebSocketFrameParser(maxMessageBytes: upgrade.maxMessageBytes),
            handler: upgrade.makeHandler(owner.loop),
            socket: socket, maxOutboundBytes: upgrade.maxOutboundBytes)
        webSocket = session
        lastActivity = owner.now
        session.handler.opened(socket)
    }

    /// Frames in, events to the handler. Control frames are answered here: pings with pongs, a Close with a
    /// Close echoing its code (§5.5.1), protocol errors with a Close carrying the error's code.
    private func processWebSocketInput() {
        guard let session = webSocket else { return }
        while case .open = phase, !closeWhenFlushed, !input.isEmpty {
            let (consumed, event) = session.parser.parse(input.readable)
            input.consume(consumed)
            switch event {
            case .needMoreData:
                return
            case .text(let text):
                if !session.sentClose { session.handler.received(.text(text), on: session.socket) }
            case .binary(let bytes):
                if !session.sentClose { session.handler.received(.binary(bytes), on: session.socket) }
            case .ping(let payload):
                if !session.sentClose { output.append(WebSocketFrameWriter.pong(payload)) }
            case .pong:
                session.unansweredPings = 0
            case .close(let code, _):
                if !session.sentClose {
                    session.sentClose = true
                    output.append(WebSocketFrameWriter.close(code: code ?? WebSocketCloseCode.normalClosure))
                }
                notifyClosed(session, code: code)
                closeWhenFlushed = true
            case .protocolError(let code, let reason):
                if !session.sentClose {
                    session.sentClose = true
                    output.append(WebSocketFrameWriter.close(code: code, reason: reason))
                }
                notifyClosed(session, code: code)
                closeWhenFlushed = true
            }
        }
    }

    private func notifyClosed(_ session: WebSocketSession, code: UInt16?) {
        guard !session.notifiedClosed else { return }
        session.notifiedClosed = true
        session.handler.closed(session.socket, code: code)
    }

    /// Queues an encoded frame, written at the end of the loop iteration together with any others queued in it.
    ///
    /// A peer that lets more than its upgrade's `maxOutboundBytes` pile up gets a Close with 1013 (try again
    /// later) after what is queued, and the linger time to read it before the socket is closed: one slow
    /// consumer must not grow our memory or delay anyone else. The frame that did not fit is dropped.
    func sendWebSocketFrame(_ frame: [UInt8]) {
        guard case .open = phase, let session = webSocket, !session.sentClose else { return }
        if output.readableCount + frame.count > session.maxOutboundBytes {
            notifyClosed(session, code: WebSocketCloseCode.tryAgainLater)
            closeWebSocket(code: WebSocketCloseCode.tryAgainLater, reason: "too slow")
            return
        }
        output.append(frame)
        guard !session.flushScheduled else { return }
        session.flushScheduled = true
        owner.loop.atIterationEnd { [self] in
            session.flushScheduled = false
            flush()
        }
    }

    /// Sends our Close (RFC 6455 §7.1.2) after what is queued; the peer has the linger time to answer.
    func closeWebSocket(code: UInt16, reason: String) {
        guard case .open = phase, let session = webSocket, !session.sentClose else { return }
        session.sentClose = true
        session.closingSince = owner.now
        output.append(WebSocketFrameWriter.close(code: code, reason: reason))
        flush()
    }
}
