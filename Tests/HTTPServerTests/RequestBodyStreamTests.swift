import Synchronization
import Testing

@testable import HTTPServer

@Suite struct RequestBodyStreamTests {
    @Test func chunksArriveInOrderThenTheEnd() async throws {
        let stream = RequestBodyStream(expectedLength: 6, highWater: 100)
        #expect(stream.feed([1, 2]))
        #expect(stream.feed([]))
        #expect(stream.feed([3, 4, 5, 6]))
        stream.finish()
        var chunks: [[UInt8]] = []
        for try await chunk in stream { chunks.append(chunk) }
        #expect(chunks == [[1, 2], [3, 4, 5, 6]])
        #expect(try await stream.next() == nil)
        #expect(stream.receivedBytes == 6)
    }

    @Test func aWaitingConsumerGetsChunksFedLater() async throws {
        let stream = RequestBodyStream(expectedLength: nil, highWater: 100)
        let demands = Atomic<Int>(0)
        stream.onDemand {
            demands.add(1, ordering: .relaxed)
            _ = stream.feed([7])
            stream.finish()
        }
        // The first wait signals demand (the cue for 100 Continue), which feeds here.
        #expect(try await stream.collect(upTo: 10) == [7])
        #expect(demands.load(ordering: .relaxed) == 1)
    }

    @Test func feedingPastTheHighWaterMarkPausesUntilTheConsumerDrainsToLowWater() async throws {
        let stream = RequestBodyStream(expectedLength: nil, highWater: 10)
        let demands = Atomic<Int>(0)
        stream.onDemand { demands.add(1, ordering: .relaxed) }
        #expect(stream.feed(Array(repeating: 0, count: 6)))
        #expect(stream.feed(Array(repeating: 0, count: 4)))
        #expect(!stream.feed(Array(repeating: 0, count: 3)))  // 13 > 10: pause
        #expect(stream.maxBufferedBytes == 13)
        _ = try await stream.next()  // 7 left, above low water (5)
        #expect(demands.load(ordering: .relaxed) == 0)
        _ = try await stream.next()  // 3 left
        #expect(demands.load(ordering: .relaxed) == 1)
        #expect(stream.bufferedBytes == 3)
    }

    @Test func failureDropsWhatIsBufferedAndReachesTheConsumer() async {
        let stream = RequestBodyStream(expectedLength: 100, highWater: 100)
        _ = stream.feed([1, 2, 3])
        stream.fail(.disconnected)
        stream.finish()  // ignored: the first end wins
        await #expect(throws: RequestBodyError.disconnected) { try await stream.next() }
        #expect(stream.bufferedBytes == 0)
    }

    @Test func aWaitingConsumerSeesTheFailure() async {
        let stream = RequestBodyStream(expectedLength: nil, highWater: 100)
        stream.onDemand { stream.fail(.timedOut) }
        await #expect(throws: RequestBodyError.timedOut) { try await stream.next() }
    }

    @Test func cancellingDropsLaterChunksAndWakesAPausedProducer() async {
        let stream = RequestBodyStream(expectedLength: nil, highWater: 2)
        let demands = Atomic<Int>(0)
        stream.onDemand { demands.add(1, ordering: .relaxed) }
        #expect(!stream.feed([1, 2, 3]))
        stream.cancel()
        #expect(demands.load(ordering: .relaxed) == 1)
        #expect(stream.feed([4, 5, 6]))  // dropped, and the producer reads on
        #expect(stream.bufferedBytes == 0)
        await #expect(throws: RequestBodyError.cancelled) { try await stream.next() }
    }

    @Test func cancellingTheConsumingTaskEndsItsWait() async {
        let stream = RequestBodyStream(expectedLength: nil, highWater: 100)
        let task = Task { try await stream.next() }
        try? await Task.sleep(nanoseconds: 20_000_000)
        task.cancel()
        await #expect(throws: RequestBodyError.cancelled) { try await task.value }
    }

    @Test func collectRefusesBodiesOverItsLimit() async {
        let stream = RequestBodyStream(expectedLength: nil, highWater: 100)
        _ = stream.feed([1, 2, 3])
        _ = stream.feed([4, 5, 6])
        stream.finish()
        await #expect(throws: HTTPError.self) { try await stream.collect(upTo: 5) }
    }
}
