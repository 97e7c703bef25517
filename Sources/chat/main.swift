import ChatServer
import Glibc

// The executable only wires: everything else lives in ChatServer.
var environment: [String: String] = [:]
var entry = environ
while let pointer = entry.pointee {
    let pair = String(cString: pointer)
    if let equals = pair.firstIndex(of: "=") {
        environment[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    entry += 1
}
exit(ChatMain.run(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment))
