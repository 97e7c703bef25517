import Synchronization

/// Why a streamed request body ended before its last byte.
public enum RequestBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The client closed the connection (or it failed) mid-body.
    case disconnected
    /// The body broke its framing (a bad chunk, RFC 9112 §7.1) or outgrew the route's limit.
    case invalid(HTTPParseError)
    /// The client sent too slowly; the connection answered 408.
    case timedOut
    /// The response was sent (or the connection gave up) before the body was read: the rest is discarded.
    case abandoned
    /// The task reading the body was cancelled.
    case cancelled

    public var description: String {
        switch self {
        case .disconnected: "the client disconnected mid-body"
        case .invalid(let error): "invalid body: \(error)"
        case .timedOut: "the request body stalled"
        case .abandoned: "the request was answered before its body was read"
        case .cancelled: "reading the body was cancelled"
        }
    }

    /// The answer to give when a handler lets this error escape (usually too late to reach the client).
    public var httpError: HTTPError {
        switch self {
        case .invalid(let error): error.httpError
        case .timedOut: HTTPError(.requestTimeout, code: "request_timeout", message: "The request body stalled.")
        case .disconnected, .abandoned, .cancelled:
            HTTPError.badRequest("The request body was not received.", code: "body_incomplete")
        }
    }
}

/// A request body received while the handler runs, for routes that opt in through
/// `HTTPServerConfiguration.streamedBodies`: an `AsyncSequence` of byte chunks, transfer coding already removed
/// (RFC 9112 §7.1), ending when the body does or throwing a `RequestBodyError`.
///
/// Backpressure: the connection feeds chunks on its event loop and stops reading the socket while more than
/// `highWater` bytes wait here; the consumer taking them below `lowWater` resumes it, so the memory held per
/// upload is bounded whatever its size. A waiting `Expect: 100-continue` (RFC 9110 §10.1.1) is answered only when
/// the consumer first asks for data, so a handler that refuses the request never invites the body.
///
/// One consumer at a time; answering the request ends the stream (`RequestBodyError.abandoned`): read what you
/// need before answering.
public final class RequestBodyStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = RequestBodyError

    private enum End {
        case finished
        case failed(RequestBodyError)
    }

    private struct State {
        var chunks: [[UInt8]] = []
        /// Index of the first chunk not yet taken (taken ones are dropped in batches).
        var head = 0
        var bufferedBytes = 0
        var maxBufferedBytes = 0
        var receivedBytes = 0
        var end: End?
        var waiter: CheckedContinuation<Result<[UInt8]?, RequestBodyError>, Never>?
        /// The producer stopped at the high-water mark and waits for `demand`.
        var producerPaused = false
        /// The consumer has asked for data at least once (the cue for 100 Continue).
        var demanded = false
        var demand: (@Sendable () -> Void)?

        mutating func take() -> [UInt8]? {
            guard head < chunks.count else { return nil }
            let chunk = chunks[head]
            chunks[head] = []
            head += 1
            if head == chunks.count {
                chunks.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64 {
                chunks.removeFirst(head)
                head = 0
            }
            bufferedBytes -= chunk.count
            return chunk
        }

        mutating func dropBuffered() {
            chunks = []
            head = 0
            bufferedBytes = 0
        }
    }

    /// The body's `Content-Length`, or nil for chunked bodies (RFC 9112 §6.3).
    public let expectedLength: Int?
    /// The connection pauses reading above this many buffered bytes…
    public let highWater: Int
    /// …and resumes once the consumer has taken the buffer down to this many.
    public let lowWater: Int
    private let state = Mutex(State())

    init(expectedLength: Int?, highWater: Int) {
        self.expectedLength = expectedLength
        self.highWater = Swift.max(1, highWater)
        lowWater = self.highWater / 2
    }

    // MARK: Consumer

    /// The next chunk (never empty), or nil at the end of the body.
    public func next() async throws(RequestBodyError) -> [UInt8]? {
        if Task.isCancelled { throw .cancelled }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let (ready, wake) = state.withLock {
                    state -> (Result<[UInt8]?, RequestBodyError>?, (@Sendable () -> Void)?) in
                    if let chunk = state.take() {
                        var wake: (@Sendable () -> Void)?
                        if state.producerPaused && state.bufferedBytes <= lowWater {
                            state.producerPaused = false
                            wake = state.demand
                        }
                        return (.success(chunk), wake)
                    }
                    switch state.end {
                    case .finished: return (.success(nil), nil)
                    case .failed(let error): return (.failure(error), nil)
                    case nil: break
                    }
                    guard state.waiter == nil else { return (.failure(.cancelled), nil) }
                    state.waiter = continuation
                    var wake: (@Sendable () -> Void)?
                    if !state.demanded || state.producerPaused {
                        state.demanded = true
                        state.producerPaused = false
                        wake = state.demand
                    }
                    return (nil, wake)
                }
                wake?()
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: .failure(.cancelled))
        }
        return try result.get()
    }

    /// Reads the rest of the body into memory, refusing more than `limit` bytes with 413.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let chunk = try await next() {
            guard bytes.count + chunk.count <= limit else {
                cancel()
                throw HTTPParseError.bodyTooLarge.httpError
            }
            bytes += chunk
        }
        return bytes
    }

    /// The consumer wants no more: buffered and later chunks are dropped and the connection reads on (and
    /// discards) what the client still sends.
    public func cancel() {
        end(.failed(.cancelled), dropBuffered: true)
    }

    /// Bytes received and not yet taken by the consumer.
    public var bufferedBytes: Int { state.withLock { $0.bufferedBytes } }

    /// The most bytes ever buffered at once: stays near `highWater` however large the body is.
    public var maxBufferedBytes: Int { state.withLock { $0.maxBufferedBytes } }

    /// Body bytes received from the client so far.
    public var receivedBytes: Int { state.withLock { $0.receivedBytes } }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let stream: RequestBodyStream

        public mutating func next() async throws(RequestBodyError) -> [UInt8]? { try await stream.next() }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RequestBodyError) -> [UInt8]? {
            try await stream.next()
        }
    }

    // MARK: Producer (the connection, on its loop)

    /// Installs the callback run when the consumer first asks for data or drains below `lowWater` after a pause.
    func onDemand(_ demand: @escaping @Sendable () -> Void) {
        state.withLock { $0.demand = demand }
    }

    /// Hands a chunk to the consumer. Returns false when the producer must pause until `onDemand` fires.
    /// After the stream ended (cancelled, abandoned) chunks are dropped and reading goes on.
    func feed(_ chunk: [UInt8]) -> Bool {
        guard !chunk.isEmpty else { return true }
        let (waiter, keepReading) = state.withLock {
            state -> (CheckedContinuation<Result<[UInt8]?, RequestBodyError>, Never>?, Bool) in
            state.receivedBytes += chunk.count
            guard state.end == nil else { return (nil, true) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, true)
            }
            state.chunks.append(chunk)
            state.bufferedBytes += chunk.count
            state.maxBufferedBytes = Swift.max(state.maxBufferedBytes, state.bufferedBytes)
            if state.bufferedBytes > highWater {
                state.producerPaused = true
                return (nil, false)
            }
            return (nil, true)
        }
        waiter?.resume(returning: Result<[UInt8]?, RequestBodyError>.success(chunk))
        return keepReading
    }

    /// The body is complete: the consumer gets what is buffered, then nil.
    func finish() { end(.finished, dropBuffered: false) }

    /// The body will not complete: buffered chunks are dropped and the consumer gets `error`.
    func fail(_ error: RequestBodyError) { end(.failed(error), dropBuffered: true) }

    /// Whether the body reached its end or an error (no more chunks will be accepted).
    var isEnded: Bool { state.withLock { $0.end != nil } }

    private func end(_ end: End, dropBuffered: Bool) {
        let (waiter, wake) = state.withLock {
            state -> (CheckedContinuation<Result<[UInt8]?, RequestBodyError>, Never>?, (@Sendable () -> Void)?) in
            guard state.end == nil else { return (nil, nil) }
            state.end = end
            if dropBuffered { state.dropBuffered() }
            var wake: (@Sendable () -> Void)?
            if state.producerPaused {
                // A paused producer must go on reading to discard the rest.
                state.producerPaused = false
                wake = state.demand
            }
            let waiter = state.waiter
            state.waiter = nil
            return (waiter, wake)
        }
        if let waiter {
            switch end {
            case .finished: waiter.resume(returning: .success(nil))
            case .failed(let error): waiter.resume(returning: .failure(error))
            }
        }
        wake?()
    }
}
