import Foundation
import Synchronization
import Testing

@testable import ChatCore

/// A value shared with escaping closures.
private final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    var value: Value { mutex.withLock { $0 } }

    func update(_ body: (inout Value) -> Void) {
        mutex.withLock { body(&$0) }
    }
}

/// Frames on the calling thread's stack (Foundation counts at most 128).
private func stackFrames() -> Int {
    Thread.callStackReturnAddresses.count
}

/// One reported transition.
private struct Transition: Sendable, Equatable, CustomStringConvertible {
    var userID: Int64
    var online: Bool
    var at: Int64

    var description: String { "\(userID) \(online ? "online" : "offline") at \(at)" }
}

/// A tracker with a short grace, a hand-moved clock and its transitions recorded.
private final class TrackerFixture: Sendable {
    let tracker: PresenceTracker
    let now = Locked<Int64>(1_800_000_000_000)
    let transitions = Locked<[Transition]>([])

    init(grace: Duration) {
        let now = now
        tracker = PresenceTracker(grace: grace, clock: { now.value })
        let transitions = transitions
        tracker.onTransition { userID, online, at in
            transitions.update { $0.append(Transition(userID: userID, online: online, at: at)) }
        }
    }

    func advance(_ milliseconds: Int64) {
        now.update { $0 += milliseconds }
    }

    /// Waits (bounded) until `count` transitions were reported; returns whether they were.
    func waitForTransitions(_ count: Int, timeout: Duration = .seconds(3)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while transitions.value.count < count {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}

/// ``PresenceTracker``: online from the first connection, offline a grace after the last one closed, and
/// transitions reported in order (short graces, bounded polling; no assertion on elapsed time).
@Suite struct PresenceTrackerTests {
    /// A report reaches the callback through the same few frames however many came before: the tracker once
    /// kept its callback as a `Mutex` value, which every access rewrapped in two more reabstraction thunks, so
    /// each call walked a longer chain of them (a quarter of the server's CPU in bench/ws.sh, and a stack
    /// overflow in the end). Counted as frames under the callback, which does not depend on the machine's speed.
    @Test func reportsDoNotGetDeeperWithEachTransition() async {
        let tracker = PresenceTracker(grace: .milliseconds(50))
        let deepest = Locked<(calls: Int, depth: Int)>((0, 0))
        tracker.onTransition { _, _, _ in
            let depth = stackFrames()
            deepest.update { $0 = ($0.calls + 1, max($0.depth, depth)) }
        }
        let count = 20_000
        for user in 0..<count { tracker.connected(Int64(user)) }
        let deadline = ContinuousClock.now + .seconds(120)
        while deepest.value.calls < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        #expect(deepest.value.calls == count)
        #expect(deepest.value.depth < 64, "\(deepest.value.depth) frames under the callback")
    }

    @Test func aUserIsOnlineFromTheirFirstConnection() async {
        let fixture = TrackerFixture(grace: .milliseconds(50))
        let tracker = fixture.tracker
        #expect(!tracker.isOnline(1))
        #expect(tracker.onlineUserIDs.isEmpty)
        tracker.connected(1)
        #expect(tracker.isOnline(1))
        #expect(tracker.onlineUserIDs == [1])
        #expect(await fixture.waitForTransitions(1))
        #expect(fixture.transitions.value == [Transition(userID: 1, online: true, at: 1_800_000_000_000)])
        #expect(!tracker.isOnline(2))
    }

    @Test func aUserGoesOfflineOnlyAfterTheGraceWithTheTimeTheLastConnectionClosed() async {
        // A grace long enough that the checks right after `disconnected` run well inside it.
        let fixture = TrackerFixture(grace: .milliseconds(300))
        let tracker = fixture.tracker
        tracker.connected(1)
        #expect(await fixture.waitForTransitions(1))
        fixture.advance(1_000)
        tracker.disconnected(1)
        let closedAt = fixture.now.value
        fixture.advance(5_000)
        // Within the grace: still online, nothing reported since the coming online.
        #expect(tracker.isOnline(1))
        #expect(fixture.transitions.value.map(\.online) == [true])

        #expect(await fixture.waitForTransitions(2))
        #expect(
            fixture.transitions.value == [
                Transition(userID: 1, online: true, at: 1_800_000_000_000),
                Transition(userID: 1, online: false, at: closedAt),
            ])
        #expect(!tracker.isOnline(1))
        #expect(tracker.onlineUserIDs.isEmpty)
    }

    @Test func aReconnectWithinTheGraceChangesNothing() async {
        let fixture = TrackerFixture(grace: .milliseconds(100))
        let tracker = fixture.tracker
        tracker.connected(1)
        tracker.connected(2)
        #expect(await fixture.waitForTransitions(2))
        tracker.disconnected(1)
        tracker.connected(1)
        // User 2's grace starts after user 1's: once 2 is reported offline, 1's grace has run out too.
        tracker.disconnected(2)
        #expect(await fixture.waitForTransitions(3))
        #expect(fixture.transitions.value.map(\.userID) == [1, 2, 2])
        #expect(fixture.transitions.value.map(\.online) == [true, true, false])
        #expect(tracker.isOnline(1))
        #expect(!tracker.isOnline(2))
    }

    @Test func aSecondConnectedReportsNothing() async {
        let fixture = TrackerFixture(grace: .milliseconds(20))
        let tracker = fixture.tracker
        tracker.connected(1)
        tracker.connected(1)
        tracker.connected(2)
        #expect(await fixture.waitForTransitions(2))
        #expect(fixture.transitions.value.map(\.userID) == [1, 2])
    }

    @Test func transitionsAreReportedInTheOrderTheyHappened() async {
        let fixture = TrackerFixture(grace: .milliseconds(20))
        let tracker = fixture.tracker
        var expected: [Transition] = []
        for round in 0..<5 {
            for user: Int64 in [1, 2] {
                fixture.advance(10)
                tracker.connected(user)
                expected.append(Transition(userID: user, online: true, at: fixture.now.value))
            }
            for user: Int64 in [2, 1] {
                fixture.advance(10)
                tracker.disconnected(user)
                expected.append(Transition(userID: user, online: false, at: fixture.now.value))
            }
            #expect(await fixture.waitForTransitions(expected.count), "round \(round)")
            #expect(!tracker.isOnline(1) && !tracker.isOnline(2))
        }
        #expect(fixture.transitions.value == expected)
    }

    @Test func theLastDisconnectDecidesWhenTheGraceStarts() async {
        let fixture = TrackerFixture(grace: .milliseconds(100))
        let tracker = fixture.tracker
        tracker.connected(1)
        tracker.disconnected(1)
        fixture.advance(50)
        tracker.connected(1)
        fixture.advance(50)
        tracker.disconnected(1)
        let lastClose = fixture.now.value
        #expect(await fixture.waitForTransitions(2))
        #expect(fixture.transitions.value.last == Transition(userID: 1, online: false, at: lastClose))
        // Only one offline, however many disconnects.
        tracker.connected(3)
        tracker.disconnected(3)
        #expect(await fixture.waitForTransitions(4))
        #expect(fixture.transitions.value.filter { $0.userID == 1 }.map(\.online) == [true, false])
    }
}
