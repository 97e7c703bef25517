import Glibc

/// A growable byte buffer with a read index, owned by one connection on one thread. Reads land directly in its
/// spare capacity (no zero-filling, no intermediate copies); consumed bytes are dropped by moving the read
/// index and compacting only when the spare room runs out.
final class ByteBuffer {
    private(set) var storage: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var readIndex = 0
    private(set) var writeIndex = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        storage = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    var readableCount: Int { writeIndex - readIndex }
    var isEmpty: Bool { readIndex == writeIndex }

    /// The unread bytes.
    var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + readIndex, count: writeIndex - readIndex)
    }

    func consume(_ count: Int) {
        readIndex += count
        if readIndex == writeIndex {
            readIndex = 0
            writeIndex = 0
        }
    }

    /// Makes room for at least `count` more bytes and returns the writable region.
    func reserve(_ count: Int) -> UnsafeMutableRawBufferPointer {
        if capacity - writeIndex < count {
            if readIndex > 0 {
                (storage).copyMemory(from: storage + readIndex, byteCount: readableCount)
                writeIndex -= readIndex
                readIndex = 0
            }
            if capacity - writeIndex < count {
                var newCapacity = capacity
                while newCapacity - writeIndex < count { newCapacity *= 2 }
                let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
                grown.copyMemory(from: storage, byteCount: writeIndex)
                storage.deallocate()
                storage = grown
                capacity = newCapacity
            }
        }
        return UnsafeMutableRawBufferPointer(start: storage + writeIndex, count: capacity - writeIndex)
    }

    func didWrite(_ count: Int) { writeIndex += count }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let region = reserve(bytes.count)
        region.baseAddress?.copyMemory(from: base, byteCount: bytes.count)
        writeIndex += bytes.count
    }

    func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    func append(_ string: String) {
        if let done = string.utf8.withContiguousStorageIfAvailable({ append(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        var string = string
        string.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    func appendLiteral(_ string: StaticString) {
        append(UnsafeRawBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount))
    }

    /// Appends a non-negative integer in decimal without creating a String.
    func appendDecimal(_ value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for any Int
        withUnsafeMutableBytes(of: &digits) { scratch in
            var remaining = UInt(max(0, value))
            var index = scratch.count
            repeat {
                index -= 1
                scratch[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining > 0
            append(UnsafeRawBufferPointer(rebasing: scratch[index...]))
        }
    }

    /// Drops everything and, if the buffer grew large for one big message, shrinks it back.
    /// When nothing is buffered and the storage is more than twice `target`, trades it for `target` bytes: what an
    /// idle connection keeps (a WebSocket may stay idle for hours; 10,000 of them must not pin 16 KiB each).
    /// Returns whether it gave memory back.
    @discardableResult
    func releaseIfIdle(keeping target: Int) -> Bool {
        guard isEmpty, capacity > 2 * target else { return false }
        readIndex = 0
        writeIndex = 0
        storage.deallocate()
        capacity = max(target, 64)
        storage = .allocate(byteCount: capacity, alignment: 16)
        return true
    }

    func reset(shrinkingTo limit: Int) {
        readIndex = 0
        writeIndex = 0
        if capacity > limit * 4 {
            storage.deallocate()
            capacity = limit
            storage = .allocate(byteCount: limit, alignment: 16)
        }
    }
}
