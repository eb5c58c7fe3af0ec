/// A probe with every value resolved (no templates, secrets filled in or masked). Encoded in
/// plans and journals as `{"kind": "http", "http": {…}}`.
public struct ProbeRequest: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case http, rateLimit = "rate_limit", dns, tcp, tls }

    public var kind: Kind
    public var http: HTTPProbe?
    public var rateLimit: RateLimitProbe?
    public var dns: DNSProbe?
    public var tcp: TCPProbe?
    public var tls: TLSProbe?

    public static func http(_ p: HTTPProbe) -> ProbeRequest { ProbeRequest(kind: .http, http: p) }
    public static func rateLimit(_ p: RateLimitProbe) -> ProbeRequest { ProbeRequest(kind: .rateLimit, rateLimit: p) }
    public static func dns(_ p: DNSProbe) -> ProbeRequest { ProbeRequest(kind: .dns, dns: p) }
    public static func tcp(_ p: TCPProbe) -> ProbeRequest { ProbeRequest(kind: .tcp, tcp: p) }
    public static func tls(_ p: TLSProbe) -> ProbeRequest { ProbeRequest(kind: .tls, tls: p) }

    /// The probe in a few words, where a command step shows its argv.
    public var words: [String] {
        switch kind {
        case .http: return ["http", http?.method ?? "GET", http?.url ?? ""]
        case .rateLimit: return ["rate_limit", rateLimit?.method ?? "GET", rateLimit?.url ?? "", "n=\(rateLimit?.requests ?? 0)"]
        case .dns: return ["dns", dns?.type.rawValue ?? "", dns?.name ?? ""] + (dns?.server.map { ["@\($0)"] } ?? [])
        case .tcp: return ["tcp", "\(tcp?.host ?? ""):\(tcp?.port ?? 0)"]
        case .tls: return ["tls", "\(tls?.host ?? ""):\(tls?.port ?? 0)"]
        }
    }
}

/// TLS settings shared by HTTP probes.
public struct TLSOptions: Codable, Sendable, Hashable {
    /// Check the chain against the system's roots (plus `caFile`).
    public var verify: Bool = true
    /// A PEM file of extra trusted certificates (a private CA, a self-signed test server).
    public var caFile: String?

    public init(verify: Bool = true, caFile: String? = nil) {
        self.verify = verify
        self.caFile = caFile
    }
}

public struct HeaderRequirement: Codable, Sendable, Hashable {
    public var name: String
    public var equals: String?
    public var contains: String?
    /// Texts the value must not hold (a CSP without 'unsafe-inline').
    public var excludes: [String]?

    public init(name: String, equals: String? = nil, contains: String? = nil, excludes: [String]? = nil) {
        self.name = name
        self.equals = equals
        self.contains = contains
        self.excludes = excludes
    }
}

/// Latency thresholds in milliseconds over all samples.
public struct LatencyLimits: Codable, Sendable, Hashable {
    public var p50: Double?
    public var p95: Double?
    public var max: Double?

    public init(p50: Double? = nil, p95: Double? = nil, max: Double? = nil) {
        self.p50 = p50
        self.p95 = p95
        self.max = max
    }
}

public struct HTTPProbe: Codable, Sendable, Hashable {
    public var method: String = "GET"
    public var url: String
    public var headers: [String: String] = [:]
    public var body: String?
    /// Any of these statuses passes.
    public var status: [Int] = [200]
    public var followRedirects: Bool = false
    /// The answer must be a redirect whose Location is https:// on the same host.
    public var redirectsToHTTPS: Bool = false
    public var requireHeaders: [HeaderRequirement] = []
    public var bodyContains: [String] = []
    public var samples: Int = 1
    public var concurrency: Int = 1
    public var latency: LatencyLimits = LatencyLimits()
    public var tls: TLSOptions = TLSOptions()
    /// Per request.
    public var timeoutMs: Int = 10_000

    public init(url: String) { self.url = url }
}

/// Sends `requests` quick requests and expects `expectStatus` after at most `allowed` got through.
public struct RateLimitProbe: Codable, Sendable, Hashable {
    public var method: String = "GET"
    public var url: String
    public var headers: [String: String] = [:]
    /// Sent with every request (a login attempt's JSON, as the seed's curl loop sends it).
    public var body: String?
    public var requests: Int = 10
    public var allowed: Int
    public var expectStatus: Int = 429
    public var tls: TLSOptions = TLSOptions()
    public var timeoutMs: Int = 10_000

    public init(url: String, allowed: Int) {
        self.url = url
        self.allowed = allowed
    }
}

public enum DNSRecordType: String, Codable, Sendable, Hashable, CaseIterable {
    case A, AAAA, CNAME, MX, NS, TXT

    var code: Int32 {
        switch self {
        case .A: return 1
        case .NS: return 2
        case .CNAME: return 5
        case .MX: return 15
        case .TXT: return 16
        case .AAAA: return 28
        }
    }
}

public struct DNSProbe: Codable, Sendable, Hashable {
    public var name: String
    public var type: DNSRecordType
    /// `host:port` (IPv4) to ask instead of the system resolver.
    public var server: String?
    /// Every one of these must be a record (exact, case-insensitive for names).
    public var contains: [String] = []
    public var spf: SPFRequirement?
    public var dkim: DKIMRequirement?
    public var dmarc: DMARCRequirement?
    public var timeoutMs: Int = 5_000

    public init(name: String, type: DNSRecordType) {
        self.name = name
        self.type = type
    }
}

public struct TCPProbe: Codable, Sendable, Hashable {
    public var host: String
    public var port: Int
    public var timeoutMs: Int = 5_000

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

public struct TLSProbe: Codable, Sendable, Hashable {
    public var host: String
    public var port: Int = 443
    /// The name the certificate must be valid for (and SNI); defaults to `host`.
    public var serverName: String?
    public var minDays: Int?
    public var tls: TLSOptions = TLSOptions()
    public var timeoutMs: Int = 10_000

    public init(host: String) { self.host = host }
}
