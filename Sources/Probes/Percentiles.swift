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

    /// One decimal, as reports show milliseconds.
    public static func format(_ ms: Double) -> String {
        String(format: "%.1f", ms)
    }
}

extension Duration {
    /// As probes measure and report time: fractional milliseconds.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
