import Probes

extension Planner {
    /// What a probe checks, in the words plans and reports show under "expect".
    static func describe(_ r: ProbeRequest, json: [JSONCheck]) -> [String] {
        var out: [String] = []
        switch r.kind {
        case .http:
            guard let h = r.http else { return [] }
            out.append(h.redirectsToHTTPS ? "redirects to https" : "status \(h.status.map(String.init).joined(separator: " or "))")
            out += h.requireHeaders.map { req in
                "header \(req.name)" + (req.equals.map { " = \($0)" } ?? "") + (req.contains.map { " contains \($0)" } ?? "")
                    + (req.excludes.map { " without " + $0.joined(separator: ", ") } ?? "")
            }
            out += h.bodyContains.map { "body contains \"\($0)\"" }
            out += json.map { "\($0.path) == \($0.equals)" }
            if h.samples > 1 { out.append("\(h.samples) samples, \(h.concurrency) at a time") }
            if let p = h.latency.p50 { out.append("p50 ≤ \(Percentiles.format(p)) ms") }
            if let p = h.latency.p95 { out.append("p95 ≤ \(Percentiles.format(p)) ms") }
            if let p = h.latency.max { out.append("max ≤ \(Percentiles.format(p)) ms") }
            if !h.tls.verify { out.append("TLS not verified") }
        case .rateLimit:
            guard let l = r.rateLimit else { return [] }
            out.append("\(l.expectStatus) after at most \(l.allowed) of \(l.requests) requests")
        case .dns:
            guard let d = r.dns else { return [] }
            out.append(d.contains.isEmpty && d.spf == nil && d.dkim == nil && d.dmarc == nil ? "at least one \(d.type.rawValue) record" : "\(d.type.rawValue) record")
            out += d.contains.map { "record \($0)" }
            if let spf = d.spf {
                out.append("one v=spf1 record")
                out += spf.includes.map { "include:\($0)" }
                if let all = spf.all { out.append("\(all.rawValue) or stricter") }
            }
            if let dkim = d.dkim { out.append("v=DKIM1 with a public key (selector \(dkim.selector))") }
            if let dmarc = d.dmarc { out.append("v=DMARC1 with p=\(dmarc.policy.rawValue) or stricter") }
        case .tcp:
            out.append("connects within \(r.tcp?.timeoutMs ?? 0) ms")
        case .tls:
            guard let t = r.tls else { return [] }
            if let days = t.minDays { out.append("certificate valid ≥ \(days) days") }
            out.append("hostname matches")
            if t.tls.verify { out.append("chain trusted") }
        }
        return out
    }
}
