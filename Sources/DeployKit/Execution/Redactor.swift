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

    private func redact(_ input: [UInt8], final: Bool) -> ([UInt8], [UInt8]) {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        let n = input.count
        scan: while i < n {
            for secret in secrets where input[i] == secret[0] {
                if i + secret.count <= n {
                    if input[i..<(i + secret.count)].elementsEqual(secret) {
                        out += mask
                        i += secret.count
                        continue scan
                    }
                } else if !final, input[i..<n].elementsEqual(secret[0..<(n - i)]) {
                    // Could be the start of this secret: decide when more bytes arrive.
                    return (out, Array(input[i..<n]))
                }
            }
            out.append(input[i])
            i += 1
        }
        return (out, [])
    }
}
