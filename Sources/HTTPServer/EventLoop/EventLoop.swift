import CLinux
import Glibc
import Logging
import Synchronization
import SystemSupport

/// Receives readiness events for one registered descriptor, always on its event loop's thread.
protocol Selectable: AnyObject {
    func ready(events: UInt32)
}

/// One thread, one epoll instance (level-triggered for listeners, edge-triggered for connections), an eventfd
/// for wake-ups from other threads, and a timer heap. Everything registered on a loop is touched only by that
/// loop's thread; other threads talk to it through `execute`, in the spirit of Redis's `ae.c`: run ready
/// handlers, run queued tasks, run due timers, flush logs, sleep until the next timer.
public final class EventLoop: @unchecked Sendable {
    // @unchecked: the fields marked "loop thread only" are read and written only on the loop's own thread
    // (`run`); the cross-thread state is `pending` (a Mutex), `threadID` (an Atomic) and the descriptors.

    public let index: Int
    private let epollDescriptor: Int32
    private let wakeDescriptor: Int32
    private let eventBuffer: UnsafeMutableRawPointer
    private let eventCapacity: Int32 = 1024
    private let pending = Mutex<[@Sendable () -> Void]>([])
    private let threadID = Atomic<UInt>(0)
    private let logger = Logger("loop")

    // Loop thread only.
    private struct Registration {
        var generation: UInt32
        var handler: Selectable
    }
    private var registrations: [Registration?] = []
    private var nextGeneration: UInt32 = 1
    private var timers = TimerHeap()
    private var running = true
    private var exitHandlers: [() -> Void] = []
    /// Work to run once the current iteration's events, tasks and timers are done (loop thread only).
    private var iterationEnd: [() -> Void] = []

    public init(index: Int) throws {
        self.index = index
        let epoll = epoll_create1(CLINUX_EPOLL_CLOEXEC)
        guard epoll >= 0 else { throw SystemError("epoll_create1") }
        let wake = eventfd(0, CLINUX_EFD_NONBLOCK | CLINUX_EFD_CLOEXEC)
        guard wake >= 0 else {
            let error = SystemError("eventfd")
            close(epoll)
            throw error
        }
        guard clinux_epoll_ctl(epoll, CLINUX_EPOLL_CTL_ADD, wake, CLINUX_EPOLLIN, 0) == 0,
            let buffer = clinux_epoll_events_allocate(eventCapacity)
        else {
            let error = SystemError("epoll_ctl")
            close(wake)
            close(epoll)
            throw error
        }
        epollDescriptor = epoll
        wakeDescriptor = wake
        eventBuffer = buffer
    }

    deinit {
        free(eventBuffer)
        close(wakeDescriptor)
        close(epollDescriptor)
    }

