import ChatCore
import Security
import Synchronization

/// One-time tickets for browsers, which cannot put an `Authorization` header on a WebSocket handshake:
/// `POST /api/v1/ws/ticket` (bearer-authenticated) issues one, `GET /ws?ticket=…` redeems it. A ticket is
/// 32 random bytes, valid for `ttl`, good for one connection, and only kept in memory; so the long-lived
/// access token never appears in a URL (where proxies and logs would keep it).
final class WebSocketTickets: Sendable {
    private struct Entry {
        var principal: Principal
        var expiresAt: Int64
    }

    private let tickets = Mutex<[String: Entry]>([:])
    private let ttl: Int64
    private let maxEntries: Int
    private let clock: @Sendable () -> Int64

    /// - Parameters:
    ///   - ttl: milliseconds a ticket stays valid.
    ///   - maxEntries: outstanding tickets; past it, expired ones are swept, then the oldest dropped.
    init(ttl: Int64, maxEntries: Int = 100_000, clock: @escaping @Sendable () -> Int64 = AccountService.systemClock) {
        self.ttl = ttl
        self.maxEntries = maxEntries
        self.clock = clock
    }

    /// A new ticket for the user of `principal`.
    func issue(for principal: Principal) -> (ticket: String, expiresIn: Int64) {
        let ticket = SecureRandom.token(byteCount: 32)
        let now = clock()
        tickets.withLock { tickets in
            if tickets.count >= maxEntries {
                tickets = tickets.filter { $0.value.expiresAt > now }
                if tickets.count >= maxEntries,
                    let oldest = tickets.min(by: { $0.value.expiresAt < $1.value.expiresAt })
                {
                    tickets.removeValue(forKey: oldest.key)
                }
            }
            tickets[ticket] = Entry(principal: principal, expiresAt: now + ttl)
        }
        return (ticket, ttl)
    }

    /// The principal a ticket was issued for, if it is known and unexpired; it can never be used again.
    func redeem(_ ticket: String) -> Principal? {
        let now = clock()
        guard let entry = tickets.withLock({ $0.removeValue(forKey: ticket) }), entry.expiresAt > now else {
            return nil
        }
        return entry.principal
    }
}
