import CurlSupport
import Foundation

/// Where one request's time went, in milliseconds (libcurl's phases; 0 for a phase a reused
/// connection skipped). The whole is `HTTPAnswer.latencyMs`.
public struct HTTPTiming: Sendable, Hashable {
    public var dns: Double
    public var connect: Double
    public var tls: Double
    public var firstByte: Double
}

/// Why a request got no answer.
struct HTTPFailure: Error, CustomStringConvertible {
    enum Kind { case timeout, tls, connect, tooLarge, other }
    var kind: Kind
    var detail: String
    /// The proxy the environment names for this URL, when one does: a proxy that is down must
    /// not read as the service being down.
    var proxy: String?

    var description: String {
        let via = proxy.map { " (through the proxy \($0))" } ?? ""
        switch kind {
        case .timeout: return "timed out" + via
        case .tls: return "TLS: \(detail)" + via
        case .connect: return detail + via
        case .tooLarge, .other: return detail
        }
    }
}

/// The proxy libcurl takes from the environment for a URL (https_proxy/HTTPS_PROXY for https,
/// http_proxy for http — never HTTP_PROXY —, then ALL_PROXY/all_proxy), unless NO_PROXY/no_proxy
/// names the host (`*`, the host, or a domain it ends in). Only for messages: libcurl decides.
enum ProxyEnvironment {
    static func proxy(for url: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), let host = parts.host?.lowercased() else { return nil }
        let names = scheme == "https" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy"]
        guard let proxy = (names + ["all_proxy", "ALL_PROXY"]).lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else { return nil }
        let bypass = (environment["no_proxy"] ?? environment["NO_PROXY"] ?? "").lowercased()
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if bypass.contains(where: { $0 == "*" || host == $0 || host.hasSuffix("." + $0.drop { $0 == "." }) }) { return nil }
        // user:password@ in a proxy URL stays out of messages.
        guard var shown = URLComponents(string: proxy.contains("://") ? proxy : "http://" + proxy) else { return "(unreadable)" }
        shown.user = nil
        shown.password = nil
        return shown.string
    }
}

/// One request as libcurl gets it: every value resolved.
struct CurlRequest: Sendable {
    var url: String
    var method = "GET"
    var headers: [String: String] = [:]
    var body: Data?
    var followRedirects = false
    var timeoutMs: Int
    var tls = TLSOptions()
    var verifyHost = true
    /// "name:port:host:port": ask for `name` (SNI, Host) at another address.
    var connectTo: String?
    var connectOnly = false
    var bodyLimit = 8 << 20

    /// A header with a line break would smuggle another header (or a request) onto the wire.
    func validated() throws -> CurlRequest {
        for (name, value) in headers where (name + value).contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw HTTPFailure(kind: .other, detail: "header \(name) contains a line break")
        }
        return self
    }

    /// `body` with a cs_request whose strings live for the call (libcurl copies what it keeps).
    func withC<T>(_ body: (UnsafePointer<cs_request>) -> T) -> T {
        var owned: [UnsafeMutablePointer<CChar>] = []
        defer { owned.forEach { free($0) } }
        func c(_ text: String) -> UnsafeMutablePointer<CChar> {
            let pointer = strdup(text)!
            owned.append(pointer)
            return pointer
        }
        let lines: [UnsafePointer<CChar>?] = headers.sorted { $0.key < $1.key }.map { UnsafePointer(c("\($0.key): \($0.value)")) }
        let payload = self.body.map { data -> UnsafeMutablePointer<CChar> in
            let pointer = malloc(max(data.count, 1))!.assumingMemoryBound(to: CChar.self)
            data.withUnsafeBytes { bytes in if let base = bytes.baseAddress { memcpy(pointer, base, bytes.count) } }
            owned.append(pointer)
            return pointer
        }
        return lines.withUnsafeBufferPointer { headerLines in
            var request = cs_request(
                url: UnsafePointer<CChar>(c(url)), method: UnsafePointer<CChar>(c(method.uppercased())), headers: headerLines.baseAddress, header_count: Int32(lines.count),
                body: payload.map { UnsafePointer<CChar>($0) }, body_size: self.body?.count ?? 0,
                follow_redirects: followRedirects ? 1 : 0, timeout_ms: timeoutMs,
                verify_peer: tls.verify ? 1 : 0, verify_host: tls.verify && verifyHost ? 1 : 0,
                ca_file: tls.caFile.map { UnsafePointer<CChar>(c($0)) }, connect_to: connectTo.map { UnsafePointer<CChar>(c($0)) },
                connect_only: connectOnly ? 1 : 0, body_limit: bodyLimit)
            return withUnsafePointer(to: &request) { body($0) }
        }
    }
}

