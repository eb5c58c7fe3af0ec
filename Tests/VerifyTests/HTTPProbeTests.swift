import Foundation
import Probes
import TestSupport
import XCTest

/// HTTP, rate-limit, TCP and TLS probes against a real nginx on 127.0.0.1 (NginxFixture).
final class HTTPProbeTests: XCTestCase {
    nonisolated(unsafe) static var nginx: NginxFixture!

    override class func setUp() {
        super.setUp()
        nginx = try! NginxFixture()
    }

    override class func tearDown() {
        nginx = nil
        super.tearDown()
    }

    var https: String { "https://127.0.0.1:\(Self.nginx.httpsPort)" }

    func probe(_ path: String, _ configure: (inout HTTPProbe) -> Void = { _ in }) -> HTTPProbe {
        var probe = HTTPProbe(url: https + path)
        probe.tls = TLSOptions(verify: true, caFile: Self.nginx.certificate)
        configure(&probe)
        return probe
    }

    func run(_ request: ProbeRequest) async -> ProbeResult {
        await ProbeRunner.run(request).0
    }

    func value(_ result: ProbeResult, _ name: String) -> ProbeMeasurement? {
        result.measurements.first { $0.name == name }
    }

    func testPlainHTTPRedirectsToHTTPSOnTheSameHost() async {
        var probe = HTTPProbe(url: "http://127.0.0.1:\(Self.nginx.httpPort)/login")
        probe.redirectsToHTTPS = true
        let result = await run(.http(probe))
        XCTAssertTrue(result.ok, "\(result.failures)")
        XCTAssertEqual(value(result, "status")?.value, "301")
        XCTAssertEqual(value(result, "redirect location")?.value, "https://127.0.0.1:\(Self.nginx.httpsPort)/login")

        // The seed's exact status: a 301 where 302 was asked for fails.
        var temporary = probe
        temporary.status = [302]
        let wrongKind = await run(.http(temporary))
        XCTAssertEqual(wrongKind.failures, ["status = 301 (expected 302)"])

        // The HTTPS endpoint itself does not redirect: the same check fails there, saying why.
        var direct = self.probe("/")
        direct.redirectsToHTTPS = true
        let failed = await run(.http(direct))
        XCTAssertFalse(failed.ok)
        XCTAssertEqual(value(failed, "status")?.value, "200")
        XCTAssertEqual(value(failed, "redirect location")?.value, "absent")
    }

    func testSecurityHeadersArePresentWithTheirValuesAndAMissingOneIsNamed() async {
        let result = await run(.http(probe("/") {
            $0.requireHeaders = [
                HeaderRequirement(name: "strict-transport-security", contains: "max-age=31536000"),
                HeaderRequirement(name: "X-Frame-Options", equals: "DENY"),
                HeaderRequirement(name: "X-Content-Type-Options", equals: "nosniff"),
                HeaderRequirement(name: "Content-Security-Policy"),
                HeaderRequirement(name: "Permissions-Policy"),
            ]
        }))
        XCTAssertFalse(result.ok)
        XCTAssertEqual(result.failures, ["header Permissions-Policy = absent (expected present)"])
        XCTAssertEqual(value(result, "header X-Frame-Options")?.value, "DENY")
        XCTAssertEqual(value(result, "header strict-transport-security")?.ok, true)

        // nginx's CSP is "default-src 'self'": without 'unsafe-inline' it passes; a policy that
        // must not allow 'self' fails, naming what it holds.
        let strict = await run(.http(probe("/") {
            $0.requireHeaders = [HeaderRequirement(name: "Content-Security-Policy", excludes: ["'unsafe-inline'", "'unsafe-eval'"])]
        }))
        XCTAssertTrue(strict.ok, "\(strict.failures)")
        let unsafe = await run(.http(probe("/") { $0.requireHeaders = [HeaderRequirement(name: "Content-Security-Policy", excludes: ["'SELF'"])] }))
        XCTAssertEqual(unsafe.failures, ["header Content-Security-Policy = default-src 'self' (expected without 'SELF')"])
    }

    func testHeadersStayOnForbiddenAnswers() async {
        let result = await run(.http(probe("/metrics") {
            $0.status = [403]
            $0.requireHeaders = [HeaderRequirement(name: "X-Frame-Options", equals: "DENY")]
        }))
        XCTAssertTrue(result.ok, "\(result.failures)")
        let open = await run(.http(probe("/metrics")))
        XCTAssertEqual(open.failures, ["status = 403 (expected 200)"])
    }

