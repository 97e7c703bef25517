import Glibc

/// The data directory: created with its parents on first start, private to the server's user.
enum DataDirectory {
    struct CreationError: Error, CustomStringConvertible {
        var path: String
        var errno: Int32
        var description: String {
            "cannot create data directory \(path): \(String(cString: strerror(errno)))"
        }
    }

    static func create(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw CreationError(path: path, errno: errno)
            }
        }
    }
}
