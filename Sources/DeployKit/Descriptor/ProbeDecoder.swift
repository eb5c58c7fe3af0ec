import Probes

/// Decodes the probe step kinds. Every key is checked against its own list (with a
/// suggestion), every text value may use `${…}`.
extension DescriptorDecoder {
    static let httpKeys = ["url", "method", "headers", "body", "status", "follow_redirects", "redirects_to_https",
                           "require_headers", "body_contains", "json", "samples", "concurrency", "latency_ms", "tls", "timeout"]
    static let rateLimitKeys = ["url", "method", "headers", "body", "requests", "allowed", "status", "tls", "timeout"]
    static let dnsKeys = ["name", "domain", "type", "server", "contains", "spf", "dkim", "dmarc", "timeout"]
    static let tcpKeys = ["url", "host", "port", "timeout"]
    static let tlsKeys = ["url", "host", "port", "server_name", "min_days", "verify", "ca_file", "timeout"]

    func probe(_ key: String, _ node: YAMLNode, _ what: String) -> ProbeSpec? {
        let context = "'\(key)' of \(what)"
        switch key {
        case "http": return http(node, context)
        case "rate_limit": return rateLimit(node, context)
        case "dns": return dns(node, context)
        case "tcp": return tcp(node, context)
        default: return tls(node, context)
        }
    }

    private func http(_ node: YAMLNode, _ what: String) -> ProbeSpec? {
        guard let m = reader.mapping(node, what, allowed: Self.httpKeys) else { return nil }
        var templates: [ProbeField: Template] = [:]
        guard let url = required(m, "url", what, into: &templates, as: .url) else { return nil }
        _ = url
        var probe = HTTPProbe(url: "")
        probe.method = method(m, what) ?? "GET"
        probe.headers = headers(m["headers"], "'headers' of \(what)", into: &templates)
        if let body = reader.template(m["body"], "'body' of \(what)") { templates[.body] = body; probe.body = "" }
        if let statuses = statuses(m["status"], "'status' of \(what)") { probe.status = statuses }
        probe.followRedirects = reader.bool(m["follow_redirects"], "'follow_redirects' of \(what)") ?? false
        probe.redirectsToHTTPS = reader.bool(m["redirects_to_https"], "'redirects_to_https' of \(what)") ?? false
        if probe.redirectsToHTTPS, m["status"] != nil, !probe.status.allSatisfy((300..<400).contains), let at = m.keyLocation("status") {
            reader.error("'status' of \(what) must be redirects (3xx) with 'redirects_to_https', e.g. status: 301 (any of 301, 302, 307, 308 when not given)", at: at)
        }
        if probe.redirectsToHTTPS, probe.followRedirects, let at = m.keyLocation("follow_redirects") {
            reader.error("\(what) sets both 'redirects_to_https' and 'follow_redirects: true'; a redirect can only be checked if it is not followed", at: at)
        }
        probe.requireHeaders = requiredHeaders(m["require_headers"], "'require_headers' of \(what)")
        probe.bodyContains = bodyContains(m["body_contains"], "'body_contains' of \(what)", into: &templates)
        probe.samples = reader.int(m["samples"], "'samples' of \(what)", range: 1...10_000) ?? 1
        probe.concurrency = reader.int(m["concurrency"], "'concurrency' of \(what)", range: 1...256) ?? 1
        probe.latency = latency(m["latency_ms"], "'latency_ms' of \(what)")
        probe.tls = tlsOptions(m["tls"], "'tls' of \(what)", into: &templates)
        probe.timeoutMs = reader.duration(m["timeout"], "'timeout' of \(what)") ?? 10_000
        return ProbeSpec(request: .http(probe), templates: templates, json: jsonChecks(m["json"], what), location: m.location)
    }

    private func rateLimit(_ node: YAMLNode, _ what: String) -> ProbeSpec? {
        guard let m = reader.mapping(node, what, allowed: Self.rateLimitKeys) else { return nil }
        var templates: [ProbeField: Template] = [:]
        let url = required(m, "url", what, into: &templates, as: .url)
        let allowed = reader.int(m["allowed"], "'allowed' of \(what)", range: 0...100_000)
        if m["allowed"] == nil {
            reader.error("\(what) has no 'allowed' (how many requests may get through before the limit answers)", at: m.location)
        }
        guard url != nil, let allowed else { return nil }
        var probe = RateLimitProbe(url: "", allowed: allowed)
        probe.method = method(m, what) ?? "GET"
        probe.headers = headers(m["headers"], "'headers' of \(what)", into: &templates)
        if let body = reader.template(m["body"], "'body' of \(what)") { templates[.body] = body; probe.body = "" }
        probe.requests = reader.int(m["requests"], "'requests' of \(what)", range: 1...100_000) ?? max(10, allowed * 2)
        probe.expectStatus = reader.int(m["status"], "'status' of \(what)", range: 100...599) ?? 429
        if probe.requests <= allowed, let at = m.keyLocation("requests") {
            reader.error("\(what) sends \(probe.requests) requests but allows \(allowed); send more than 'allowed' or the limit is never reached", at: at)
        }
        probe.tls = tlsOptions(m["tls"], "'tls' of \(what)", into: &templates)
        probe.timeoutMs = reader.duration(m["timeout"], "'timeout' of \(what)") ?? 10_000
        return ProbeSpec(request: .rateLimit(probe), templates: templates, json: [], location: m.location)
    }

