import CLinux
import Glibc

/// One thread's share of the connections, driven by its own epoll instance (edge-triggered), plus the sending
/// that belongs to them: the fanout sender's window, or the latency senders' paced schedule.
final class Worker {
    private let id: Int
    private let options: Options
    private let shared: Shared
    private let connections: [Connection]
    /// latency: the worker's room groups and, per group, the local indices of its members.
    private let groups: [(group: Int, members: [Int])]
    /// latency: the chat room id of each group (all groups, by group index).
    private let roomIDs: [String]
    private let address: sockaddr_in
    private let epollFD: Int32
    private let events: UnsafeMutableRawPointer
    private let eventCapacity: Int32 = 1024
    private var random = FastRandom()
    private var scratch = [UInt8](repeating: 0, count: 256 * 1024)
    private var report = WorkerReport()

    private var nextToStart = 0
    private var inFlight = 0
    private let inFlightLimit: Int
    private var settled = 0
    private var phase = Phase.connecting
    private var sendStart: UInt64 = 0
    private var scheduled = 0
    private let rateShare: Double
    private var messageNumber = 0
    private var phaseDeliveries = 0
    private var publishedDeliveries = 0
    private var publishedSent = 0
    private var publishedAcknowledged = 0

    init(id: Int, options: Options, shared: Shared, endpoints: [Endpoint], roomIDs: [String], groupCount: Int) {
        self.id = id
        self.options = options
        self.shared = shared
        self.roomIDs = roomIDs
        connections = endpoints.map(Connection.init)
        inFlightLimit = max(1, options.connectConcurrency / options.threads)
        var byGroup: [Int: [Int]] = [:]
        for (local, endpoint) in endpoints.enumerated() where endpoint.role == .member {
            byGroup[endpoint.group, default: []].append(local)
        }
        groups = byGroup.keys.sorted().compactMap { key in byGroup[key].map { (key, $0) } }
        rateShare = groupCount > 0 ? options.rate * Double(groups.count) / Double(groupCount) : 0
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = options.url.port.bigEndian
        _ = inet_pton(AF_INET, options.url.host, &address.sin_addr)
        self.address = address
        epollFD = epoll_create1(CLINUX_EPOLL_CLOEXEC)
        guard epollFD >= 0, let events = clinux_epoll_events_allocate(eventCapacity) else {
            fail("epoll_create1: \(errorText(errno))")
        }
        self.events = events
    }

    /// Runs until the coordinator says stop; then closes everything and files the report.
    func run() {
        startConnections()
        while true {
            phase = shared.phase.load(ordering: .relaxed)
            if phase == Phase.stop { break }
            let count = clinux_epoll_wait(epollFD, events, eventCapacity, timeout())
            for i in 0..<max(0, Int(count)) {
                let mask = clinux_epoll_events_at(events, Int32(i))
                let local = Int(clinux_epoll_data_at(events, Int32(i)))
                guard local < connections.count else { continue }
                handle(connections[local], mask)
            }
            if inFlight < inFlightLimit, nextToStart < connections.count { startConnections() }
            if phase == Phase.warmup || phase == Phase.measuring { sendDue() }
            publish()
        }
        for connection in connections where connection.fd >= 0 { Glibc.close(connection.fd) }
        Glibc.close(epollFD)
        free(events)
        report.sent = publishedSent
        report.acknowledged = publishedAcknowledged
        shared.reports.withLock { $0.append(report) }
    }

    private func timeout() -> Int32 {
        if phase == Phase.warmup || phase == Phase.measuring { return options.mode == "latency" ? 1 : 5 }
        return 20
    }

    private func publish() {
        if report.deliveries != publishedDeliveries {
            shared.deliveries.add(report.deliveries - publishedDeliveries, ordering: .relaxed)
            publishedDeliveries = report.deliveries
        }
        if phaseDeliveries > 0 {
            shared.phaseDeliveries.add(phaseDeliveries, ordering: .relaxed)
            phaseDeliveries = 0
        }
        if report.sent != publishedSent {
            shared.sent.add(report.sent - publishedSent, ordering: .relaxed)
            publishedSent = report.sent
        }
        if report.acknowledged != publishedAcknowledged {
            shared.acknowledged.add(report.acknowledged - publishedAcknowledged, ordering: .relaxed)
            publishedAcknowledged = report.acknowledged
        }
    }

    // MARK: connecting

