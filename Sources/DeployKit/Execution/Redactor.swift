/// Replaces secret values with `••••` in a byte stream, including a secret split across two
/// reads: it holds back the shortest tail that could still be the start of a secret.
public struct Redactor: Sendable {
    private let secrets: [[UInt8]]
    private let mask = Array(secretMask.utf8)
    private var pending: [UInt8] = []

    public init(secrets: [String]) {
        // Longest first, so a secret containing another is masked whole.
        self.secrets = Array(Set(secrets.filter { !$0.isEmpty })).map { Array($0.utf8) }.sorted { $0.count > $1.count }
    }

    public var isEmpty: Bool { secrets.isEmpty }

    /// Redacts what can be decided now; keeps back a possible secret prefix for next time.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        if secrets.isEmpty { return Array(bytes) }
        pending.append(contentsOf: bytes)
        let (out, kept) = redact(pending, final: false)
        pending = kept
        return out
    }

    public mutating func finish() -> [UInt8] {
        let (out, _) = redact(pending, final: true)
        pending = []
        return out
    }

    /// Masks a whole string at once (argv, messages).
    public func redact(_ text: String) -> String {
        if secrets.isEmpty { return text }
        return String(decoding: redact(Array(text.utf8), final: true).0, as: UTF8.self)
    }

    /// Masks every occurrence of every secret; overlapping occurrences (secrets `abc` and
    /// `bcdef` in `abcdef`) merge into one mask, so no part of either shows. Unless `final`,
    /// keeps back the tail that could still grow into a secret.
    private func redact(_ input: [UInt8], final: Bool) -> ([UInt8], [UInt8]) {
        let n = input.count
        var intervals: [(Int, Int)] = []
        for secret in secrets where secret.count <= n {
            var i = 0
            while i + secret.count <= n {
                if input[i] == secret[0], input[i..<(i + secret.count)].elementsEqual(secret) {
                    intervals.append((i, i + secret.count))
                }
                i += 1
            }
        }
        intervals.sort { $0.0 < $1.0 }
        var merged: [(Int, Int)] = []
        for interval in intervals {
            if let last = merged.last, interval.0 <= last.1 {
                merged[merged.count - 1].1 = max(last.1, interval.1)
            } else {
                merged.append(interval)
            }
        }
        var cut = n
        if !final {
            // The earliest position whose rest is the start of some secret.
            let longest = secrets.map(\.count).max() ?? 0
            for i in max(0, n - longest + 1)..<n where secrets.contains(where: { $0.count > n - i && $0[0..<(n - i)].elementsEqual(input[i..<n]) }) {
                cut = i
                break
            }
            // Never split a mask: hold back a whole match that crosses the cut.
            for (start, end) in merged where start < cut && end > cut { cut = start }
        }
        var out: [UInt8] = []
        out.reserveCapacity(cut)
        var position = 0
        for (start, end) in merged where start < cut {
            out += input[position..<start]
            out += mask
            position = end
        }
        if position < cut { out += input[position..<cut] }
        return (out, Array(input[max(cut, position)..<n]))
    }
}