    private func dns(_ node: YAMLNode, _ what: String) -> ProbeSpec? {
        guard let m = reader.mapping(node, what, allowed: Self.dnsKeys) else { return nil }
        var templates: [ProbeField: Template] = [:]
        var probe = DNSProbe(name: "", type: .TXT)
        let mailChecks = ["spf", "dkim", "dmarc"].filter { m[$0] != nil }
        if mailChecks.count > 1, let at = m.keyLocation(mailChecks[1]) {
            reader.error("\(what) checks both '\(mailChecks[0])' and '\(mailChecks[1])'; they live at different names, make one step each", at: at)
        }
        if let spfNode = m["spf"], let s = reader.mapping(spfNode, "'spf' of \(what)", allowed: ["includes", "all"]) {
            var spf = SPFRequirement(includes: reader.strings(s["includes"], "'includes' of 'spf'").map { $0.lowercased() })
            if let text = reader.string(s["all"], "'all' of 'spf'"), let at = s["all"]?.location {
                if let q = SPFQualifier(text: text) { spf.all = q } else {
                    reader.error("'all' of 'spf' must be one of -all, ~all, ?all, +all (the weakest qualifier accepted), not \"\(text)\"", at: at)
                }
            }
            probe.spf = spf
        }
        var prefix: String? = nil
        var selectorTemplate: Template? = nil
        if let dkimNode = m["dkim"], let d = reader.mapping(dkimNode, "'dkim' of \(what)", allowed: ["selector"]) {
            if let selector = reader.template(d["selector"], "'selector' of 'dkim'") {
                probe.dkim = DKIMRequirement(selector: selector.raw)
                selectorTemplate = selector
                prefix = "._domainkey."
            } else {
                reader.error("'dkim' of \(what) needs a 'selector' (the DNS name is SELECTOR._domainkey.DOMAIN)", at: d.location)
            }
        }
        if let dmarcNode = m["dmarc"], let d = reader.mapping(dmarcNode, "'dmarc' of \(what)", allowed: ["policy"]) {
            let text = reader.string(d["policy"], "'policy' of 'dmarc'") ?? "none"
            if let policy = DMARCPolicy(rawValue: text) { probe.dmarc = DMARCRequirement(policy: policy) } else {
                reader.error("'policy' of 'dmarc' must be none, quarantine or reject (the weakest accepted), not \"\(text)\"", at: d["policy"]?.location ?? d.location)
            }
            prefix = "_dmarc."
        }
        // `domain:` names the mail domain; DKIM and DMARC live at names derived from it.
        if let domain = reader.template(m["domain"], "'domain' of \(what)") {
            if m["name"] != nil, let at = m.keyLocation("name") {
                reader.error("\(what) has both 'name' and 'domain'; give 'domain' for SPF/DKIM/DMARC or 'name' for any other record", at: at)
            }
            // SELECTOR._domainkey.DOMAIN, or _dmarc.DOMAIN: each part may use ${…}.
            templates[.name] = Template(joining: [selectorTemplate, prefix.map { Template(literal: $0, at: domain.location) }, domain].compactMap { $0 })
        } else if let name = reader.template(m["name"], "'name' of \(what)") {
            templates[.name] = name
        } else {
            reader.error("\(what) has neither 'name' (the DNS name to look up) nor 'domain' (the mail domain for spf/dkim/dmarc)", at: m.location)
        }
        if let typeText = reader.string(m["type"], "'type' of \(what)"), let at = m["type"]?.location {
            if let type = DNSRecordType(rawValue: typeText.uppercased()) { probe.type = type } else {
                let names = DNSRecordType.allCases.map(\.rawValue)
                reader.error("'type' of \(what) must be one of \(names.joined(separator: ", ")), not \"\(typeText)\"\(Suggestion.hint(for: typeText.uppercased(), in: names))", at: at)
            }
            if !mailChecks.isEmpty, probe.type != .TXT {
                reader.error("\(mailChecks[0]) records are TXT records; drop 'type' or write TXT", at: at)
            }
        } else if mailChecks.isEmpty, m["contains"] == nil {
            probe.type = .A
        }
        probe.contains = reader.strings(m["contains"], "'contains' of \(what)")
        if let server = reader.template(m["server"], "'server' of \(what)") { templates[.server] = server; probe.server = "" }
        probe.timeoutMs = reader.duration(m["timeout"], "'timeout' of \(what)") ?? 5_000
        return ProbeSpec(request: .dns(probe), templates: templates, json: [], location: m.location)
    }

