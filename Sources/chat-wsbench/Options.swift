import Glibc

/// Which server the tool talks to.
enum WireProtocol: String, Sendable {
    /// chat's `/ws`: Bearer token per connection, `CONNECTED` first, `SEND_MESSAGE` → `ACK` + `NEW_MESSAGE`.
    case chat
    /// bench/gohub: no auth, room from `?room=N`, every text frame broadcast to the room (the sender included).
    case gorilla
}

/// A `ws://` URL with an IPv4 literal host (the benchmark only ever targets loopback).
struct WebSocketURL: Sendable {
    var host: String
    var port: UInt16
    /// Path and query, e.g. `/ws` or `/ws?room=1`.
    var path: String

    init(host: String, port: UInt16, path: String) {
        self.host = host
        self.port = port
        self.path = path
    }

    init?(_ text: String) {
        guard text.hasPrefix("ws://") else { return nil }
        let rest = text.dropFirst(5)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard let colon = authority.lastIndex(of: ":"), let port = UInt16(authority[authority.index(after: colon)...])
        else { return nil }
        host = String(authority[..<colon])
        self.port = port
        var probe = in_addr()
        guard inet_pton(AF_INET, host, &probe) == 1 else { return nil }
    }

    /// The path with `name=value` added to its query string.
    func path(adding name: String, _ value: String) -> String {
        path + (path.contains("?") ? "&" : "?") + name + "=" + value
    }
}

/// The command line: `chat-wsbench MODE --name value ...`.
struct Options: Sendable {
    var mode = ""
    var url = WebSocketURL(host: "127.0.0.1", port: 8080, path: "/ws")
    var httpURL = ""
    var wire = WireProtocol.chat
    var tokensPath = ""
    var roomsPath = ""
    var room = ""
    var subscribers = 1000
    var clients = 10000
    var rooms = 1000
    var rate = 5000.0
    var duration = 10.0
    var warmup = 1.0
    var drain = 3.0
    var window = 64
    var threads = 1
    var connectConcurrency = 256
    var connectTimeout = 120.0
    var hold = 30.0
    var payload = 64
    var perSourceAddress = 25000
    var users = 0
    var roomSize = 10
    var fanoutMembers = 1000
    var outDirectory = ""
    var setupThreads = 8

    static let usage = """
        usage: chat-wsbench MODE [options]

        modes (each prints figures and asserts nothing):
          fanout   one sender, --subscribers N connections in one room; NEW_MESSAGE deliveries per second
          latency  --clients N over --rooms R (N/R per room), --rate msgs/s in aggregate; send→receive p50/p99/p999
          idle     open --clients N connections, wait until all are connected, print "ready N", hold --hold s
          setup    register --users N on --http URL, create rooms; writes tokens, rooms and fanout-room to --out DIR

        common: --url ws://127.0.0.1:PORT/ws  --protocol chat|gorilla  --tokens FILE (chat: one access token a
                line)  --threads 1|2  --duration S (10)  --warmup S (1)  --drain S (3)  --payload BYTES (64)
                --connect-concurrency N (256)  --connect-timeout S (120)  --per-source N (25000 connections per
                source address 127.0.0.x before the next one)
        fanout: --subscribers N (1000)  --room ID (chat: a room whose members are the tokens' users; line 1 of
                --tokens is the sender, the next N lines the subscribers; gorilla: any name)  --window N (64)
        latency: --clients N (10000)  --rooms R (1000)  --rate MSGS (5000)  --room-ids FILE (chat: room g holds
                 the users of token lines g*N/R ..< (g+1)*N/R)
        idle:   --clients N  --hold S (30)
        setup:  --http http://127.0.0.1:PORT  --users N  --room-size K (10)  --rooms R  --fanout-members M (1000)
                --out DIR  --setup-threads T (8)
        """

    init(arguments: [String]) {
        var args = arguments[...]
        guard let mode = args.popFirst(), !mode.hasPrefix("-") else { Options.usageError(nil) }
        if mode == "help" || mode == "--help" || mode == "-h" {
            print(Options.usage)
            exit(0)
        }
        self.mode = mode
        while let name = args.popFirst() {
            guard let value = args.popFirst() else { Options.usageError("\(name) needs a value") }
            switch name {
            case "--url":
                guard let parsed = WebSocketURL(value) else { Options.usageError("--url: want ws://IPv4:PORT/path") }
                url = parsed
            case "--http": httpURL = value
            case "--protocol":
                guard let parsed = WireProtocol(rawValue: value) else { Options.usageError("--protocol chat|gorilla") }
                wire = parsed
            case "--tokens": tokensPath = value
            case "--room-ids": roomsPath = value
            case "--room": room = value
            case "--subscribers": subscribers = Options.integer(name, value, 1)
            case "--clients": clients = Options.integer(name, value, 1)
            case "--rooms": rooms = Options.integer(name, value, 1)
            case "--rate": rate = Options.number(name, value)
            case "--duration": duration = Options.number(name, value)
            case "--warmup": warmup = Options.number(name, value)
            case "--drain": drain = Options.number(name, value)
            case "--window": window = Options.integer(name, value, 1)
            case "--threads": threads = Options.integer(name, value, 1)
            case "--connect-concurrency": connectConcurrency = Options.integer(name, value, 1)
            case "--connect-timeout": connectTimeout = Options.number(name, value)
            case "--hold": hold = Options.number(name, value)
            case "--payload": payload = Options.integer(name, value, 32)
            case "--per-source": perSourceAddress = Options.integer(name, value, 1)
            case "--users": users = Options.integer(name, value, 0)
            case "--room-size": roomSize = Options.integer(name, value, 2)
            case "--fanout-members": fanoutMembers = Options.integer(name, value, 0)
            case "--out": outDirectory = value
            case "--setup-threads": setupThreads = Options.integer(name, value, 1)
            default: Options.usageError("unknown option \(name)")
            }
        }
    }

    static func usageError(_ message: String?) -> Never {
        if let message { printError("chat-wsbench: \(message)") }
        printError(usage)
        exit(2)
    }

    static func integer(_ name: String, _ text: String, _ minimum: Int) -> Int {
        guard let value = Int(text.replacingUnderscores()), value >= minimum else {
            usageError("\(name): want an integer ≥ \(minimum), got \"\(text)\"")
        }
        return value
    }

    static func number(_ name: String, _ text: String) -> Double {
        var trimmed = text
        if trimmed.hasSuffix("s") { trimmed.removeLast() }
        guard let value = Double(trimmed), value >= 0, value.isFinite else {
            usageError("\(name): want a non-negative number, got \"\(text)\"")
        }
        return value
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(filter { $0 != "_" })
    }
}
