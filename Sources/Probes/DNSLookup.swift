import Foundation
import ResolverSupport

/// A DNS question through glibc's resolver (see ResolverSupport): what a mail server or a
/// browser on this host would be told, or what one given server says.
public enum DNSLookup {
    public enum Answer: Equatable, Sendable {
        case records([String])
        case nxdomain
        case nodata
        /// The resolver could not answer (timeout, SERVFAIL, REFUSED, bad server address).
        case unavailable(String)
    }

    public static func lookup(_ name: String, type: DNSRecordType, server: String?, timeoutMs: Int) async -> Answer {
        var host: String? = nil, port = 53
        if let server {
            guard let (h, p) = splitServer(server) else { return .unavailable("server '\(server)' is not IPV4:PORT") }
            (host, port) = (h, p)
        }
        let seconds = Int32(max(1, (timeoutMs + 999) / 1000))
        let (askHost, askPort) = (host, port)
        return await withCheckedContinuation { continuation in
            // res_nquery blocks; keep it off the cooperative pool.
            Thread.detachNewThread {
                var buffer = [CChar](repeating: 0, count: 65536)
                var count: Int32 = 0
                let status = rs_lookup(name, type.code, askHost, Int32(askPort), seconds, &buffer, Int32(buffer.count), &count)
                continuation.resume(returning: answer(status: status, buffer: buffer, count: Int(count), server: server))
            }
        }
    }

    private static func answer(status: Int32, buffer: [CChar], count: Int, server: String?) -> Answer {
        let asked = server ?? "the system resolver"
        switch status {
        case Int32(RS_OK.rawValue):
            var records: [String] = [], start = 0
            for _ in 0..<count {
                let end = buffer[start...].firstIndex(of: 0) ?? buffer.count
                records.append(String(decoding: buffer[start..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self))
                start = end + 1
            }
            return .records(records)
        case Int32(RS_NXDOMAIN.rawValue): return .nxdomain
        case Int32(RS_NODATA.rawValue): return .nodata
        case Int32(RS_BAD_INPUT.rawValue): return .unavailable("\(asked) gave an answer deployctl cannot read (or the name is too long)")
        default: return .unavailable("\(asked) did not answer (timeout, SERVFAIL or REFUSED)")
        }
    }

    /// `127.0.0.1:5353` or `127.0.0.1` (port 53).
    static func splitServer(_ text: String) -> (String, Int)? {
        let parts = text.split(separator: ":")
        guard parts.count <= 2, let host = parts.first, !host.isEmpty else { return nil }
        guard parts.count == 2 else { return (String(host), 53) }
        guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }
}

extension DNSProbe {
    func run() async -> ProbeResult {
        let answer = await DNSLookup.lookup(name, type: type, server: server, timeoutMs: timeoutMs)
        let records: [String]
        switch answer {
        case .unavailable(let why): return ProbeResult(unavailable: why)
        case .nxdomain: records = []
            if spf == nil, dkim == nil, dmarc == nil, contains.isEmpty {
                return ProbeResult(measurements: [ProbeMeasurement("\(type.rawValue) \(name)", "NXDOMAIN", expected: "a record", ok: false)])
            }
        case .nodata: records = []
        case .records(let found): records = found
        }
        var measurements = [ProbeMeasurement("\(type.rawValue) records", records.isEmpty ? "none" : "\(records.count)",
                                        expected: contains.isEmpty && spf == nil && dkim == nil && dmarc == nil ? "at least 1" : nil,
                                        ok: !records.isEmpty || !(contains.isEmpty && spf == nil && dkim == nil && dmarc == nil))]
        for wanted in contains {
            let found = records.contains { Self.same($0, wanted, type: type) }
            measurements.append(ProbeMeasurement("record \(wanted)", found ? "present" : "absent", expected: "present", ok: found))
        }
        if let spf {
            switch SPFRecord.find(in: records) {
            case .success(let record): measurements += record.measurements(against: spf)
            case .failure(let e): measurements.append(ProbeMeasurement("spf record", e.message, expected: "one v=spf1 record", ok: false))
            }
        }
        if dkim != nil {
            switch DKIMRecord.find(in: records) {
            case .success(let record): measurements += record.measurements
            case .failure(let e): measurements.append(ProbeMeasurement("dkim record", e.message, expected: "v=DKIM1 with a key", ok: false))
            }
        }
        if let dmarc {
            switch DMARCRecord.find(in: records) {
            case .success(let record): measurements += record.measurements(against: dmarc)
            case .failure(let e): measurements.append(ProbeMeasurement("dmarc record", e.message, expected: "one v=DMARC1 record", ok: false))
            }
        }
        return ProbeResult(measurements: measurements)
    }

    /// Names compare without case and final dot; TXT exactly.
    static func same(_ record: String, _ wanted: String, type: DNSRecordType) -> Bool {
        if type == .TXT { return record == wanted }
        func norm(_ s: String) -> String { s.lowercased().hasSuffix(".") ? String(s.lowercased().dropLast()) : s.lowercased() }
        return norm(record) == norm(wanted)
    }
}
