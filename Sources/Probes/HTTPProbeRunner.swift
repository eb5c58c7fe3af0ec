import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One answer: what the checks look at.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data
    public var latencyMs: Double

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// HTTP requests through AsyncHTTPClient, one client per probe so TLS and redirect settings
/// never leak between probes.
enum HTTPRequester {
    static func withClient<T>(tls: TLSOptions, followRedirects: Bool, timeoutMs: Int,
                              _ body: (HTTPClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = followRedirects ? .follow(max: 10, allowCycles: false) : .disallow
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if !tls.verify {
            tlsConfiguration.certificateVerification = .none
        } else if let caFile = tls.caFile {
            tlsConfiguration.additionalTrustRoots = [.file(caFile)]
        }
        configuration.tlsConfiguration = tlsConfiguration
        configuration.timeout = .init(connect: .milliseconds(Int64(timeoutMs)), read: .milliseconds(Int64(timeoutMs)))
        configuration.decompression = .enabled(limit: .ratio(20))
        // A refused connection or a bad certificate is the answer, not a reason to retry
        // until the deadline (AHC's default).
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func send(_ client: HTTPClient, method: String, url: String, headers: [String: String], body: String?,
                     timeoutMs: Int) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.uppercased())
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let clock = ContinuousClock(), start = clock.now
        let response = try await client.execute(request, timeout: .milliseconds(Int64(timeoutMs)))
        let buffer = try await response.body.collect(upTo: 8 << 20)
        let latency = (clock.now - start).milliseconds
        return HTTPAnswer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                          body: Data(buffer.readableBytesView), latencyMs: latency)
    }
}

extension HTTPProbe {
    /// The first answer's body comes back too, for checks the caller adds (JSON paths).
    func run() async -> (ProbeResult, HTTPAnswer?) {
        do {
            return try await HTTPRequester.withClient(tls: tls, followRedirects: followRedirects, timeoutMs: timeoutMs) { client in
                let answers = try await collect(client)
                return (ProbeResult(measurements: judge(answers)), answers.first)
            }
        } catch {
            return (ProbeResult(unavailable: "\(method) \(url): \(Self.describe(error))"), nil)
        }
    }

    /// `samples` requests, at most `concurrency` at once.
    private func collect(_ client: HTTPClient) async throws -> [HTTPAnswer] {
        try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
            var answers: [HTTPAnswer] = [], started = 0
            func startOne() {
                group.addTask { try await HTTPRequester.send(client, method: method, url: url, headers: headers, body: body, timeoutMs: timeoutMs) }
                started += 1
            }
            while started < min(concurrency, samples) { startOne() }
            while let answer = try await group.next() {
                answers.append(answer)
                if started < samples, !Task.isCancelled { startOne() }
            }
            return answers
        }
    }

    func judge(_ answers: [HTTPAnswer]) -> [ProbeMeasurement] {
        guard let first = answers.first else { return [] }
        var result: [ProbeMeasurement] = []
        let statuses = Dictionary(grouping: answers.map(\.status), by: { $0 }).mapValues(\.count)
        let statusText = statuses.keys.sorted().map { samples > 1 ? "\($0) ×\(statuses[$0]!)" : "\($0)" }.joined(separator: ", ")
        let expectedStatus = redirectsToHTTPS ? "301, 302, 307 or 308" : status.map(String.init).joined(separator: " or ")
        let allowed = redirectsToHTTPS ? [301, 302, 307, 308] : status
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
        return result
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            default: break
            }
        }
        if let e = error as? NIOSSLError { return "TLS: \(e)" }
        if let e = error as? BoringSSLError { return "TLS: \(e)" }
        return ProbeError.describe(error)
    }
}

extension RateLimitProbe {
    func run() async -> ProbeResult {
        do {
            return try await HTTPRequester.withClient(tls: tls, followRedirects: false, timeoutMs: timeoutMs) { client in
                var statuses: [Int] = []
                for _ in 0..<requests {
                    if Task.isCancelled { break }
                    let answer = try await HTTPRequester.send(client, method: method, url: url, headers: headers, body: nil, timeoutMs: timeoutMs)
                    statuses.append(answer.status)
                    if answer.status == expectStatus { break }
                }
                let limited = statuses.firstIndex(of: expectStatus)
                let through = limited ?? statuses.count
                let shown = statuses.map(String.init).joined(separator: " ")
                return ProbeResult(measurements: [
                    ProbeMeasurement("requests before \(expectStatus)", limited == nil ? "no \(expectStatus) in \(statuses.count)" : "\(through)",
                                expected: "≤ \(allowed)", ok: limited != nil && through <= allowed),
                    ProbeMeasurement("statuses", shown),
                ])
            }
        } catch {
            return ProbeResult(unavailable: "\(method) \(url): \(HTTPProbe.describe(error))")
        }
    }
}
