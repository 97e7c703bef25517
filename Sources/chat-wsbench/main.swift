import Glibc

// chat-wsbench: the WebSocket load generator of `make bench` (bench/ws.sh). A client only: epoll, plain TCP,
// the RFC 6455 client handshake and masked frames, written here without any package. Prints figures and asserts
// nothing; the exit status is non-zero only when a measurement could not be made. `chat-wsbench help` lists the
// modes and options.

signal(SIGPIPE, SIG_IGN)
let options = Options(arguments: Array(CommandLine.arguments.dropFirst()))
switch options.mode {
case "setup":
    Setup(options: options).run()
case "fanout", "latency", "idle":
    Load(options: options).run()
default:
    Options.usageError("unknown mode \(options.mode)")
}
