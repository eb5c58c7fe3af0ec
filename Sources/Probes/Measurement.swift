/// One value a probe measured, next to what it had to be. Reports show these as rows:
/// the journal keeps them so a reviewer sees "p95 41 ms ≤ 200 ms", not just "passed".
public struct ProbeMeasurement: Codable, Sendable, Hashable {
    /// What was measured, e.g. `status`, `latency p95`, `header Strict-Transport-Security`.
    public var name: String
    /// The measured value as text (`301`, `41.2`, `absent`).
    public var value: String
    /// What it had to be, in words (`301`, `≤ 200`, `present`); nil for values only recorded.
    public var expected: String?
    public var unit: String?
    public var ok: Bool

    public init(_ name: String, _ value: String, expected: String? = nil, unit: String? = nil, ok: Bool = true) {
        self.name = name
        self.value = value
        self.expected = expected
        self.unit = unit
        self.ok = ok
    }

    /// "latency p95 = 41.2 ms (expected ≤ 200 ms)"
    public var sentence: String {
        let unitText = unit.map { " \($0)" } ?? ""
        let shown = "\(name) = \(value)\(value == "absent" ? "" : unitText)"
        guard let expected else { return shown }
        return "\(shown) (expected \(expected)\(unitText))"
    }
}

/// What a probe found. `unavailable` means nothing could be measured (connection refused,
/// resolver down): a different thing from a measured value that is wrong.
public struct ProbeResult: Sendable {
    public var measurements: [ProbeMeasurement]
    public var unavailable: String?
    public var durationMs: Int

    public init(measurements: [ProbeMeasurement] = [], unavailable: String? = nil, durationMs: Int = 0) {
        self.measurements = measurements
        self.unavailable = unavailable
        self.durationMs = durationMs
    }

    public var ok: Bool { unavailable == nil && measurements.allSatisfy(\.ok) }

    /// Why it failed, one phrase per failed check.
    public var failures: [String] {
        (unavailable.map { [$0] } ?? []) + measurements.filter { !$0.ok }.map(\.sentence)
    }
}