    private func tcp(_ node: YAMLNode, _ what: String) -> ProbeSpec? {
        guard let m = reader.mapping(node, what, allowed: Self.tcpKeys) else { return nil }
        var templates: [ProbeField: Template] = [:]
        var probe = TCPProbe(host: "", port: 0)
        // `url: http://collector:4318`: host and port from an endpoint the descriptor already names.
        if m["url"] != nil {
            for key in ["host", "port"] where m[key] != nil {
                reader.error("'\(key)' of \(what) comes from its 'url'; give one or the other", at: m[key]!.location)
            }
            guard required(m, "url", what, into: &templates, as: .url) != nil else { return nil }
        } else {
            let host = required(m, "host", what, into: &templates, as: .host)
            let port = port(m, what, default: nil, into: &templates)
            guard host != nil, let port else { return nil }
            probe.port = port
        }
        probe.timeoutMs = reader.duration(m["timeout"], "'timeout' of \(what)") ?? 5_000
        return ProbeSpec(request: .tcp(probe), templates: templates, json: [], location: m.location)
    }

    private func tls(_ node: YAMLNode, _ what: String) -> ProbeSpec? {
        guard let m = reader.mapping(node, what, allowed: Self.tlsKeys) else { return nil }
        var templates: [ProbeField: Template] = [:]
        var probe = TLSProbe(host: "")
        // `url: https://host:port/…` names the endpoint an http probe checks: host, port and name from it.
        if m["url"] != nil {
            for key in ["host", "port", "server_name"] where m[key] != nil {
                reader.error("'\(key)' of \(what) comes from its 'url'; give one or the other", at: m[key]!.location)
            }
            guard required(m, "url", what, into: &templates, as: .url) != nil else { return nil }
        } else {
            guard required(m, "host", what, into: &templates, as: .host) != nil else { return nil }
            probe.port = port(m, what, default: 443, into: &templates) ?? 443
        }
        if let serverName = reader.template(m["server_name"], "'server_name' of \(what)") { templates[.serverName] = serverName; probe.serverName = "" }
        probe.minDays = reader.int(m["min_days"], "'min_days' of \(what)", range: 0...3650)
        probe.tls.verify = reader.bool(m["verify"], "'verify' of \(what)") ?? true
        if let ca = reader.template(m["ca_file"], "'ca_file' of \(what)") { templates[.caFile] = ca; probe.tls.caFile = "" }
        probe.timeoutMs = reader.duration(m["timeout"], "'timeout' of \(what)") ?? 10_000
        return ProbeSpec(request: .tls(probe), templates: templates, json: [], location: m.location)
    }

    // MARK: - Pieces

    private func required(_ m: NodeReader.Mapping, _ key: String, _ what: String, into templates: inout [ProbeField: Template],
                          as field: ProbeField) -> Template? {
        guard let node = m[key], !node.isNull else {
            reader.error("\(what) has no '\(key)'", at: m.location)
            return nil
        }
        guard let template = reader.template(node, "'\(key)' of \(what)") else { return nil }
        templates[field] = template
        return template
    }

    private func method(_ m: NodeReader.Mapping, _ what: String) -> String? {
        guard let text = reader.string(m["method"], "'method' of \(what)"), let at = m["method"]?.location else { return nil }
        let known = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        guard known.contains(text.uppercased()) else {
            reader.error("'method' of \(what) must be one of \(known.joined(separator: ", ")), not \"\(text)\"\(Suggestion.hint(for: text.uppercased(), in: known))", at: at)
            return nil
        }
        return text.uppercased()
    }

    private func headers(_ node: YAMLNode?, _ what: String, into templates: inout [ProbeField: Template]) -> [String: String] {
        guard let node, !node.isNull else { return [:] }
        guard case .mapping(let pairs, _) = node else {
            reader.error("\(what) must map header names to values, not \(node.kindName)", at: node.location)
            return [:]
        }
        var headers: [String: String] = [:]
        for pair in pairs {
            if let value = reader.template(pair.value, "header '\(pair.key)' in \(what)") {
                templates[.header(pair.key)] = value
                headers[pair.key] = ""
            }
        }
        return headers
    }

