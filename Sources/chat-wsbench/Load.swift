import Glibc
import SystemSupport

/// fanout, latency and idle: builds the endpoints, starts the worker threads, steps through the phases and
/// prints what the workers measured.
struct Load {
    let options: Options
    let shared = Shared()

    func run() {
        let (endpoints, roomIDs, groupCount) = plan()
        let total = endpoints.count
        let limit = raiseDescriptorLimit(wanted: total + 256)
        guard limit >= total + 32 else {
            fail("\(total) connections need \(total + 32) descriptors; RLIMIT_NOFILE allows \(limit) (ulimit -Hn)")
        }
        say(describe(total: total))

        var workers: [NativeThread] = []
        let threads = options.threads
        let settings = options
        let shared = shared
        for id in 0..<threads {
            let mine = endpoints.filter { endpoint in
                (settings.mode == "latency" ? endpoint.group : endpoint.index) % threads == id
            }
            do {
                workers.append(
                    try NativeThread.start(name: "wsbench-\(id)") {
                        Worker(
                            id: id, options: settings, shared: shared, endpoints: mine, roomIDs: roomIDs,
                            groupCount: groupCount
                        ).run()
                    })
            } catch {
                fail("thread: \(error)")
            }
        }

        let connectStart = monotonicNanos()
        var lastReport = connectStart
        while true {
            let ready = shared.ready.load(ordering: .relaxed)
            let failed = shared.failed.load(ordering: .relaxed)
            if ready + failed >= total { break }
            let now = monotonicNanos()
            if Double(now - connectStart) / 1e9 > options.connectTimeout {
                say("connect: timed out after \(fixed(options.connectTimeout, 0)) s: \(ready) ready, \(failed) failed")
                break
            }
            if now - lastReport > 5_000_000_000 {
                lastReport = now
                say("  connecting: \(ready) ready, \(failed) failed")
            }
            usleep(5000)
        }
        let connectSeconds = Double(monotonicNanos() - connectStart) / 1e9
        let ready = shared.ready.load(ordering: .relaxed)
        let failed = shared.failed.load(ordering: .relaxed)
        say(
            "connected \(ready)/\(total) in \(fixed(connectSeconds, 2)) s"
                + " (\(Int(Double(ready) / max(connectSeconds, 1e-9)))/s)"
                + (failed > 0 ? ", \(failed) failed" : ""))
        printProblems()
        if ready == 0 || (options.mode == "fanout" && ready < 2) {
            stop(workers)
            say("RESULT \(options.mode) failed=\(failed) connected=\(ready)")
            exit(1)
        }

        switch options.mode {
        case "idle":
            say("ready \(ready)")
            sleep(seconds: options.hold)
            stop(workers)
            let dropped = shared.dropped.load(ordering: .relaxed)
            say(
                "RESULT idle connected=\(ready) failed=\(failed) dropped=\(dropped)"
                    + " connect_s=\(fixed(connectSeconds, 2))"
            )
            printProblems()
        default:
            measure(workers, connected: ready, failed: failed, connectSeconds: connectSeconds)
        }
    }

