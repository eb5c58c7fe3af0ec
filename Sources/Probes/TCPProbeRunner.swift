import Foundation
import NIOCore
import NIOPosix

extension TCPProbe {
    func run() async -> ProbeResult {
        let clock = ContinuousClock(), start = clock.now
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(Int64(timeoutMs)))
                .connect(host: host, port: port).get()
            let ms = (clock.now - start).milliseconds
            try? await channel.close()
            return ProbeResult(measurements: [ProbeMeasurement("connect", Percentiles.format(ms), expected: "≤ \(timeoutMs)", unit: "ms", ok: true)])
        } catch {
            return ProbeResult(measurements: [ProbeMeasurement("connect", "failed: \(ProbeError.describe(error))", expected: "connected within \(timeoutMs) ms", ok: false)])
        }
    }
}

/// Network errors in words an on-call engineer recognises.
enum ProbeError {
    static func describe(_ error: Error) -> String {
        if let e = error as? IOError { return e.description }
        let text = "\(error)"
        if text.contains("connectTimeout") { return "connection timed out" }
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }
}
