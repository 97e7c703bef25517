import Synchronization

/// A bounded key-value cache that evicts the least recently used entry, safe to share between threads.
///
/// Every operation is O(1) (`removeAll(where:)` excepted): a dictionary finds a key's node in a doubly
/// linked recency list kept in one array (`Int` links, freed slots reused), so entries cost no separate
/// allocations. One `Mutex` guards it all; critical sections are a few dictionary and array operations.
///
/// An entry may carry an expiry (unix milliseconds, or any clock the caller uses consistently): reading
/// it at or after that time removes it and reports a miss. Expired entries are not swept otherwise; they
/// take their slot until read or evicted, which the capacity bounds.
public final class LRUCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let state: Mutex<Storage>

    /// The most entries kept; inserting beyond it evicts the least recently used one.
    public let capacity: Int

    public init(capacity: Int) {
        precondition(capacity >= 1, "an LRU cache needs room for at least one entry")
        self.capacity = capacity
        state = Mutex(Storage(capacity: capacity))
    }

    /// Number of entries, expired ones that were not read yet included.
    public var count: Int { state.withLock { $0.index.count } }

    /// The value for `key` if present and not expired at `now`, marking it most recently used.
    public func value(forKey key: Key, now: Int64) -> Value? {
        state.withLock { storage in
            guard let slot = storage.liveSlot(for: key, now: now) else { return nil }
            storage.moveToFront(slot)
            return storage.nodes[slot].value
        }
    }

    /// Stores `value` for `key` as the most recently used entry, evicting the least recently used one
    /// if the cache is full. `expiresAt` nil keeps it until evicted or removed.
    public func setValue(_ value: Value, forKey key: Key, expiresAt: Int64? = nil) {
        state.withLock { storage in
            _ = storage.set(value, for: key, expiresAt: expiresAt)
        }
    }

    /// Removes the entry for `key`; returns its value if it was present (expired or not).
    @discardableResult
    public func removeValue(forKey key: Key) -> Value? {
        state.withLock { storage in
            guard let slot = storage.index[key] else { return nil }
            return storage.remove(slot)
        }
    }

    /// Removes every entry for which `predicate` is true. O(count).
    public func removeAll(where predicate: (Key, Value) -> Bool) {
        state.withLock { storage in
            for (key, slot) in storage.index where predicate(key, storage.nodes[slot].value) {
                _ = storage.remove(slot)
            }
        }
    }

    public func removeAll() {
        state.withLock { storage in
            storage = Storage(capacity: capacity)
        }
    }

    /// Runs `body` on the value for `key` under the lock, creating it with `makeValue` if it is absent
    /// or expired at `now`, and marks it most recently used: an atomic read-modify-write. A created entry
    /// gets `expiresAt`; an existing one keeps its expiry.
    public func withValue<Result>(
        forKey key: Key, now: Int64, expiresAt: Int64? = nil, makeValue: () -> Value,
        _ body: (inout Value) -> Result
    ) -> Result {
        state.withLock { storage in
            let slot: Int
            if let live = storage.liveSlot(for: key, now: now) {
                storage.moveToFront(live)
                slot = live
            } else {
                slot = storage.set(makeValue(), for: key, expiresAt: expiresAt)
            }
            return body(&storage.nodes[slot].value)
        }
    }

    /// The keys from most to least recently used, for tests and diagnostics. O(count).
    public var keysByRecency: [Key] {
        state.withLock { storage in
            var keys: [Key] = []
            var slot = storage.head
            while slot != Storage.none {
                keys.append(storage.nodes[slot].key)
                slot = storage.nodes[slot].next
            }
            return keys
        }
    }
}

extension LRUCache {
    fileprivate struct Node {
        var key: Key
        var value: Value
        var expiresAt: Int64?
        var previous: Int
        var next: Int
    }

    /// The cache's data, only ever touched under the mutex.
    ///
    /// Invariants: `index` maps every live key to its slot in `nodes`; the live slots form one list from
    /// `head` (most recent) to `tail` (least recent) through `next`/`previous`; every other slot of
    /// `nodes` is in `free`. `nodes.count` never exceeds the capacity.
    fileprivate struct Storage {
        static var none: Int { -1 }

        let capacity: Int
        var index: [Key: Int] = [:]
        var nodes: [Node] = []
        var free: [Int] = []
        var head = Storage.none
        var tail = Storage.none

        init(capacity: Int) {
            self.capacity = capacity
        }

        /// The slot of `key` unless absent or expired at `now`; an expired entry is removed.
        mutating func liveSlot(for key: Key, now: Int64) -> Int? {
            guard let slot = index[key] else { return nil }
            if let expiresAt = nodes[slot].expiresAt, now >= expiresAt {
                _ = remove(slot)
                return nil
            }
            return slot
        }

        mutating func set(_ value: Value, for key: Key, expiresAt: Int64?) -> Int {
            if let slot = index[key] {
                nodes[slot].value = value
                nodes[slot].expiresAt = expiresAt
                moveToFront(slot)
                return slot
            }
            if index.count >= capacity, tail != Self.none {
                _ = remove(tail)
            }
            let node = Node(key: key, value: value, expiresAt: expiresAt, previous: Self.none, next: Self.none)
            let slot: Int
            if let reused = free.popLast() {
                nodes[reused] = node
                slot = reused
            } else {
                nodes.append(node)
                slot = nodes.count - 1
            }
            index[key] = slot
            linkAtFront(slot)
            return slot
        }

        mutating func remove(_ slot: Int) -> Value {
            unlink(slot)
            index[nodes[slot].key] = nil
            free.append(slot)
            // The node stays in the array until its slot is reused: its value lives on until then, which
            // only delays freeing it, bounded by the capacity.
            return nodes[slot].value
        }

        mutating func moveToFront(_ slot: Int) {
            guard slot != head else { return }
            unlink(slot)
            linkAtFront(slot)
        }

        private mutating func linkAtFront(_ slot: Int) {
            nodes[slot].previous = Self.none
            nodes[slot].next = head
            if head != Self.none {
                nodes[head].previous = slot
            }
            head = slot
            if tail == Self.none {
                tail = slot
            }
        }

        private mutating func unlink(_ slot: Int) {
            let previous = nodes[slot].previous
            let next = nodes[slot].next
            if previous != Self.none {
                nodes[previous].next = next
            } else {
                head = next
            }
            if next != Self.none {
                nodes[next].previous = previous
            } else {
                tail = previous
            }
            nodes[slot].previous = Self.none
            nodes[slot].next = Self.none
        }
    }
}
