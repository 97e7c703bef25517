import CLinux
import Glibc
import Synchronization
import SystemSupport

/// `setup`: the accounts and rooms a chat run needs, made through the public API like any client would
/// (`POST /api/v1/auth/register` gives an access token at once, so no separate login), over keep-alive
/// connections on several threads. Writes `tokens` (one access token a line, user i on line i), `rooms` (the
/// latency rooms: room g holds users g*K ..< (g+1)*K, created by the first of them), `fanout-room` and
/// `fanout-tokens` (the last M+1 users: the sender's token first, then the M subscribers') into the output
/// directory. The fan-out users are kept out of the small rooms when there are enough users (`--users` ≥
/// rooms × K + M + 1): a connecting member is announced (PRESENCE) to every online co-member, so members of the
/// big room would make the other runs' connects quadratic.
struct Setup {
    let options: Options
    let host: String
    let port: UInt16

    init(options: Options) {
        self.options = options
        var rest = Substring(options.httpURL)
        guard rest.hasPrefix("http://") else { Options.usageError("--http: want http://IPv4:PORT") }
        rest = rest.dropFirst(7)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else {
            Options.usageError("--http: want http://IPv4:PORT")
        }
        host = String(rest[..<colon])
        self.port = port
        guard !options.outDirectory.isEmpty else { Options.usageError("setup needs --out DIR") }
    }

    func run() {
        let users = options.users
        let threads = max(1, min(options.setupThreads, users))
        let started = monotonicNanos()
        let accounts = Mutex<[Int: (token: String, id: Int)]>([:])
        var workers: [NativeThread] = []
        let host = host
        let port = port
        for thread in 0..<threads {
            do {
                workers.append(
                    try NativeThread.start(name: "setup-\(thread)") {
                        let client = HTTPClient(host: host, port: port)
                        var mine: [Int: (token: String, id: Int)] = [:]
                        for user in stride(from: thread, to: users, by: threads) {
                            let body =
                                "{\"username\":\"wsb\(user)\",\"email\":\"wsb\(user)@example.com\","
                                + "\"password\":\"bench-password-\(user)\"}"
                            let response = client.request("POST", "/api/v1/auth/register", body: body, token: nil)
                            guard response.status == 201, let account = Setup.account(response.body) else {
                                fail("register user \(user): HTTP \(response.status) \(response.bodyText.prefix(200))")
                            }
                            mine[user] = account
                        }
                        accounts.withLock { all in all.merge(mine) { first, _ in first } }
                    })
            } catch {
                fail("thread: \(error)")
            }
        }
        for worker in workers { worker.join() }
        let registered = accounts.withLock { $0 }
        let seconds = Double(monotonicNanos() - started) / 1e9
        var tokens: [String] = []
        var ids: [Int] = []
        for user in 0..<users {
            guard let account = registered[user] else { fail("user \(user) missing after registration") }
            tokens.append(account.token)
            ids.append(account.id)
        }
        writeLines(tokens, to: options.outDirectory + "/tokens")
        say("setup: registered \(users) users in \(fixed(seconds, 1)) s (\(Int(Double(users) / max(seconds, 1e-9)))/s)")

        let roomStarted = monotonicNanos()
        let size = options.roomSize
        let groupCount = min(options.rooms, users / size)
        var requests: [(creator: Int, members: [Int], name: String)] = []
        for group in 0..<groupCount {
            let first = group * size
            requests.append((first, Array(ids[(first + 1)..<(first + size)]), "bench room \(group)"))
        }
        let fanoutMembers = min(options.fanoutMembers, users - 1)
        let fanoutFirst = users - fanoutMembers - 1
        if fanoutMembers > 0 {
            if fanoutFirst < groupCount * size {
                say("setup: the fan-out room shares users with the small rooms (--users < rooms × size + members + 1)")
            }
            requests.append((fanoutFirst, Array(ids[(fanoutFirst + 1)..<users]), "bench fanout"))
            writeLines(Array(tokens[fanoutFirst..<users]), to: options.outDirectory + "/fanout-tokens")
        }
        let roomIDs = Mutex<[Int: Int]>([:])
        let creatorTokens = tokens
        let roomThreads = max(1, min(threads, requests.count))
        workers = []
        let work = requests
        for thread in 0..<roomThreads {
            do {
                workers.append(
                    try NativeThread.start(name: "setup-\(thread)") {
                        let client = HTTPClient(host: host, port: port)
                        var mine: [Int: Int] = [:]
                        for index in stride(from: thread, to: work.count, by: roomThreads) {
                            let item = work[index]
                            let members = item.members.map(String.init).joined(separator: ",")
                            let body = "{\"name\":\"\(item.name)\",\"member_ids\":[\(members)]}"
                            let response = client.request(
                                "POST", "/api/v1/rooms", body: body, token: creatorTokens[item.creator])
                            guard response.status == 201, let id = Setup.topLevelInteger("id", response.body) else {
                                fail("create \(item.name): HTTP \(response.status) \(response.bodyText.prefix(200))")
                            }
                            mine[index] = id
                        }
                        roomIDs.withLock { all in all.merge(mine) { first, _ in first } }
                    })
            } catch {
                fail("thread: \(error)")
            }
        }
        for worker in workers { worker.join() }
        let created = roomIDs.withLock { $0 }
        let groupRooms = (0..<groupCount).map { created[$0].map(String.init) ?? "" }
        writeLines(groupRooms, to: options.outDirectory + "/rooms")
        if fanoutMembers > 0, let fanout = created[groupCount] {
            writeLines([String(fanout)], to: options.outDirectory + "/fanout-room")
        }
        let roomSeconds = Double(monotonicNanos() - roomStarted) / 1e9
        say(
            "setup: created \(groupCount) rooms of \(size)"
                + "\(fanoutMembers > 0 ? " and 1 of \(fanoutMembers + 1)" : "") in \(fixed(roomSeconds, 1)) s"
        )
    }

