import CurlSupport
import Foundation

extension TLSProbe {
    var name: String { serverName ?? host }

    func run() async -> ProbeResult {
        let certificate: cs_certificate
        do {
            // First handshake without verification: the certificate is read even when it is
            // expired or for another name, so the report says which.
            let session = try Curl.Session(handshake(TLSOptions(verify: false)))
            certificate = try await Curl.offPool { _ = try session.perform(); return try session.certificate() }
        } catch {
            return ProbeResult(unavailable: "TLS handshake with \(host):\(port) failed: \(error)")
        }
        var measurements: [ProbeMeasurement] = []
        let expiry = Date(timeIntervalSince1970: TimeInterval(certificate.not_after))
        let days = Int((expiry.timeIntervalSinceNow / 86_400).rounded(.down))
        measurements.append(ProbeMeasurement("days to expiry", "\(days)", expected: minDays.map { "≥ \($0)" }, ok: days >= (minDays ?? 0)))
        measurements.append(ProbeMeasurement("expires", ISO8601DateFormatter().string(from: expiry)))
        let names = CertificateNames(certificate)
        let matches = names.matches(name)
        measurements.append(ProbeMeasurement("hostname \(name)", matches ? "matches" : "not in \(names.summary)", expected: "matches", ok: matches))
        if tls.verify {
            do {
                // The chain alone: the name was judged above, with the reason.
                let session = try Curl.Session(handshake(tls))
                _ = try await Curl.offPool { try session.perform() }
                measurements.append(ProbeMeasurement("chain", "trusted", expected: "trusted", ok: true))
            } catch let failure as HTTPFailure where failure.kind == .tls {
                measurements.append(ProbeMeasurement("chain", "untrusted: \(failure.detail)", expected: "trusted", ok: false))
            } catch {
                measurements.append(ProbeMeasurement("chain", "not checked: \(error)", expected: "trusted", ok: false))
            }
        }
        return ProbeResult(measurements: measurements)
    }

    /// A TLS handshake and nothing more, naming `name` (SNI) at `host`.
    private func handshake(_ options: TLSOptions) -> CurlRequest {
        func bracketed(_ h: String) -> String { h.contains(":") ? "[\(h)]" : h }
        var request = CurlRequest(url: "https://\(bracketed(name)):\(port)/", timeoutMs: timeoutMs, tls: options, verifyHost: false)
        request.connectOnly = true
        if name != host { request.connectTo = "\(bracketed(name)):\(port):\(bracketed(host)):\(port)" }
        return request
    }
}

/// The names a certificate is valid for (subjectAltName; the CN only when there is none).
struct CertificateNames {
    var dns: [String]
    var ips: [String]
    var commonName: String?

    init(dns: [String], ips: [String], commonName: String?) {
        self.dns = dns
        self.ips = ips
        self.commonName = commonName
    }

    init(_ certificate: cs_certificate) {
        var certificate = certificate
        let names = withUnsafeBytes(of: &certificate.names) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let commonName = withUnsafeBytes(of: &certificate.common_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        dns = []
        ips = []
        for line in names.split(separator: "\n") {
            if line.hasPrefix("DNS:") { dns.append(line.dropFirst(4).lowercased()) }
            if line.hasPrefix("IP:") { ips.append(String(line.dropFirst(3))) }
        }
        self.commonName = commonName.isEmpty ? nil : commonName
    }

    /// RFC 6125: exact, or one leading `*` label matching exactly one label.
    func matches(_ host: String) -> Bool {
        let host = host.lowercased()
        if ips.contains(host) { return true }
        let candidates = dns.isEmpty && ips.isEmpty ? [commonName?.lowercased()].compactMap { $0 } : dns
        return candidates.contains { pattern in
            if pattern == host { return true }
            guard pattern.hasPrefix("*.") else { return false }
            let suffix = pattern.dropFirst(1)
            guard host.hasSuffix(suffix) else { return false }
            let label = host.dropLast(suffix.count)
            return !label.isEmpty && !label.contains(".")
        }
    }

    var summary: String {
        let all = dns + ips
        return all.isEmpty ? "CN=\(commonName ?? "?")" : all.joined(separator: ", ")
    }
}
