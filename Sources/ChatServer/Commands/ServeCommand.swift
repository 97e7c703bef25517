import Glibc
import Logging

/// `chat serve`: run until SIGTERM or SIGINT, then shut down gracefully and return (exit 0).
struct ServeCommand {
    let settings: Settings
    let migrate: Bool

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

        let application = try ChatApplication(settings: settings, migrate: migrate)
        try application.start()
        LogSystem.flush()
        var received: Int32 = 0
        while sigwait(&shutdownSignals, &received) != 0 {}
        Logger("chat").info("signal received", ["signal": received == SIGTERM ? "SIGTERM" : "SIGINT"])
        application.shutdown()
        application.waitUntilStopped()
    }
}
