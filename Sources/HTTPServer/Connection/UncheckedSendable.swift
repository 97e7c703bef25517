/// Carries a loop-confined object through a `@Sendable` closure that is only ever run on that same loop
/// (via `EventLoop.execute`). The wrapper is the one place that promise is made; keep its uses that narrow.
struct LoopBound<Value: AnyObject>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
