import Foundation

/// SPF, DKIM and DMARC TXT records read the way receiving mail servers read them, reduced to
/// what a deploy must check. Pure: tested without a DNS server.

/// The SPF `all` qualifiers, weakest first: a requirement means "at least this strict".
public enum SPFQualifier: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    case pass = "+all", neutral = "?all", softfail = "~all", fail = "-all"

    var strictness: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Self, b: Self) -> Bool { a.strictness < b.strictness }

    /// `-all`, `fail`, `~all`, `softfail`, …
    public init?(text: String) {
        let t = text.lowercased()
        if let q = Self(rawValue: t) { self = q; return }
        switch t {
        case "all": self = .pass
        case "pass": self = .pass
        case "neutral": self = .neutral
        case "softfail": self = .softfail
        case "fail": self = .fail
        default: return nil
        }
    }
}

public struct SPFRequirement: Codable, Sendable, Hashable {
    public var includes: [String] = []
    /// The `all` mechanism must be at least this strict.
    public var all: SPFQualifier?

    public init(includes: [String] = [], all: SPFQualifier? = nil) {
        self.includes = includes
        self.all = all
    }
}

public struct DKIMRequirement: Codable, Sendable, Hashable {
    public var selector: String
    public init(selector: String) { self.selector = selector }
}

public enum DMARCPolicy: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    case none, quarantine, reject
    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

public struct DMARCRequirement: Codable, Sendable, Hashable {
    /// `p=` must be at least this strict.
    public var policy: DMARCPolicy
    public init(policy: DMARCPolicy) { self.policy = policy }
}

public struct SPFRecord: Equatable, Sendable {
    public var includes: [String]
    public var all: SPFQualifier?

    /// The one record starting `v=spf1` (RFC 7208: more than one is a permanent error).
    public static func find(in records: [String]) -> Result<SPFRecord, MailRecordError> {
        let candidates = records.filter { $0.lowercased().hasPrefix("v=spf1 ") || $0.lowercased() == "v=spf1" }
        guard !candidates.isEmpty else { return .failure(.missing("no TXT record starts with v=spf1")) }
        guard candidates.count == 1 else { return .failure(.invalid("\(candidates.count) SPF records (v=spf1); receivers treat that as a permanent error")) }
        var record = SPFRecord(includes: [], all: nil)
        for term in candidates[0].split(separator: " ").dropFirst() {
            let t = term.lowercased()
            if t.hasPrefix("include:") || t.hasPrefix("+include:") {
                record.includes.append(String(t.split(separator: ":", maxSplits: 1)[1]))
            } else if let q = SPFQualifier(rawValue: t) ?? (t == "all" ? .pass : nil) {
                record.all = q
            }
        }
        return .success(record)
    }

    public func measurements(against requirement: SPFRequirement) -> [ProbeMeasurement] {
        var result = requirement.includes.map { include in
            ProbeMeasurement("spf include:\(include)", includes.contains(include.lowercased()) ? "present" : "absent",
                        expected: "present", ok: includes.contains(include.lowercased()))
        }
        if let wanted = requirement.all {
            let ok = all.map { $0 >= wanted } ?? false
            result.append(ProbeMeasurement("spf all", all?.rawValue ?? "absent", expected: "\(wanted.rawValue) or stricter", ok: ok))
        } else {
            result.append(ProbeMeasurement("spf all", all?.rawValue ?? "absent"))
        }
        return result
    }
}

public struct DKIMRecord: Equatable, Sendable {
    public var version: String?
    public var keyType: String
    public var publicKey: String

    /// Tags `k=v; k=v`; whitespace inside values (long keys split across strings) is dropped.
    public static func find(in records: [String]) -> Result<DKIMRecord, MailRecordError> {
        for record in records {
            let tags = MailTags.parse(record)
            guard tags["v"] == "DKIM1" || (tags["v"] == nil && tags["p"] != nil) else { continue }
            return .success(DKIMRecord(version: tags["v"], keyType: tags["k"] ?? "rsa", publicKey: tags["p"] ?? ""))
        }
        return .failure(.missing("no TXT record with v=DKIM1"))
    }

    public var measurements: [ProbeMeasurement] {
        [ProbeMeasurement("dkim version", version ?? "absent", expected: "DKIM1", ok: version == "DKIM1"),
         ProbeMeasurement("dkim key", publicKey.isEmpty ? "absent (p= empty: key revoked)" : "\(keyType), \(publicKey.count) base64 chars",
                     expected: "present", ok: !publicKey.isEmpty)]
    }
}

public struct DMARCRecord: Equatable, Sendable {
    public var policy: DMARCPolicy?
    public var rawPolicy: String?
    public var reportTo: String?

    public static func find(in records: [String]) -> Result<DMARCRecord, MailRecordError> {
        let candidates = records.filter { MailTags.parse($0)["v"] == "DMARC1" }
        guard !candidates.isEmpty else { return .failure(.missing("no TXT record with v=DMARC1")) }
        guard candidates.count == 1 else { return .failure(.invalid("\(candidates.count) DMARC records; receivers ignore them all")) }
        let tags = MailTags.parse(candidates[0])
        return .success(DMARCRecord(policy: tags["p"].flatMap { DMARCPolicy(rawValue: $0.lowercased()) }, rawPolicy: tags["p"], reportTo: tags["rua"]))
    }

    public func measurements(against requirement: DMARCRequirement) -> [ProbeMeasurement] {
        let ok = policy.map { $0 >= requirement.policy } ?? false
        return [ProbeMeasurement("dmarc policy", rawPolicy ?? "absent", expected: "\(requirement.policy.rawValue) or stricter", ok: ok),
                ProbeMeasurement("dmarc rua", reportTo ?? "absent")]
    }
}

public enum MailRecordError: Error, Equatable, Sendable {
    case missing(String)
    case invalid(String)

    public var message: String {
        switch self {
        case .missing(let m), .invalid(let m): return m
        }
    }
}

/// `v=DKIM1; k=rsa; p=MIIB…` → tags, values trimmed, inner whitespace removed.
enum MailTags {
    static func parse(_ record: String) -> [String: String] {
        var tags: [String: String] = [:]
        for part in record.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].filter { !$0.isWhitespace }
            if tags[key] == nil { tags[key] = String(value) }
        }
        return tags
    }
}