    private func startConnections() {
        while inFlight < inFlightLimit, nextToStart < connections.count {
            let local = nextToStart
            nextToStart += 1
            let connection = connections[local]
            let sourceIndex = connection.endpoint.index / options.perSourceAddress
            var source: in_addr?
            if sourceIndex > 0, options.url.host.hasPrefix("127.") {
                var address = in_addr()
                _ = inet_pton(AF_INET, "127.0.0.\(1 + sourceIndex)", &address)
                source = address
            }
            let code = connection.startConnect(to: address, from: source)
            if code != 0 {
                settleFailed(connection, "connect: \(errorText(code))")
                continue
            }
            let interest = CLINUX_EPOLLIN | CLINUX_EPOLLOUT | CLINUX_EPOLLRDHUP | CLINUX_EPOLLET
            guard clinux_epoll_ctl(epollFD, CLINUX_EPOLL_CTL_ADD, connection.fd, interest, UInt64(local)) == 0 else {
                settleFailed(connection, "epoll_ctl: \(errorText(errno))")
                continue
            }
            inFlight += 1
        }
    }

    private func settleReady(_ connection: Connection) {
        guard !connection.ready else { return }
        connection.ready = true
        inFlight -= 1
        settled += 1
        shared.ready.add(1, ordering: .relaxed)
    }

    private func settleFailed(_ connection: Connection, _ reason: String) {
        shared.problem(reason)
        if connection.fd >= 0 {
            Glibc.close(connection.fd)
            connection.fd = -1
            inFlight -= 1
        }
        connection.state = .closed
        settled += 1
        shared.failed.add(1, ordering: .relaxed)
    }

    /// The end of a connection, whatever the cause.
    private func close(_ connection: Connection, _ reason: String) {
        guard connection.state != .closed else { return }
        if !connection.ready {
            settleFailed(connection, reason)
            return
        }
        if phase != Phase.stop {
            shared.problem("dropped: \(reason)")
            shared.dropped.add(1, ordering: .relaxed)
        }
        if connection.fd >= 0 { Glibc.close(connection.fd) }
        connection.fd = -1
        connection.state = .closed
        connection.outstanding = 0
    }

    // MARK: I/O

    private func handle(_ connection: Connection, _ mask: UInt32) {
        if connection.state == .connecting {
            guard mask & (CLINUX_EPOLLOUT | CLINUX_EPOLLERR | CLINUX_EPOLLHUP) != 0 else { return }
            let code = connection.connectError()
            if code != 0 {
                close(connection, "connect: \(errorText(code))")
                return
            }
            connection.queueHandshake(host: options.url.host, port: options.url.port, random: &random)
            if !connection.flush() { close(connection, "send: \(errorText(errno))") }
            return
        }
        if mask & (CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP | CLINUX_EPOLLHUP | CLINUX_EPOLLERR) != 0 {
            readAll(connection)
        }
        if connection.state != .closed, mask & CLINUX_EPOLLOUT != 0, connection.outboundSent < connection.outbound.count
        {
            if !connection.flush() { close(connection, "send: \(errorText(errno))") }
        }
    }