    func testSamplesGiveLatencyPercentilesAndAnImpossibleThresholdFails() async {
        let result = await run(.http(probe("/health") {
            $0.samples = 20
            $0.concurrency = 4
            $0.bodyContains = ["\"status\":\"ok\""]
            $0.latency = LatencyLimits(p50: 5_000, p95: 0.001)
        }))
        XCTAssertEqual(value(result, "status")?.value, "200 ×20")
        XCTAssertEqual(value(result, "samples")?.value, "20 at concurrency 4")
        XCTAssertEqual(value(result, "latency p50")?.ok, true)
        let p95 = value(result, "latency p95")
        XCTAssertEqual(p95?.ok, false)
        XCTAssertEqual(p95?.expected, "≤ 0.0")
        XCTAssertNotNil(Double(p95?.value ?? ""))
        XCTAssertNotNil(value(result, "latency max"))
        XCTAssertEqual(result.failures.count, 1)
    }

    func testAnUntrustedCertificateIsReportedAsATLSFailureNotAStatus() async {
        var probe = HTTPProbe(url: https + "/health")
        probe.tls = TLSOptions(verify: true, caFile: nil)
        let result = await run(.http(probe))
        XCTAssertNotNil(result.unavailable)
        XCTAssertTrue(result.unavailable?.contains("TLS") == true, result.unavailable ?? "")
        probe.tls = TLSOptions(verify: false)
        let insecure = await run(.http(probe))
        XCTAssertTrue(insecure.ok, "\(insecure.failures)")
    }

    func testRateLimitAnswers429AfterFiveQuickRequests() async {
        var limit = RateLimitProbe(url: https + "/login", allowed: 5)
        limit.tls = TLSOptions(verify: true, caFile: Self.nginx.certificate)
        limit.requests = 10
        let result = await run(.rateLimit(limit))
        XCTAssertTrue(result.ok, "\(result.failures)")
        XCTAssertEqual(value(result, "requests before 429")?.value, "5")
        XCTAssertEqual(value(result, "statuses")?.value, "200 200 200 200 200 429")
        // Right away again (1 request a minute refills it): 429 first, which proves no limit works.
        let again = await run(.rateLimit(limit))
        XCTAssertFalse(again.ok)
        XCTAssertEqual(value(again, "statuses")?.value, "429")
        XCTAssertTrue(again.failures.first?.hasPrefix("requests before 429 = 0 (the first request got 429") == true, "\(again.failures)")

        // A stricter expectation on the same endpoint fails with what was measured.
        var strict = RateLimitProbe(url: https + "/", allowed: 3)
        strict.tls = limit.tls
        strict.requests = 6
        let unlimited = await run(.rateLimit(strict))
        XCTAssertEqual(unlimited.failures, ["requests before 429 = no 429 in 6 (expected 1…3)"])
    }

    func testTCPConnectsOrSaysRefused() async {
        let open = await run(.tcp(TCPProbe(host: "127.0.0.1", port: Self.nginx.httpsPort)))
        XCTAssertTrue(open.ok, "\(open.failures)")
        let closed = await run(.tcp(TCPProbe(host: "127.0.0.1", port: ServerProcess.freePort())))
        XCTAssertFalse(closed.ok)
        XCTAssertTrue(closed.failures[0].lowercased().contains("refused"), closed.failures[0])
    }

    func testTLSExpiryHostnameAndChain() async {
        var tls = TLSProbe(host: "127.0.0.1")
        tls.port = Self.nginx.httpsPort
        tls.serverName = "localhost"
        tls.minDays = 1
        tls.tls = TLSOptions(verify: true, caFile: Self.nginx.certificate)
        let good = await run(.tls(tls))
        XCTAssertTrue(good.ok, "\(good.failures)")
        XCTAssertEqual(value(good, "days to expiry")?.value, "1")
        XCTAssertEqual(value(good, "chain")?.value, "trusted")

        var soon = tls
        soon.minDays = 30
        soon.serverName = "mail.example.org"
        soon.tls.caFile = nil
        let bad = await run(.tls(soon))
        XCTAssertEqual(value(bad, "days to expiry")?.ok, false)
        XCTAssertEqual(value(bad, "hostname mail.example.org")?.value, "not in localhost, 127.0.0.1")
        XCTAssertEqual(value(bad, "chain")?.ok, false)

        var byIP = tls
        byIP.serverName = nil
        let ip = await run(.tls(byIP))
        XCTAssertEqual(value(ip, "hostname 127.0.0.1")?.value, "matches")

        var nobody = tls
        nobody.port = ServerProcess.freePort()
        let down = await run(.tls(nobody))
        XCTAssertNotNil(down.unavailable)
    }
}
