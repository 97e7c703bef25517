import Glibc
import Logging
import SystemSupport

/// `chat serve`: run until SIGTERM or SIGINT, then shut down gracefully and return (exit 0).
struct ServeCommand {
    let settings: Settings
    let migrate: Bool
    let webSocketEchoPath: String?

    func run() throws {
        // Block the shutdown signals before any thread starts, so every thread inherits the mask and only
        // `sigwait` below receives them: no async-signal-safety concerns, no handler racing the loops.
        var shutdownSignals = sigset_t()
        sigemptyset(&shutdownSignals)
        sigaddset(&shutdownSignals, SIGTERM)
        sigaddset(&shutdownSignals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &shutdownSignals, nil)
        // A peer that vanishes must be an EPIPE, not a dead process; a file-size limit must be an EFBIG error
        // (SQLite then reports the write as failed and /readyz answers 503) rather than a crash.
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)

        raiseDescriptorLimit()
        let application = try ChatApplication(
            settings: settings, migrate: migrate, webSocketEchoPath: webSocketEchoPath)
        try application.start()
        LogSystem.flush()
        var received: Int32 = 0
        while sigwait(&shutdownSignals, &received) != 0 {}
        Logger("chat").info("signal received", ["signal": received == SIGTERM ? "SIGTERM" : "SIGINT"])
        // A second signal while draining means "now": exit without waiting for the rest.
        let signals = shutdownSignals
        try NativeThread.start(name: "signals") {
            var signals = signals
            var again: Int32 = 0
            while sigwait(&signals, &again) != 0 {}
            Logger("chat").warn("second signal: exiting without finishing the shutdown")
            LogSystem.flush()
            _exit(1)
        }.detach()
        application.shutdown()
        application.waitUntilStopped()
    }

    /// Every connection is a descriptor: raise the soft limit to the hard one, and say so when
    /// `max_connections` cannot be reached anyway.
    private func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        // Descriptors beyond client connections: listeners, epoll and eventfds, the database, files being sent.
        let reserve = 64 + 4 * settings.server.eventLoopCount + settings.database.readers
        if limit.rlim_cur != rlim_t.max, Int(clamping: limit.rlim_cur) < settings.server.maxConnections + reserve {
            Logger("chat").warn(
                "open-file limit is below server.max_connections; connections past it will be refused",
                ["nofile": String(limit.rlim_cur), "max_connections": String(settings.server.maxConnections)])
        }
    }
}
