import Dispatch
import Testing

@testable import ChatCore

@Suite struct LRUCacheTests {
    @Test func evictsTheLeastRecentlyUsedEntryWhenFull() {
        let cache = LRUCache<String, Int>(capacity: 3)
        cache.setValue(1, forKey: "a")
        cache.setValue(2, forKey: "b")
        cache.setValue(3, forKey: "c")
        // Reading "a" makes "b" the least recently used.
        #expect(cache.value(forKey: "a", now: 0) == 1)
        cache.setValue(4, forKey: "d")
        #expect(cache.count == 3)
        #expect(cache.value(forKey: "b", now: 0) == nil)
        #expect(cache.keysByRecency == ["d", "a", "c"])
        cache.setValue(5, forKey: "e")
        #expect(cache.value(forKey: "c", now: 0) == nil)
        #expect(cache.keysByRecency == ["e", "d", "a"])
    }

    @Test func overwritingAKeyKeepsOneEntryAndMakesItRecent() {
        let cache = LRUCache<String, Int>(capacity: 2)
        cache.setValue(1, forKey: "a")
        cache.setValue(2, forKey: "b")
        cache.setValue(10, forKey: "a")
        #expect(cache.count == 2)
        #expect(cache.keysByRecency == ["a", "b"])
        cache.setValue(3, forKey: "c")
        #expect(cache.value(forKey: "a", now: 0) == 10)
        #expect(cache.value(forKey: "b", now: 0) == nil)
    }

    @Test func entriesExpireAtTheirTime() {
        let cache = LRUCache<Int, String>(capacity: 4)
        cache.setValue("short", forKey: 1, expiresAt: 1_000)
        cache.setValue("forever", forKey: 2)
        #expect(cache.value(forKey: 1, now: 999) == "short")
        #expect(cache.value(forKey: 1, now: 1_000) == nil)
        // The expired entry was removed by the read.
        #expect(cache.count == 1)
        #expect(cache.value(forKey: 2, now: .max) == "forever")
        // Setting again replaces the expiry.
        cache.setValue("again", forKey: 1, expiresAt: 5_000)
        #expect(cache.value(forKey: 1, now: 4_999) == "again")
    }

    @Test func removeAndRemoveAllWhere() {
        let cache = LRUCache<Int, Int>(capacity: 10)
        for key in 0..<10 {
            cache.setValue(key * 10, forKey: key)
        }
        #expect(cache.removeValue(forKey: 3) == 30)
        #expect(cache.removeValue(forKey: 3) == nil)
        cache.removeAll { key, _ in key.isMultiple(of: 2) }
        #expect(cache.keysByRecency == [9, 7, 5, 1])
        // Freed slots are reused without disturbing the list.
        for key in 100..<106 {
            cache.setValue(key, forKey: key)
        }
        #expect(cache.count == 10)
        #expect(cache.keysByRecency == [105, 104, 103, 102, 101, 100, 9, 7, 5, 1])
        cache.removeAll()
        #expect(cache.count == 0)
        #expect(cache.keysByRecency.isEmpty)
    }

    @Test func withValueCreatesUpdatesAndReplacesExpiredValues() {
        let cache = LRUCache<String, Int>(capacity: 2)
        let first = cache.withValue(forKey: "k", now: 0, expiresAt: 100, makeValue: { 0 }) { value -> Int in
            value += 1
            return value
        }
        #expect(first == 1)
        let second = cache.withValue(forKey: "k", now: 50, makeValue: { 0 }) { value -> Int in
            value += 1
            return value
        }
        #expect(second == 2)
        // Expired at 100: recreated from makeValue.
        let third = cache.withValue(forKey: "k", now: 100, makeValue: { 40 }) { value -> Int in
            value += 1
            return value
        }
        #expect(third == 41)
    }

    @Test func capacityOneHoldsTheLatestEntry() {
        let cache = LRUCache<Int, Int>(capacity: 1)
        for key in 0..<5 {
            cache.setValue(key, forKey: key)
        }
        #expect(cache.count == 1)
        #expect(cache.keysByRecency == [4])
    }

    @Test func concurrentUseStaysConsistentAndBounded() {
        let cache = LRUCache<Int, Int>(capacity: 64)
        let group = DispatchGroup()
        for thread in 0..<4 {
            group.enter()
            DispatchQueue.global().async {
                for step in 0..<5_000 {
                    let key = (thread * 31 + step) % 200
                    cache.setValue(key, forKey: key, expiresAt: Int64(step % 7 == 0 ? 10 : 1_000))
                    if let value = cache.value(forKey: (key + 3) % 200, now: Int64(step % 20)) {
                        #expect(value == (key + 3) % 200)
                    }
                    if step % 11 == 0 {
                        cache.removeValue(forKey: key)
                    }
                }
                group.leave()
            }
        }
        group.wait()
        #expect(cache.count <= 64)
        let keys = cache.keysByRecency
        #expect(keys.count == cache.count)
        #expect(Set(keys).count == keys.count)
    }
}
