import Foundation

/// Runs any probe and times it. The one entry point the run engine and `doctor` use.
public enum ProbeRunner {
    /// The result, and for HTTP the first answer (for checks the caller adds on its body).
    public static func run(_ request: ProbeRequest) async -> (ProbeResult, HTTPAnswer?) {
        let clock = ContinuousClock(), start = clock.now
        var answer: HTTPAnswer? = nil
        var result: ProbeResult
        switch request.kind {
        case .http:
            guard let probe = request.http else { return (ProbeResult(unavailable: "no http settings"), nil) }
            (result, answer) = await probe.run()
        case .rateLimit:
            guard let probe = request.rateLimit else { return (ProbeResult(unavailable: "no rate_limit settings"), nil) }
            result = await probe.run()
        case .dns:
            guard let probe = request.dns else { return (ProbeResult(unavailable: "no dns settings"), nil) }
            result = await probe.run()
        case .tcp:
            guard let probe = request.tcp else { return (ProbeResult(unavailable: "no tcp settings"), nil) }
            result = await probe.run()
        case .tls:
            guard let probe = request.tls else { return (ProbeResult(unavailable: "no tls settings"), nil) }
            result = await probe.run()
        }
        result.durationMs = Int((clock.now - start).milliseconds.rounded())
        return (result, answer)
    }
}