    private func plan() -> (endpoints: [Endpoint], roomIDs: [String], groupCount: Int) {
        let chat = options.wire == .chat
        let tokens = chat ? loadTokens() : []
        func token(_ index: Int) -> String? { chat ? tokens[index % tokens.count] : nil }
        var endpoints: [Endpoint] = []
        switch options.mode {
        case "fanout":
            if chat {
                guard !options.room.isEmpty else { fail("fanout with --protocol chat needs --room ID") }
                guard tokens.count >= options.subscribers + 1 else {
                    fail(
                        "fanout needs \(options.subscribers + 1) tokens (sender + subscribers),"
                            + " \(options.tokensPath) has \(tokens.count)"
                    )
                }
            }
            let path =
                chat
                ? options.url.path : options.url.path(adding: "room", options.room.isEmpty ? "fanout" : options.room)
            endpoints.append(Endpoint(index: 0, path: path, token: token(0), role: .sender, group: 0))
            for i in 1...options.subscribers {
                endpoints.append(Endpoint(index: i, path: path, token: token(i), role: .subscriber, group: 0))
            }
            return (endpoints, [], 0)
        case "latency":
            let perRoom = options.clients / options.rooms
            guard perRoom >= 2 else { fail("latency needs at least 2 clients per room (--clients / --rooms)") }
            var roomIDs: [String] = []
            if chat {
                guard !options.roomsPath.isEmpty else { fail("latency with --protocol chat needs --room-ids FILE") }
                roomIDs = readLines(options.roomsPath)
                guard roomIDs.count >= options.rooms else {
                    fail("--room-ids \(options.roomsPath) lists \(roomIDs.count) rooms, --rooms is \(options.rooms)")
                }
                guard tokens.count >= perRoom * options.rooms else {
                    fail("latency needs \(perRoom * options.rooms) tokens, \(options.tokensPath) has \(tokens.count)")
                }
            }
            for group in 0..<options.rooms {
                let path = chat ? options.url.path : options.url.path(adding: "room", String(group))
                for member in 0..<perRoom {
                    let index = group * perRoom + member
                    endpoints.append(
                        Endpoint(index: index, path: path, token: token(index), role: .member, group: group))
                }
            }
            return (endpoints, roomIDs, options.rooms)
        case "idle":
            let path = chat ? options.url.path : options.url.path(adding: "room", "idle")
            for i in 0..<options.clients {
                endpoints.append(Endpoint(index: i, path: path, token: token(i), role: .idle, group: 0))
            }
            return (endpoints, [], 0)
        default:
            Options.usageError("unknown mode \(options.mode)")
        }
    }

    private func loadTokens() -> [String] {
        guard !options.tokensPath.isEmpty else { fail("--protocol chat needs --tokens FILE") }
        let tokens = readLines(options.tokensPath)
        guard !tokens.isEmpty else { fail("\(options.tokensPath) holds no tokens") }
        return tokens
    }

    private func describe(total: Int) -> String {
        let threads = "\(options.threads) thread\(options.threads == 1 ? "" : "s")"
        switch options.mode {
        case "fanout":
            return
                "fanout (\(options.wire.rawValue)): 1 sender + \(options.subscribers) subscribers, "
                + "window \(options.window), payload \(options.payload) B, \(fixed(options.duration, 0)) s after "
                + "\(fixed(options.warmup, 0)) s warm-up, \(threads)"
        case "latency":
            return
                "latency (\(options.wire.rawValue)): \(total) clients in \(options.rooms) rooms of "
                + "\(options.clients / options.rooms), \(fixed(options.rate, 0)) msgs/s in aggregate, "
                + "payload \(options.payload) B, \(fixed(options.duration, 0)) s after "
                + "\(fixed(options.warmup, 0)) s warm-up, \(threads)"
        default:
            return "idle (\(options.wire.rawValue)): \(total) connections, \(threads)"
        }
    }

