import Logging
import Storage
import Synchronization

/// Cached answers to "may this user touch this room?": memberships, blocks between two users, and the
/// two users of direct rooms. Every room route and every message send asks, so the answers come from
/// bounded LRU caches, filled from the reader pool on a miss.
///
/// **Freshness.** Every write that changes a membership, a role or a block (``RoomService``,
/// ``SocialService``) calls an `invalidate` method after its transaction committed; a removed member
/// loses access as soon as the removal returns. Only positive memberships are cached: a probe of rooms
/// one is not in costs a read but cannot push real entries out, and creating a room needs no
/// invalidation. Changes made by another process are not seen until the entry is evicted, so membership
/// must only change through these services.
///
/// **Races.** A lookup that read the database before a change committed must not store its stale answer
/// after that change's invalidation. Each cache has a generation, bumped by every invalidation under the
/// same lock that guards storing; a lookup stores only if the generation is still the one it saw before
/// reading. So a stale answer can be returned to a lookup that overlapped the change, never cached. The
/// generations are per cache, not per room (which would need a map of their own to bound): a change
/// anywhere keeps lookups in flight at that moment from storing, which costs them nothing but a later miss.
public final class RoomAccess: Sendable {
    private let readers: DatabaseReaderPool
    private let logger = Logger("rooms")
    private let rooms = RoomStore()
    private let social = SocialStore()

    // Entries never expire (invalidation keeps them right), so the caches' `now` is always 0.
    private let memberships: LRUCache<MembershipKey, Membership>
    private let blocks: LRUCache<UserPair, Bool>
    /// Direct room id → its two users. Direct rooms never change members and are never deleted.
    private let directPairs: LRUCache<Int64, UserPair>
    private let generations = Mutex(Generations())
    /// Runs between a lookup's database read and its storing of the answer: lets tests land a change in
    /// that window, which is otherwise too short to hit. Nil outside tests.
    private let afterRead: (@Sendable () async -> Void)?

    private struct Generations {
        var memberships: UInt64 = 0
        var blocks: UInt64 = 0
    }

    private struct MembershipKey: Hashable, Sendable {
        var roomID: Int64
        var userID: Int64
    }

    /// Two user ids, the smaller first: the same key from either side.
    private struct UserPair: Hashable, Sendable {
        var low: Int64
        var high: Int64

        init(_ first: Int64, _ second: Int64) {
            low = min(first, second)
            high = max(first, second)
        }
    }

    /// - Parameter capacity: entries in each of the three caches.
    public convenience init(readers: DatabaseReaderPool, capacity: Int = 10_000) {
        self.init(readers: readers, capacity: capacity, afterRead: nil)
    }

    init(readers: DatabaseReaderPool, capacity: Int, afterRead: (@Sendable () async -> Void)?) {
        precondition(capacity >= 1, "the room access caches need room for at least one entry")
        self.readers = readers
        self.afterRead = afterRead
        memberships = LRUCache(capacity: capacity)
        blocks = LRUCache(capacity: capacity)
        directPairs = LRUCache(capacity: capacity)
    }

    // MARK: Lookups

    /// The user's membership of the room, or nil if they are not a member (or there is no such room).
    public func membership(roomID: Int64, userID: Int64) async throws(ChatError) -> Membership? {
        let key = MembershipKey(roomID: roomID, userID: userID)
        if let cached = memberships.value(forKey: key, now: 0) {
            return cached
        }
        let generation = generations.withLock { $0.memberships }
        let found = try await read { [rooms] db in
            try rooms.membership(roomID: roomID, userID: userID, db).map(Membership.init)
        }
        await afterRead?()
        if let found {
            generations.withLock { current in
                if current.memberships == generation {
                    memberships.setValue(found, forKey: key)
                }
            }
        }
        return found
    }

    /// Whether either user blocked the other.
    public func isBlockedEitherWay(_ first: Int64, _ second: Int64) async throws(ChatError) -> Bool {
        let key = UserPair(first, second)
        if let cached = blocks.value(forKey: key, now: 0) {
            return cached
        }
        let generation = generations.withLock { $0.blocks }
        let blocked = try await read { [social] db in try social.blockState(first, second, db).eitherWay }
        await afterRead?()
        generations.withLock { current in
            if current.blocks == generation {
                blocks.setValue(blocked, forKey: key)
            }
        }
        return blocked
    }

    /// The other member of a direct room, if `userID` is one of its two members; nil for groups, unknown
    /// rooms and non-members.
    public func directPeer(roomID: Int64, userID: Int64) async throws(ChatError) -> Int64? {
        if let pair = directPairs.value(forKey: roomID, now: 0) {
            return Self.other(in: pair, than: userID)
        }
        let generation = generations.withLock { $0.memberships }
        let peer = try await read { [rooms] db in try rooms.directPeer(roomID: roomID, userID: userID, db) }
        await afterRead?()
        if let peer {
            generations.withLock { current in
                if current.memberships == generation {
                    directPairs.setValue(UserPair(userID, peer), forKey: roomID)
                }
            }
        }
        return peer
    }

    private static func other(in pair: UserPair, than userID: Int64) -> Int64? {
        if pair.low == userID { return pair.high }
        if pair.high == userID { return pair.low }
        return nil
    }

    private func read<T: Sendable>(_ job: @escaping @Sendable (Database) throws -> T) async throws(ChatError) -> T {
        do {
            return try await readers.read(job)
        } catch {
            throw RoomDatabase.map(error, logger)
        }
    }

    // MARK: Invalidation

    /// Forgets every cached membership of the room (O(cache size): for room deletion).
    public func invalidate(roomID: Int64) {
        generations.withLock { current in
            current.memberships &+= 1
            memberships.removeAll { key, _ in key.roomID == roomID }
            directPairs.removeValue(forKey: roomID)
        }
    }

    /// Forgets one cached membership (O(1): for adding, removing and changing the role of a member).
    public func invalidate(roomID: Int64, userID: Int64) {
        generations.withLock { current in
            current.memberships &+= 1
            memberships.removeValue(forKey: MembershipKey(roomID: roomID, userID: userID))
            directPairs.removeValue(forKey: roomID)
        }
    }

    /// Forgets whether two users blocked each other (for block and unblock).
    public func invalidateBlocks(_ first: Int64, _ second: Int64) {
        generations.withLock { current in
            current.blocks &+= 1
            blocks.removeValue(forKey: UserPair(first, second))
        }
    }

    /// Number of cached memberships, for tests and diagnostics.
    public var cachedMembershipCount: Int { memberships.count }
}
