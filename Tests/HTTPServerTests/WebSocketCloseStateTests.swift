import Testing

@testable import HTTPServer

@Suite("WebSocket closing handshake")
struct WebSocketCloseStateTests {
    @Test func openDeliversMessagesAndAnswersPings() {
        var state = WebSocketCloseState()
        #expect(state.canSendData)
        #expect(state.handle(.text("hi")) == .deliver)
        #expect(state.handle(.binary([1])) == .deliver)
        #expect(state.handle(.pong([])) == .deliver)
        #expect(state.handle(.ping([1, 2])) == .sendPong([1, 2]))
        #expect(state.handle(.needMoreData) == .ignore)
        #expect(state.phase == .open)
    }

    @Test func peerClosesFirstAndIsAnsweredOnceWithItsCode() {
        var state = WebSocketCloseState()
        #expect(
            state.handle(.close(code: 4001, reason: "bye")) == .sendClose(code: 4001, reason: "", thenDisconnect: true))
        #expect(state.phase == .closed)
        #expect(state.closeCode == 4001)
        #expect(state.sentCloseCode == 4001)
        #expect(!state.canSendData)
        // A second Close, more data, or our own close: nothing more is sent.
        #expect(state.handle(.close(code: 1000, reason: "")) == .ignore)
        #expect(state.handle(.text("late")) == .ignore)
        #expect(state.handle(.ping([])) == .ignore)
        #expect(state.close(code: 1001) == .ignore)
    }

    @Test func emptyCloseIsAnsweredWithNormalClosure() {
        var state = WebSocketCloseState()
        #expect(state.handle(.close(code: nil, reason: "")) == .sendClose(code: 1000, reason: "", thenDisconnect: true))
        #expect(state.closeCode == 1005, "§7.1.5: no status code was present")
    }

    @Test func weCloseFirstThenDropDataUntilThePeersClose() {
        var state = WebSocketCloseState()
        #expect(
            state.close(code: 1001, reason: "shutting down")
                == .sendClose(code: 1001, reason: "shutting down", thenDisconnect: false))
        #expect(state.phase == .closing)
        #expect(!state.canSendData)
        #expect(state.close(code: 1000) == .ignore, "only one Close is sent")
        #expect(state.handle(.text("in flight")) == .ignore)
        #expect(state.handle(.binary([1])) == .ignore)
        #expect(state.handle(.ping([9])) == .ignore)
        #expect(state.handle(.close(code: 1001, reason: "")) == .disconnect)
        #expect(state.phase == .closed)
        #expect(state.closeCode == 1001)
        #expect(state.sentCloseCode == 1001)
    }

    @Test func protocolErrorWhileOpenSendsTheCodeAndDisconnects() {
        var state = WebSocketCloseState()
        let action = state.handle(.protocolError(closeCode: 1007, reason: "The text is not valid UTF-8."))
        #expect(action == .sendClose(code: 1007, reason: "The text is not valid UTF-8.", thenDisconnect: true))
        #expect(state.phase == .closed)
        #expect(state.closeCode == 1007)
    }

    @Test func protocolErrorWhileClosingJustDisconnects() {
        var state = WebSocketCloseState()
        _ = state.close(code: 1000)
        #expect(state.handle(.protocolError(closeCode: 1002, reason: "x")) == .disconnect)
        #expect(state.handle(.protocolError(closeCode: 1002, reason: "x")) == .ignore)
    }

    @Test func connectionLostIsAbnormal() {
        var open = WebSocketCloseState()
        open.connectionLost()
        #expect(open.phase == .closed)
        #expect(open.closeCode == 1006)
        #expect(open.handle(.close(code: 1000, reason: "")) == .ignore)

        var closed = WebSocketCloseState()
        _ = closed.handle(.close(code: 1000, reason: ""))
        closed.connectionLost()
        #expect(closed.closeCode == 1000, "a finished handshake keeps its code")
    }
}
