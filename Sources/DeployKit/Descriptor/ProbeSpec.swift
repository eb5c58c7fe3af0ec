import Foundation
import Probes

/// A built-in check (`http`, `rate_limit`, `dns`, `tcp`, `tls`) in place of a command. The
/// settings that are not text are decoded into `request` already; the text ones (URL, host,
/// headers, …) are templates filled in when the step is planned.
public struct ProbeSpec: Sendable, Hashable {
    public var request: ProbeRequest
    public var templates: [ProbeField: Template]
    /// `json:` checks on an HTTP answer's body.
    public var json: [JSONCheck]
    public var location: FileLocation

    /// The request with every template rendered; a port that does not render as a port is
    /// reported through the interpolator, like an unset variable.
    public func resolve(_ interpolator: inout Interpolator) -> ProbeRequest {
        var request = self.request
        for (field, template) in templates.sorted(by: { $0.key.sortKey < $1.key.sortKey }) {
            let value = interpolator.render(template)
            if field == .port, Int(value).map({ (1...65535).contains($0) }) != true {
                interpolator.report("'port' is \"\(value)\" (from \(template.raw)), not a port number 1-65535", at: template.location)
            }
            field.set(value, in: &request)
        }
        return request
    }
}

/// A text setting of a probe that may hold `${…}`.
public enum ProbeField: Hashable, Sendable {
    case url, body, host, name, server, caFile, serverName, port
    case header(String)
    /// The n-th `body_contains` text of an HTTP probe.
    case bodyContains(Int)

    /// Spelled out, not `"\(self)"` or `String(format:)`: both reach the runtime's reflection and
    /// its conformance scans, a few hundred microseconds of every `plan` with probes.
    var sortKey: String {
        switch self {
        case .url: return "url"
        case .body: return "body"
        case .host: return "host"
        case .name: return "name"
        case .server: return "server"
        case .caFile: return "caFile"
        case .serverName: return "serverName"
        case .port: return "port"
        case .header(let name): return "header." + name
        case .bodyContains(let index): return "body_contains." + index.leftPadded(to: 4, with: "0")
        }
    }

    func set(_ value: String, in request: inout ProbeRequest) {
        switch self {
        case .url:
            request.http?.url = value
            request.rateLimit?.url = value
            if request.tls != nil || request.tcp != nil {
                // A URL's host and port (the scheme's unless it says); a value that is no URL stays the host, and fails naming it.
                let parts = URLComponents(string: value)
                let port = parts?.port ?? (parts?.scheme?.lowercased() == "http" ? 80 : 443)
                request.tls?.host = parts?.host ?? value
                request.tls?.port = port
                request.tcp?.host = parts?.host ?? value
                request.tcp?.port = port
            }
        case .body:
            request.http?.body = value
            request.rateLimit?.body = value
        case .host:
            request.tcp?.host = value
            request.tls?.host = value
        case .name: request.dns?.name = value
        case .server: request.dns?.server = value
        case .caFile:
            request.http?.tls.caFile = value
            request.rateLimit?.tls.caFile = value
            request.tls?.tls.caFile = value
        case .serverName: request.tls?.serverName = value
        case .port:
            let port = Int(value) ?? 0
            request.tcp?.port = port
            request.tls?.port = port
        case .bodyContains(let index):
            if let count = request.http?.bodyContains.count, index < count { request.http?.bodyContains[index] = value }
        case .header(let name):
            request.http?.headers[name] = value
            request.rateLimit?.headers[name] = value
        }
    }
}

extension ProbeRequest {
    /// A relative CA file, like a step's directory, is inside the exported tree of the commit.
    func anchored(in tree: String) -> ProbeRequest {
        var probe = self
        func fix(_ path: String?) -> String? { path.map { $0.hasPrefix("/") ? $0 : tree + "/" + $0 } }
        let (http, limit, tls) = (probe.http?.tls.caFile, probe.rateLimit?.tls.caFile, probe.tls?.tls.caFile)
        probe.http?.tls.caFile = fix(http)
        probe.rateLimit?.tls.caFile = fix(limit)
        probe.tls?.tls.caFile = fix(tls)
        return probe
    }

    var usesRelativeFiles: Bool {
        [http?.tls.caFile, rateLimit?.tls.caFile, tls?.tls.caFile].contains { $0.map { !$0.hasPrefix("/") } ?? false }
    }
}