    /// True on this loop's own thread.
    public var inEventLoop: Bool { threadID.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Runs `task` on the loop thread, after the current iteration's events. Safe from any thread; tasks run in
    /// the order they were queued.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        let first = pending.withLock { queue in
            queue.append(task)
            return queue.count == 1
        }
        // Only the first task of a batch writes the eventfd; the loop takes the whole batch at once.
        if first {
            var one: UInt64 = 1
            _ = write(wakeDescriptor, &one, 8)
        }
    }

    /// Runs `task` on the loop thread after `milliseconds`. From another thread the timer is added through
    /// `execute`, since the timer heap belongs to the loop thread.
    public func schedule(afterMilliseconds milliseconds: Int64, _ task: @escaping @Sendable () -> Void) {
        let deadline = MonotonicClock.milliseconds() + milliseconds
        if inEventLoop {
            timers.insert(deadline: deadline, task)
        } else {
            execute { [unowned self] in timers.insert(deadline: deadline, task) }
        }
    }

    /// Loop-thread-only variant for tasks that touch loop-confined (non-Sendable) state.
    func scheduleOnLoop(afterMilliseconds milliseconds: Int64, _ task: @escaping () -> Void) {
        precondition(inEventLoop, "scheduleOnLoop must be called on the loop thread")
        timers.insert(deadline: MonotonicClock.milliseconds() + milliseconds, task)
    }

    /// Runs `task` every `milliseconds` until the loop stops. Must be called on the loop thread.
    func scheduleRepeating(everyMilliseconds milliseconds: Int64, _ task: @escaping () -> Void) {
        scheduleOnLoop(afterMilliseconds: milliseconds) { [unowned self] in
            task()
            if running { scheduleRepeating(everyMilliseconds: milliseconds, task) }
        }
    }

    /// Runs `task` at the end of the current iteration, after every event, task and timer of it: a connection
    /// that gets many frames in one iteration (a burst of broadcasts) writes them with one syscall. Loop thread
    /// only.
    func atIterationEnd(_ task: @escaping () -> Void) { iterationEnd.append(task) }

    /// Runs `handler` once when the loop has stopped, on its thread.
    func onExit(_ handler: @escaping () -> Void) { exitHandlers.append(handler) }

    // MARK: Registration (loop thread only)

    /// Registers `descriptor`; `edgeTriggered` connections must drain reads and writes to EAGAIN.
    func register(_ descriptor: Int32, handler: Selectable, events: UInt32) throws(SystemError) {
        let fd = Int(descriptor)
        if fd >= registrations.count {
            registrations.append(contentsOf: repeatElement(nil, count: max(fd + 1 - registrations.count, 256)))
        }
        nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
        registrations[fd] = Registration(generation: nextGeneration, handler: handler)
        let data = UInt64(nextGeneration) << 32 | UInt64(UInt32(bitPattern: descriptor))
        guard clinux_epoll_ctl(epollDescriptor, CLINUX_EPOLL_CTL_ADD, descriptor, events, data) == 0 else {
            registrations[fd] = nil
            throw SystemError("epoll_ctl(ADD)")
        }
    }

    /// Forgets `descriptor`; pending events for it in the current batch are dropped by the generation check.
    func deregister(_ descriptor: Int32) {
        let fd = Int(descriptor)
        guard fd < registrations.count else { return }
        registrations[fd] = nil
        _ = clinux_epoll_ctl(epollDescriptor, CLINUX_EPOLL_CTL_DEL, descriptor, 0, 0)
    }

    // MARK: Running

    /// Asks the loop to return from `run` after the current iteration. Safe from any thread.
    public func stop() {
        execute { [unowned self] in running = false }
    }

    /// Runs the loop on the calling thread until `stop`; `setup` runs first, on the loop thread (it may
    /// register descriptors and schedule timers).
    public func run(_ setup: () -> Void = {}) {
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
        LogSystem.batchOnCurrentThread()
        setup()
        while running {
            let ready = clinux_epoll_wait(epollDescriptor, eventBuffer, eventCapacity, nextTimeout())
            if ready < 0 {
                if errno == EINTR { continue }
                logger.error("epoll_wait failed", ["error": SystemError("epoll_wait").description])
                break
            }
            for i in 0..<Int32(ready) {
                dispatch(events: clinux_epoll_events_at(eventBuffer, i), data: clinux_epoll_data_at(eventBuffer, i))
            }
            runPendingTasks()
            runDueTimers()
            while !iterationEnd.isEmpty {
                let tasks = iterationEnd
                iterationEnd.removeAll(keepingCapacity: true)
                for task in tasks { task() }
            }
            LogSystem.handOff()
        }
        for handler in exitHandlers { handler() }
        exitHandlers = []
        registrations = []
        timers = TimerHeap()
        LogSystem.handOff()
    }

    private func dispatch(events: UInt32, data: UInt64) {
        let descriptor = Int32(bitPattern: UInt32(truncatingIfNeeded: data))
        let generation = UInt32(truncatingIfNeeded: data >> 32)
        if generation == 0 {
            var value: UInt64 = 0
            _ = read(wakeDescriptor, &value, 8)
            return
        }
        let fd = Int(descriptor)
        guard fd < registrations.count, let registration = registrations[fd],
            registration.generation == generation
        else { return }
        registration.handler.ready(events: events)
    }

    private func runPendingTasks() {
        let tasks = pending.withLock { queue -> [@Sendable () -> Void] in
            guard !queue.isEmpty else { return [] }
            let tasks = queue
            queue.removeAll(keepingCapacity: true)
            return tasks
        }
        for task in tasks { task() }
    }

    private func runDueTimers() {
        let now = MonotonicClock.milliseconds()
        while let entry = timers.popDue(now: now) { entry.task() }
    }

    private func nextTimeout() -> Int32 {
        if pending.withLock({ !$0.isEmpty }) { return 0 }
        guard let deadline = timers.earliestDeadline else { return -1 }
        return Int32(clamping: max(0, deadline - MonotonicClock.milliseconds()))
    }
}
