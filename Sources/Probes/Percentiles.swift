import Foundation

/// Nearest-rank percentiles (the value a reviewer can find among the samples, never an
/// interpolation that no request took).
public enum Percentiles {
    public static func value(_ p: Double, of samples: [Double]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// One decimal, as reports show milliseconds: exactly what `String(format: "%.1f")` prints
    /// (the binary value rounded half to even), without Foundation's formatter, whose first call
    /// costs ~1 M instructions of a `plan` that describes an HTTP probe.
    public static func format(_ ms: Double) -> String {
        guard ms.isFinite, ms.magnitude < 1e14 else { return String(format: "%.1f", ms) }
        let x = ms.magnitude
        // q = floor(x * 10), exactly: fma computes x * 10 - q before its one rounding, so its sign
        // is exact. The rounded product can land on the integer above the true one, never below.
        var q = (x * 10).rounded(.down)
        if (-q).addingProduct(x, 10) < 0 { q -= 1 }
        let rest = (-(q + 0.5)).addingProduct(x, 10)
        if rest > 0 || (rest == 0 && q.truncatingRemainder(dividingBy: 2) == 1) { q += 1 }
        let tenths = Int(q)
        return (ms.sign == .minus ? "-" : "") + "\(tenths / 10).\(tenths % 10)"
    }
}

extension Duration {
    /// As probes measure and report time: fractional milliseconds.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
