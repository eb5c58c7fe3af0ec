import Foundation

/// One answer: what the checks look at.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data
    public var latencyMs: Double
    public var timing: HTTPTiming?

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

extension HTTPProbe {
    var request: CurlRequest {
        CurlRequest(url: url, method: method, headers: headers, body: body.map { Data($0.utf8) },
                    followRedirects: followRedirects, timeoutMs: timeoutMs, tls: tls)
    }

    /// The first answer's body comes back too, for checks the caller adds (JSON paths).
    func run() async -> (ProbeResult, HTTPAnswer?) {
        do {
            var answers: [HTTPAnswer] = []
            for result in try await Curl.many(request, samples: samples, concurrency: concurrency) {
                answers.append(try result.get())
            }
            return (ProbeResult(measurements: judge(answers)), answers.first)
        } catch {
            return (ProbeResult(unavailable: "\(method) \(url): \(error)"), nil)
        }
    }

    func judge(_ answers: [HTTPAnswer]) -> [ProbeMeasurement] {
        guard let first = answers.first else { return [] }
        var result: [ProbeMeasurement] = []
        let statuses = Dictionary(grouping: answers.map(\.status), by: { $0 }).mapValues(\.count)
        let statusText = statuses.keys.sorted().map { samples > 1 ? "\($0) ×\(statuses[$0]!)" : "\($0)" }.joined(separator: ", ")
        // A redirect check takes the 3xx statuses it is given (`status: 301`), else any redirect.
        let allowed = redirectsToHTTPS && !status.allSatisfy((300..<400).contains) ? [301, 302, 307, 308] : status
        let expectedStatus = allowed.count > 2 ? allowed.dropLast().map(String.init).joined(separator: ", ") + " or \(allowed.last!)"
            : allowed.map(String.init).joined(separator: " or ")
        result.append(ProbeMeasurement("status", statusText, expected: expectedStatus, ok: statuses.keys.allSatisfy(allowed.contains)))
        if redirectsToHTTPS {
            let location = first.header("Location") ?? ""
            let wantedHost = URL(string: url)?.host?.lowercased()
            let target = URL(string: location)
            let ok = target?.scheme?.lowercased() == "https" && (wantedHost == nil || target?.host?.lowercased() == wantedHost)
            result.append(ProbeMeasurement("redirect location", location.isEmpty ? "absent" : location, expected: "https://\(wantedHost ?? "")/…", ok: ok))
        }
        for requirement in requireHeaders {
            let value = first.header(requirement.name)
            var ok = value != nil, expected = "present"
            if let equals = requirement.equals { ok = value == equals; expected = equals }
            if let contains = requirement.contains { ok = ok && (value?.contains(contains) ?? false); expected = "contains \(contains)" }
            if let excludes = requirement.excludes, !excludes.isEmpty {
                // Header keywords (CSP's 'unsafe-inline') are case-insensitive.
                ok = ok && !excludes.contains { value?.lowercased().contains($0.lowercased()) ?? false }
                let without = "without " + excludes.joined(separator: ", ")
                expected = expected == "present" ? without : expected + ", " + without
            }
            result.append(ProbeMeasurement("header \(requirement.name)", value ?? "absent", expected: expected, ok: ok))
        }
        let text = String(decoding: first.body, as: UTF8.self)
        for wanted in bodyContains {
            let found = text.contains(wanted)
            result.append(ProbeMeasurement("body contains \"\(wanted)\"", found ? "yes" : "no", expected: "yes", ok: found))
        }
        let latencies = answers.map(\.latencyMs)
        let limits: [(String, Double, Double?)] = [("p50", 50, latency.p50), ("p95", 95, latency.p95), ("max", 100, latency.max)]
        for (label, p, limit) in limits {
            guard let value = Percentiles.value(p, of: latencies) else { continue }
            if samples == 1, label != "max", limit == nil { continue }
            let name = samples == 1 ? "latency" : "latency \(label)"
            result.append(ProbeMeasurement(name, Percentiles.format(value), expected: limit.map { "≤ \(Percentiles.format($0))" },
                                      unit: "ms", ok: limit.map { value <= $0 } ?? true))
        }
        if samples > 1 { result.append(ProbeMeasurement("samples", "\(answers.count) at concurrency \(min(concurrency, samples))")) }
        if let timing = Self.timing(answers) { result.append(timing) }
        return result
    }

    /// Where the time went (the median of each phase over the samples): a slow answer reads as
    /// a slow resolver, connect, handshake or server.
    static func timing(_ answers: [HTTPAnswer]) -> ProbeMeasurement? {
        let timings = answers.compactMap(\.timing)
        guard !timings.isEmpty else { return nil }
        func median(_ phase: KeyPath<HTTPTiming, Double>) -> String {
            Percentiles.format(Percentiles.value(50, of: timings.map { $0[keyPath: phase] }) ?? 0)
        }
        let text = "dns \(median(\.dns)) · connect \(median(\.connect)) · tls \(median(\.tls)) · first byte \(median(\.firstByte))"
        return ProbeMeasurement(timings.count > 1 ? "time p50" : "time", text, unit: "ms")
    }
}

extension RateLimitProbe {
    func run() async -> ProbeResult {
        let request = CurlRequest(url: url, method: method, headers: headers, body: body.map { Data($0.utf8) }, timeoutMs: timeoutMs, tls: tls)
        do {
            let session = try Curl.Session(request)
            // Ctrl-C between two requests stops the series (each request is bounded by its timeout).
            let stop = CancelFlag()
            let statuses = try await withTaskCancellationHandler {
                try await Curl.offPool { () throws -> [Int] in
                    var statuses: [Int] = []
                    for _ in 0..<requests where !stop.isSet {
                        let answer = try session.perform()
                        statuses.append(answer.status)
                        if answer.status == expectStatus { break }
                    }
                    return statuses
                }
            } onCancel: {
                stop.set()
            }
            let limited = statuses.firstIndex(of: expectStatus)
            let through = limited ?? statuses.count
            let shown = statuses.map(String.init).joined(separator: " ")
            // A limit on the very first request proves nothing: a limiter still engaged from an
            // earlier run, a firewall refusing this host, an endpoint refusing everyone.
            let value = limited == nil ? "no \(expectStatus) in \(statuses.count)"
                : through == 0 ? "0 (the first request got \(expectStatus): still limited from an earlier run, or refused whatever is sent)" : "\(through)"
            return ProbeResult(measurements: [
                ProbeMeasurement("requests before \(expectStatus)", value, expected: "1…\(allowed)", ok: limited != nil && through >= 1 && through <= allowed),
                ProbeMeasurement("statuses", shown),
            ])
        } catch {
            return ProbeResult(unavailable: "\(method) \(url): \(error)")
        }
    }
}