/// libcurl, loaded on first use. Its calls block, so they run on a thread of their own, never on
/// the cooperative pool (two threads on two cores: a slow server would stall every task).
enum Curl {
    /// One session: requests one after another over a kept-alive connection.
    final class Session: @unchecked Sendable {
        let handle: OpaquePointer
        let url: String

        init(_ request: CurlRequest) throws {
            var error = [CChar](repeating: 0, count: 512)
            let validated = try request.validated()
            url = request.url
            guard let handle = validated.withC({ cs_session_new($0, &error, Int32(error.count)) }) else {
                throw HTTPFailure(kind: .other, detail: Curl.text(error))
            }
            self.handle = handle
        }

        deinit { cs_session_free(handle) }

        /// Blocking: call from `Curl.offPool`.
        func perform() throws -> HTTPAnswer {
            var answer = cs_answer()
            cs_session_perform(handle, &answer)
            defer { cs_answer_free(&answer) }
            return try Curl.answer(answer, url: url)
        }

        /// The leaf certificate, after a `connectOnly` perform.
        func certificate() throws -> cs_certificate {
            var certificate = cs_certificate()
            var error = [CChar](repeating: 0, count: 512)
            guard cs_session_certificate(handle, &certificate, &error, Int32(error.count)) == 0 else {
                throw HTTPFailure(kind: .other, detail: Curl.text(error))
            }
            return certificate
        }
    }

    /// `samples` copies of one request, at most `concurrency` at once; only the first answer
    /// keeps its headers and body. Cancelling the task stops starting new ones.
    static func many(_ request: CurlRequest, samples: Int, concurrency: Int) async throws -> [Result<HTTPAnswer, HTTPFailure>] {
        let validated = try request.validated()
        let flag = CancelFlag()
        return try await withTaskCancellationHandler {
            try await offPool {
                var answers = [cs_answer](repeating: cs_answer(), count: samples)
                var error = [CChar](repeating: 0, count: 512)
                let done = validated.withC { cs_perform_many($0, Int32(samples), Int32(concurrency), &answers, flag.pointer, &error, Int32(error.count)) }
                defer { for i in 0..<max(Int(done), 0) { cs_answer_free(&answers[i]) } }
                guard done >= 0 else { throw HTTPFailure(kind: .other, detail: Curl.text(error)) }
                return answers.prefix(Int(done)).map { raw in Result<HTTPAnswer, HTTPFailure>(catching: { () throws(HTTPFailure) in try answer(raw, url: validated.url) }) }
            }
        } onCancel: {
            flag.set()
        }
    }

    /// A NUL-terminated C buffer as text.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Runs blocking work on a new thread and waits for it without holding a pool thread.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    static func answer(_ raw: cs_answer, url: String) throws(HTTPFailure) -> HTTPAnswer {
        var raw = raw
        let detail = withUnsafeBytes(of: &raw.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        switch Int(raw.failure) {
        case Int(CS_OK.rawValue): break
        case Int(CS_TIMEOUT.rawValue): throw HTTPFailure(kind: .timeout, detail: detail, proxy: ProxyEnvironment.proxy(for: url))
        case Int(CS_TLS.rawValue): throw HTTPFailure(kind: .tls, detail: detail, proxy: ProxyEnvironment.proxy(for: url))
        case Int(CS_CONNECT.rawValue): throw HTTPFailure(kind: .connect, detail: detail, proxy: ProxyEnvironment.proxy(for: url))
        case Int(CS_TOO_LARGE.rawValue): throw HTTPFailure(kind: .tooLarge, detail: detail)
        default: throw HTTPFailure(kind: .other, detail: detail)
        }
        let headerText = raw.headers.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: raw.headers_size), as: UTF8.self) } ?? ""
        let body = raw.body.map { Data(bytes: $0, count: raw.body_size) } ?? Data()
        return HTTPAnswer(status: raw.status, headers: parseHeaders(headerText), body: body, latencyMs: raw.total_ms,
                          timing: HTTPTiming(dns: raw.dns_ms, connect: raw.connect_ms, tls: raw.tls_ms,
                                             firstByte: raw.first_byte_ms))
    }

    /// "Name: value" lines after the status line (obsolete folded lines are joined).
    static func parseHeaders(_ block: String) -> [(String, String)] {
        var headers: [(String, String)] = []
        for line in block.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }).dropFirst() {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return headers
    }
}

/// A flag C reads atomically while Swift's cancellation handler sets it.
final class CancelFlag: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: 0)
    }
    deinit { pointer.deallocate() }
    func set() { cs_cancel(pointer) }
    var isSet: Bool { cs_cancelled(pointer) != 0 }
}