    /// A string or a list; each may use `${…}` (the greeting an input sets, say).
    private func bodyContains(_ node: YAMLNode?, _ what: String, into templates: inout [ProbeField: Template]) -> [String] {
        guard let node, !node.isNull else { return [] }
        let items: [YAMLNode]
        if case .sequence(let list, _) = node { items = list } else { items = [node] }
        var texts: [String] = []
        for item in items {
            guard let template = reader.template(item, "each item of \(what)") else { continue }
            templates[.bodyContains(texts.count)] = template
            texts.append(template.raw)
        }
        return texts
    }

    private func statuses(_ node: YAMLNode?, _ what: String) -> [Int]? {
        guard let node, !node.isNull else { return nil }
        let items: [YAMLNode]
        if case .sequence(let list, _) = node { items = list } else { items = [node] }
        let codes = items.compactMap { reader.int($0, "each status in \(what)", range: 100...599) }
        return codes.count == items.count && !codes.isEmpty ? codes : nil
    }

    /// A list of names (present), or a mapping name → exact value / {equals, contains}.
    private func requiredHeaders(_ node: YAMLNode?, _ what: String) -> [HeaderRequirement] {
        guard let node, !node.isNull else { return [] }
        switch node {
        case .sequence(let items, _):
            return items.compactMap { reader.string($0, "each header name in \(what)") }.map { HeaderRequirement(name: $0) }
        case .mapping(let pairs, _):
            return pairs.compactMap { pair in
                if case .mapping = pair.value {
                    guard let h = reader.mapping(pair.value, "header '\(pair.key)' in \(what)", allowed: ["equals", "contains", "excludes"]) else { return nil }
                    let excludes = reader.strings(h["excludes"], "'excludes' of header '\(pair.key)'")
                    return HeaderRequirement(name: pair.key, equals: reader.string(h["equals"], "'equals'"), contains: reader.string(h["contains"], "'contains'"),
                                             excludes: excludes.isEmpty ? nil : excludes)
                }
                if case .scalar(let s) = pair.value, s.plain, s.value == "true" || s.isNull { return HeaderRequirement(name: pair.key) }
                return reader.string(pair.value, "header '\(pair.key)' in \(what)").map { HeaderRequirement(name: pair.key, equals: $0) }
            }
        case .scalar:
            reader.error("\(what) must be a list of header names or a mapping of names to values", at: node.location)
            return []
        }
    }

    private func latency(_ node: YAMLNode?, _ what: String) -> LatencyLimits {
        guard let node, !node.isNull, let m = reader.mapping(node, what, allowed: ["p50", "p95", "max"]) else { return LatencyLimits() }
        func limit(_ key: String) -> Double? {
            guard let n = m[key], !n.isNull else { return nil }
            guard case .scalar(let s) = n, s.plain, let value = Double(s.value), value > 0 else {
                reader.error("'\(key)' of \(what) must be a positive number of milliseconds, not \(reader.describe(n))", at: n.location)
                return nil
            }
            return value
        }
        return LatencyLimits(p50: limit("p50"), p95: limit("p95"), max: limit("max"))
    }

    private func tlsOptions(_ node: YAMLNode?, _ what: String, into templates: inout [ProbeField: Template]) -> TLSOptions {
        guard let node, !node.isNull, let m = reader.mapping(node, what, allowed: ["verify", "ca_file"]) else { return TLSOptions() }
        var options = TLSOptions(verify: reader.bool(m["verify"], "'verify' of \(what)") ?? true)
        if let ca = reader.template(m["ca_file"], "'ca_file' of \(what)") { templates[.caFile] = ca; options.caFile = "" }
        return options
    }

    /// A number, or a template (`"${inputs.smtp_port}"`) checked when it is planned.
    private func port(_ m: NodeReader.Mapping, _ what: String, default value: Int?, into templates: inout [ProbeField: Template]) -> Int? {
        if m["port"] == nil, value == nil {
            reader.error("\(what) has no 'port'", at: m.location)
            return nil
        }
        if let node = m["port"], case .scalar(let s) = node, s.value.contains("${") {
            guard let template = reader.template(node, "'port' of \(what)") else { return nil }
            templates[.port] = template
            return 0
        }
        return reader.int(m["port"], "'port' of \(what)", range: 1...65535) ?? value
    }
}