    /// The access token and user id of a register answer.
    static func account(_ body: [UInt8]) -> (token: String, id: Int)? {
        body.withUnsafeBytes { json -> (String, Int)? in
            guard let tokens = JSONScan.value(of: Array("tokens".utf8), in: json),
                let user = JSONScan.value(of: Array("user".utf8), in: json)
            else { return nil }
            let tokenJSON = UnsafeRawBufferPointer(rebasing: json[tokens])
            let userJSON = UnsafeRawBufferPointer(rebasing: json[user])
            guard let access = JSONScan.value(of: Array("access_token".utf8), in: tokenJSON),
                let id = JSONScan.value(of: Array("id".utf8), in: userJSON),
                let number = JSONScan.integer(userJSON, id)
            else { return nil }
            return (JSONScan.string(tokenJSON, access), number)
        }
    }

    static func topLevelInteger(_ key: String, _ body: [UInt8]) -> Int? {
        body.withUnsafeBytes { json in
            JSONScan.value(of: Array(key.utf8), in: json).flatMap { JSONScan.integer(json, $0) }
        }
    }
}

/// A blocking HTTP/1.1 keep-alive client for the setup requests (Content-Length bodies; reconnects once when
/// the server closed the connection between requests).
final class HTTPClient {
    struct Response {
        var status: Int
        var body: [UInt8]
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    private let host: String
    private let port: UInt16
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    func request(_ method: String, _ path: String, body: String, token: String?) -> Response {
        for attempt in 0..<2 {
            if fd < 0 { open() }
            var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\n"
            head += "Content-Length: \(body.utf8.count)\r\n"
            if let token { head += "Authorization: Bearer \(token)\r\n" }
            let bytes = Array((head + "\r\n" + body).utf8)
            if writeAll(bytes), let response = readResponse() { return response }
            Glibc.close(fd)
            fd = -1
            buffer = []
            if attempt == 1 { break }
        }
        fail("\(method) \(path): the server closed the connection")
    }

    private func open() {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | CLINUX_SOCK_CLOEXEC, 0)
        guard fd >= 0 else { fail("socket: \(errorText(errno))") }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { fail("connect to \(host):\(port): \(errorText(errno))") }
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress.map { $0 + sent }, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                sent += count
            } else if count < 0, errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// Reads one response; nil when the connection ended first.
    private func readResponse() -> Response? {
        var headEnd: Int?
        while true {
            if headEnd == nil {
                headEnd = buffer.withUnsafeBytes { JSONScan.find(Array("\r\n\r\n".utf8), in: $0).map { $0 + 4 } }
            }
            if let end = headEnd {
                let head = String(decoding: buffer[0..<end], as: UTF8.self).lowercased()
                let statusText = head.split(separator: " ", maxSplits: 2).dropFirst().first ?? ""
                var length = 0
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    length = Int(line.dropFirst(15).trimmingCharacters()) ?? 0
                }
                if buffer.count >= end + length {
                    let body = Array(buffer[end..<(end + length)])
                    buffer.removeFirst(end + length)
                    return Response(status: Int(statusText) ?? 0, body: body)
                }
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
            } else if count < 0, errno == EINTR {
                continue
            } else {
                return nil
            }
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(self).trimmingWhitespace()
    }
}