    private func readAll(_ connection: Connection) {
        while connection.state == .handshaking || connection.state == .open {
            let count = scratch.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received(connection, count)
                continue
            }
            if count == 0 {
                close(
                    connection,
                    connection.state == .handshaking ? "closed during the handshake" : "EOF without a close frame")
                return
            }
            let code = errno
            if code == EINTR { continue }
            if code != EAGAIN { close(connection, "recv: \(errorText(code))") }
            return
        }
    }

    /// `scratch[0..<count]` just arrived on `connection`.
    private func received(_ connection: Connection, _ count: Int) {
        if connection.state == .handshaking || !connection.inbound.isEmpty {
            connection.inbound.append(contentsOf: scratch[0..<count])
            if connection.state == .handshaking {
                guard let bodyStart = handshakeDone(connection) else { return }
                connection.inbound.removeFirst(bodyStart)
                if connection.inbound.isEmpty { return }
            }
            let consumed = connection.inbound.withUnsafeBytes { parseFrames(connection, $0) }
            if connection.state == .closed { return }
            connection.inbound.removeFirst(consumed)
            if connection.inbound.isEmpty { connection.inbound = [] }
        } else {
            let consumed = scratch.withUnsafeBytes {
                parseFrames(connection, UnsafeRawBufferPointer(rebasing: $0[0..<count]))
            }
            if connection.state != .closed, consumed < count {
                connection.inbound.append(contentsOf: scratch[consumed..<count])
            }
        }
        if connection.state != .closed, connection.outboundSent < connection.outbound.count {
            if !connection.flush() { close(connection, "send: \(errorText(errno))") }
        }
    }

    /// Checks the upgrade answer once the head is complete; returns where the frames begin, or nil (head still
    /// partial, or the connection was refused and is closed).
    private func handshakeDone(_ connection: Connection) -> Int? {
        let head: Int? = connection.inbound.withUnsafeBytes { bytes in
            JSONScan.find(Array("\r\n\r\n".utf8), in: bytes).map { $0 + 4 }
        }
        guard let head else {
            if connection.inbound.count > 16384 { close(connection, "handshake head over 16 KiB") }
            return nil
        }
        let text = String(decoding: connection.inbound[0..<head], as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        let status = lines.first.map { $0.split(separator: " ", maxSplits: 2) } ?? []
        guard status.count >= 2, status[1] == "101" else {
            let body = String(decoding: connection.inbound[head...].prefix(160), as: UTF8.self)
            let code = status.count >= 2 ? String(status[1]) : "?"
            close(connection, "HTTP \(code) \(body)")
            return nil
        }
        var accept = ""
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == "sec-websocket-accept" {
                accept = String(line[line.index(after: colon)...]).trimmingWhitespace()
            }
        }
        guard accept == connection.expectedAccept else {
            close(connection, "bad Sec-WebSocket-Accept")
            return nil
        }
        connection.state = .open
        if options.wire == .gorilla { settleReady(connection) }
        return head
    }

    /// Parses whole frames from `bytes`; returns how many bytes they took.
    private func parseFrames(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var position = 0
        while connection.state == .open {
            let available = bytes.count - position
            guard available >= 2 else { break }
            let first = bytes[position]
            let second = bytes[position + 1]
            var header = 2
            var length = Int(second & 0x7F)
            if length == 126 {
                guard available >= 4 else { break }
                length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
                header = 4
            } else if length == 127 {
                guard available >= 10 else { break }
                var value: UInt64 = 0
                for i in 2..<10 { value = value << 8 | UInt64(bytes[position + i]) }
                guard value < 1 << 31 else {
                    close(connection, "frame length \(value)")
                    return position
                }
                length = Int(value)
                header = 10
            }
            if second & 0x80 != 0 {
                close(connection, "masked frame from the server")
                return position
            }
            guard available >= header + length else { break }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(position + header)..<(position + header + length)])
            position += header + length
            frame(connection, fin: first & 0x80 != 0, opcode: first & 0x0F, payload)
        }
        return position
    }

    private func frame(_ connection: Connection, fin: Bool, opcode: UInt8, _ payload: UnsafeRawBufferPointer) {
        switch opcode {
        case 0x1, 0x2:
            if fin {
                message(connection, payload)
            } else {
                connection.fragments = Array(payload)
                connection.fragmented = true
            }
        case 0x0:
            guard connection.fragmented else {
                close(connection, "continuation without a start")
                return
            }
            connection.fragments.append(contentsOf: payload)
            if fin {
                let whole = connection.fragments
                connection.fragments = []
                connection.fragmented = false
                whole.withUnsafeBytes { message(connection, $0) }
            }
        case 0x8:
            let code = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
            let reason = String(decoding: payload.dropFirst(2).prefix(80), as: UTF8.self)
            connection.queueFrame(
                opcode: 0x8, payload: UnsafeRawBufferPointer(rebasing: payload.prefix(2)), random: &random)
            _ = connection.flush()
            close(connection, "close \(code)\(reason.isEmpty ? "" : " \(reason)")")
        case 0x9:
            connection.queueFrame(opcode: 0xA, payload: payload, random: &random)
        case 0xA:
            break
        default:
            close(connection, "unknown opcode \(opcode)")
        }
    }

    // MARK: messages

    private static let typeKey = Array("type".utf8)
    private static let codeKey = Array("code".utf8)
    private static let dataKey = Array("data".utf8)
    private static let newMessage = Array("NEW_MESSAGE".utf8)
    private static let ack = Array("ACK".utf8)
    private static let connected = Array("CONNECTED".utf8)
    private static let error = Array("ERROR".utf8)
    private static let marker = Array("wsbts=".utf8)

    private func message(_ connection: Connection, _ payload: UnsafeRawBufferPointer) {
        guard options.wire == .chat else {
            benchmarkMessage(connection, payload)
            return
        }
        guard let type = JSONScan.value(of: Worker.typeKey, in: payload) else {
            shared.problem("frame without a type")
            return
        }
        if JSONScan.equal(payload, type, Worker.newMessage) {
            benchmarkMessage(connection, payload)
        } else if JSONScan.equal(payload, type, Worker.ack) {
            acknowledged(connection)
        } else if JSONScan.equal(payload, type, Worker.connected) {
            settleReady(connection)
        } else if JSONScan.equal(payload, type, Worker.error) {
            var code = "?"
            if let data = JSONScan.value(of: Worker.dataKey, in: payload),
                let range = JSONScan.value(of: Worker.codeKey, in: UnsafeRawBufferPointer(rebasing: payload[data]))
            {
                code = JSONScan.string(UnsafeRawBufferPointer(rebasing: payload[data]), range)
            }
            report.serverErrors[code, default: 0] += 1
            acknowledged(connection)
        } else {
            report.otherFrames[JSONScan.string(payload, type), default: 0] += 1
        }
    }

    /// A frame carrying `wsbts=<send ns>:<sender index>:<measured 0|1>`: the sender's own copy is its
    /// acknowledgement (Go hub), anyone else's is a delivery.
    private func benchmarkMessage(_ connection: Connection, _ payload: UnsafeRawBufferPointer) {
        guard let start = JSONScan.find(Worker.marker, in: payload) else { return }
        var i = start + Worker.marker.count
        var fields: [UInt64] = [0, 0, 0]
        var field = 0
        while i < payload.count, field < 3 {
            let byte = payload[i]
            if byte >= 48, byte <= 57 {
                fields[field] = fields[field] &* 10 &+ UInt64(byte - 48)
            } else if byte == UInt8(ascii: ":") {
                field += 1
            } else {
                break
            }
            i += 1
        }
        if fields[1] == UInt64(connection.endpoint.index) {
            acknowledged(connection)
            return
        }
        report.deliveries += 1
        if phase == Phase.measuring { phaseDeliveries += 1 }
        if fields[2] == 1 {
            report.measuredDeliveries += 1
            let now = monotonicNanos()
            report.latency.record(microseconds: now > fields[0] ? (now - fields[0]) / 1000 : 0)
        }
    }

    private func acknowledged(_ connection: Connection) {
        guard connection.outstanding > 0 else { return }
        connection.outstanding -= 1
        report.acknowledged += 1
        if connection.endpoint.role == .sender { fillWindow(connection) }
    }

    // MARK: sending

    private func sendDue() {
        if options.mode == "fanout" {
            for connection in connections where connection.endpoint.role == .sender {
                fillWindow(connection)
                if connection.state != .closed, !connection.flush() { close(connection, "send: \(errorText(errno))") }
            }
            return
        }
        guard !groups.isEmpty else { return }
        let now = monotonicNanos()
        if sendStart == 0 { sendStart = now }
        let due = Int(Double(now - sendStart) * rateShare / 1e9)
        while scheduled < due {
            let group = groups[scheduled % groups.count]
            let member = group.members[(scheduled / groups.count) % group.members.count]
            scheduled += 1
            let connection = connections[member]
            guard connection.state == .open, connection.ready else { continue }
            send(
                connection, room: options.wire == .chat ? roomIDs[group.group] : "", receivers: group.members.count - 1)
            if !connection.flush() { close(connection, "send: \(errorText(errno))") }
        }
    }

    /// Keeps at most `--window` messages in flight, counted both ways: sent but not acknowledged (chat's ACK, the
    /// Go hub's copy for the sender), and sent but not yet delivered to every subscriber (deliveries / subscribers).
    /// The second keeps the subscribers within a window of the sender: ACKs alone come back at commit time and
    /// let the sender run ahead until a server closes the slowest subscribers as slow consumers.
    private func fillWindow(_ connection: Connection) {
        guard phase == Phase.warmup || phase == Phase.measuring, connection.state == .open, connection.ready else {
            return
        }
        publish()
        let delivered = shared.deliveries.load(ordering: .relaxed) / max(1, options.subscribers)
        var undelivered = report.sent - delivered
        while connection.outstanding < options.window, undelivered < options.window {
            send(connection, room: options.room, receivers: options.subscribers)
            undelivered += 1
        }
    }

    private func send(_ connection: Connection, room: String, receivers: Int) {
        let measured = phase == Phase.measuring
        let stamp = "wsbts=\(monotonicNanos()):\(connection.endpoint.index):\(measured ? 1 : 0)"
        messageNumber += 1
        var text: String
        if options.wire == .chat {
            text =
                "{\"type\":\"SEND_MESSAGE\",\"id\":\(messageNumber),\"data\":{\"chat_room_id\":\(room),\"content\":\""
            text += stamp + " "
            let padding = max(0, options.payload - stamp.utf8.count - 1)
            text += String(repeating: "x", count: padding) + "\"}}"
        } else {
            text = stamp + " " + String(repeating: "x", count: max(0, options.payload - stamp.utf8.count - 1))
        }
        var utf8 = text.utf8CString
        utf8.removeLast()
        utf8.withUnsafeBytes { connection.queueFrame(opcode: 0x1, payload: $0, random: &random) }
        connection.outstanding += 1
        report.sent += 1
        if measured {
            report.measuredSent += 1
            report.expectedDeliveries += receivers
        }
    }
}
