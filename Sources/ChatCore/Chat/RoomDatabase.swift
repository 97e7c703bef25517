import Logging
import Storage

/// The database access of the room and social services: writer jobs and reads with their errors mapped to
/// ``ChatError``.
///
/// A job may throw a ``ChatError`` to refuse: the writer rolls its savepoint back, so a refusal found
/// halfway leaves nothing behind, and the error reaches the caller unchanged. Any other failure is logged
/// and becomes ``ChatError/unavailable(_:)``.
struct RoomDatabase: Sendable {
    let writer: DatabaseWriter
    let readers: DatabaseReaderPool
    let logger: Logger
    /// Where the events of committed changes go.
    let events: any PubSub

    /// A write whose job posts the events of its change, published once it committed (``RealtimeWrite``).
    func write<T: Sendable>(
        _ job: @escaping @Sendable (Database, RealtimeWrite.Outbox) throws -> T
    ) async throws(ChatError) -> T {
        do {
            return try await RealtimeWrite(writer: writer, events: events)(job)
        } catch {
            throw Self.map(error, logger)
        }
    }

    func write<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws(ChatError) -> T {
        do {
            return try await writer.write(job)
        } catch {
            throw Self.map(error, logger)
        }
    }

    func read<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws(ChatError) -> T {
        do {
            return try await readers.read(job)
        } catch {
            throw Self.map(error, logger)
        }
    }

    static func map(_ error: any Error, _ logger: Logger) -> ChatError {
        switch error {
        case let error as ChatError:
            return error
        // The room went away between a check and a system message: only possible if a job checked
        // nothing, but then it is what the caller would have been told.
        case MessageStoreError.roomNotFound:
            return .notFound
        default:
            logger.error("database operation failed", ["error": "\(error)"])
            return .unavailable("database: \(error)")
        }
    }
}