    private func measure(_ workers: [NativeThread], connected: Int, failed: Int, connectSeconds: Double) {
        shared.phase.store(Phase.warmup, ordering: .relaxed)
        sleep(seconds: options.warmup)
        shared.phase.store(Phase.measuring, ordering: .relaxed)
        let start = monotonicNanos()
        let startDeliveries = shared.phaseDeliveries.load(ordering: .relaxed)
        var previous = startDeliveries
        var second = 1
        while true {
            let target = start + UInt64(Double(second) * 1e9)
            let end = start + UInt64(options.duration * 1e9)
            let now = monotonicNanos()
            if now >= end { break }
            let wake = min(target, end)
            if wake > now { usleep(UInt32(min((wake - now) / 1000, 1_000_000))) }
            if monotonicNanos() >= target, options.mode == "fanout" {
                let current = shared.phaseDeliveries.load(ordering: .relaxed)
                say(
                    "  \(second) s: \(current - previous) deliveries/s, "
                        + "\(shared.acknowledged.load(ordering: .relaxed)) acknowledged"
                )
                previous = current
                second += 1
            } else if monotonicNanos() >= target {
                second += 1
            }
        }
        shared.phase.store(Phase.draining, ordering: .relaxed)
        let measuredSeconds = Double(monotonicNanos() - start) / 1e9
        let phaseDeliveries = shared.phaseDeliveries.load(ordering: .relaxed) - startDeliveries
        // Drain: until every sent message is acknowledged (and a little longer for the last deliveries), at most
        // --drain seconds.
        let drainEnd = monotonicNanos() + UInt64(options.drain * 1e9)
        var settledSince: UInt64 = 0
        while monotonicNanos() < drainEnd {
            usleep(20_000)
            let sent = shared.sent.load(ordering: .relaxed)
            let acknowledged = shared.acknowledged.load(ordering: .relaxed)
            if sent == acknowledged {
                if settledSince == 0 { settledSince = monotonicNanos() }
                if monotonicNanos() - settledSince > 300_000_000 { break }
            } else {
                settledSince = 0
            }
        }
        stop(workers)

        var total = WorkerReport()
        for report in shared.reports.withLock({ $0 }) {
            total.latency.merge(report.latency)
            total.deliveries += report.deliveries
            total.measuredDeliveries += report.measuredDeliveries
            total.measuredSent += report.measuredSent
            total.expectedDeliveries += report.expectedDeliveries
            total.sent += report.sent
            total.acknowledged += report.acknowledged
            total.serverErrors.merge(report.serverErrors, uniquingKeysWith: +)
            total.otherFrames.merge(report.otherFrames, uniquingKeysWith: +)
        }
        let dropped = shared.dropped.load(ordering: .relaxed)
        let msgsPerSecond = Double(total.measuredSent) / measuredSeconds
        let deliveriesPerSecond = Double(phaseDeliveries) / measuredSeconds
        let latency = total.latency
        func ms(_ q: Double) -> String { fixed(Double(latency.percentile(q)) / 1000, 2) }
        say(
            "sent \(total.measuredSent) messages in the measured \(fixed(measuredSeconds, 1)) s "
                + "(\(fixed(msgsPerSecond, 0)) msgs/s); "
                + "\(total.sent) in all, \(total.acknowledged) acknowledged")
        say(
            "delivered \(total.measuredDeliveries) of \(total.expectedDeliveries) expected"
                + " (\(fixed(deliveriesPerSecond, 0)) deliveries/s received while measuring)")
        if total.measuredDeliveries < total.expectedDeliveries {
            say(
                "  \(total.expectedDeliveries - total.measuredDeliveries) deliveries had not arrived "
                    + "\(fixed(options.drain, 0)) s after "
                    + "the end (--drain): the percentiles leave them out, so they understate the latency")
        }
        say(
            "latency send→receive: p50 \(ms(0.5)) ms, p99 \(ms(0.99)) ms, p999 \(ms(0.999)) ms, "
                + "max \(fixed(Double(latency.maximum) / 1000, 2)) ms"
        )
        if !total.serverErrors.isEmpty {
            say(
                "server ERROR frames: "
                    + total.serverErrors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                        separator: ", "))
        }
        if !total.otherFrames.isEmpty {
            say(
                "other frames (whole run): "
                    + total.otherFrames.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                        separator: ", "))
        }
        printProblems()
        var result =
            "RESULT \(options.mode) protocol=\(options.wire.rawValue) connected=\(connected) failed=\(failed)"
            + " dropped=\(dropped)"
        result += " msgs_per_s=\(fixed(msgsPerSecond, 0)) deliveries_per_s=\(fixed(deliveriesPerSecond, 0))"
        result += " delivered=\(total.measuredDeliveries) expected=\(total.expectedDeliveries)"
        result += " p50_ms=\(ms(0.5)) p99_ms=\(ms(0.99)) p999_ms=\(ms(0.999))"
        result += " errors=\(total.serverErrors.values.reduce(0, +)) connect_s=\(fixed(connectSeconds, 2))"
        say(result)
    }

    private func stop(_ workers: [NativeThread]) {
        shared.phase.store(Phase.stop, ordering: .relaxed)
        for worker in workers { worker.join() }
    }

    private func sleep(seconds: Double) {
        let end = monotonicNanos() + UInt64(seconds * 1e9)
        while true {
            let now = monotonicNanos()
            if now >= end { return }
            usleep(UInt32(min((end - now) / 1000, 100_000)))
        }
    }

    /// Prints (and forgets) what went wrong so far: failed connects, refusals, drops.
    private func printProblems() {
        let problems = shared.problems.withLock { problems in
            defer { problems = [:] }
            return problems
        }
        for (text, count) in problems.sorted(by: { $0.value > $1.value }).prefix(12) {
            say("  problem ×\(count): \(text)")
        }
    }
}
