import Testing

@testable import HTTPServer

@Suite struct TimerHeapTests {
    @Test func popsDueEntriesInDeadlineThenInsertionOrder() {
        var heap = TimerHeap()
        nonisolated(unsafe) var fired: [Int] = []
        for (deadline, label) in [(30, 3), (10, 1), (20, 2), (10, 11), (50, 5)] {
            heap.insert(deadline: Int64(deadline)) { fired.append(label) }
        }
        #expect(heap.earliestDeadline == 10)
        while let entry = heap.popDue(now: 30) { entry.task() }
        #expect(fired == [1, 11, 2, 3])
        #expect(heap.earliestDeadline == 50)
        #expect(heap.popDue(now: 49) == nil)
    }

    @Test func manyRandomDeadlinesComeOutSorted() {
        var heap = TimerHeap()
        var generator = SystemRandomNumberGenerator()
        var deadlines: [Int64] = []
        for _ in 0..<1000 {
            let deadline = Int64.random(in: 0..<10_000, using: &generator)
            deadlines.append(deadline)
            heap.insert(deadline: deadline) {}
        }
        var popped: [Int64] = []
        while let entry = heap.popDue(now: .max) { popped.append(entry.deadline) }
        #expect(popped == deadlines.sorted())
        #expect(heap.isEmpty)
    }
}
