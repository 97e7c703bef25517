/// The message seqs of one room a connection has been sent, as sorted, disjoint, non-adjacent ranges: live
/// delivery adds one contiguous run from subscription on, a replay another, so this stays one or two ranges.
struct SeqRanges: Equatable {
    private(set) var ranges: [ClosedRange<Int64>] = []

    func contains(_ seq: Int64) -> Bool {
        // Newest first: live seqs are checked against the last range almost always.
        for range in ranges.reversed() {
            if range.contains(seq) { return true }
            if range.upperBound < seq { return false }
        }
        return false
    }

    mutating func insert(_ seq: Int64) {
        if let last = ranges.last, last.upperBound + 1 == seq {
            ranges[ranges.count - 1] = last.lowerBound...seq
            return
        }
        guard !contains(seq) else { return }
        var merged = seq...seq
        var kept: [ClosedRange<Int64>] = []
        kept.reserveCapacity(ranges.count + 1)
        for range in ranges {
            if range.upperBound + 1 < merged.lowerBound || merged.upperBound + 1 < range.lowerBound {
                kept.append(range)
            } else {
                merged = min(range.lowerBound, merged.lowerBound)...max(range.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        kept.sort { $0.lowerBound < $1.lowerBound }
        ranges = kept
    }
}
