import Foundation
import Probes
import TestSupport
import XCTest

/// DNS probes through libresolv against a real dnsmasq on 127.0.0.1 (DNSFixture).
final class DNSProbeTests: XCTestCase {
    nonisolated(unsafe) static var dns: DNSFixture!

    override class func setUp() {
        super.setUp()
        dns = try! DNSFixture()
    }

    override class func tearDown() {
        dns = nil
        super.tearDown()
    }

    func lookup(_ name: String, _ type: DNSRecordType, _ configure: (inout DNSProbe) -> Void = { _ in }) async -> ProbeResult {
        var probe = DNSProbe(name: name, type: type)
        probe.server = Self.dns.server
        configure(&probe)
        return await ProbeRunner.run(.dns(probe)).0
    }

    func testSPFIncludesAndTheAllQualifier() async {
        let good = await lookup("example.test", .TXT) { $0.spf = SPFRequirement(includes: ["amazonses.com"], all: .softfail) }
        XCTAssertTrue(good.ok, "\(good.failures)")
        let strict = await lookup("example.test", .TXT) { $0.spf = SPFRequirement(includes: ["amazonses.com", "_spf.google.com"], all: .fail) }
        XCTAssertEqual(strict.failures, ["spf include:_spf.google.com = absent (expected present)", "spf all = ~all (expected -all or stricter)"])
    }

    func testDKIMKeySplitAcrossStringsIsJoined() async {
        let result = await lookup("s1._domainkey.example.test", .TXT) { $0.dkim = DKIMRequirement(selector: "s1") }
        XCTAssertTrue(result.ok, "\(result.failures)")
        let key = result.measurements.first { $0.name == "dkim key" }?.value ?? ""
        // A 2048-bit key is 392 base64 characters: proof the >255-byte record was joined.
        XCTAssertEqual(key, "rsa, 392 base64 chars")
        let missing = await lookup("s2._domainkey.example.test", .TXT) { $0.dkim = DKIMRequirement(selector: "s2") }
        XCTAssertEqual(missing.failures, ["dkim record = no TXT record with v=DKIM1 (expected v=DKIM1 with a key)"])
    }

    func testDMARCPolicyIsAtLeastTheOneRequired() async {
        let ok = await lookup("_dmarc.example.test", .TXT) { $0.dmarc = DMARCRequirement(policy: .quarantine) }
        XCTAssertTrue(ok.ok, "\(ok.failures)")
        XCTAssertEqual(ok.measurements.first { $0.name == "dmarc rua" }?.value, "mailto:dmarc@example.test")
        let reject = await lookup("_dmarc.example.test", .TXT) { $0.dmarc = DMARCRequirement(policy: .reject) }
        XCTAssertEqual(reject.failures, ["dmarc policy = quarantine (expected reject or stricter)"])
    }

    func testAddressAndMailExchangerRecords() async {
        let a = await lookup("app.example.test", .A) { $0.contains = ["127.0.0.1"] }
        XCTAssertTrue(a.ok, "\(a.failures)")
        let mx = await lookup("example.test", .MX) { $0.contains = ["10 mx.example.test"] }
        XCTAssertTrue(mx.ok, "\(mx.failures)")
        let absent = await lookup("nothing.example.test", .A)
        XCTAssertFalse(absent.ok)
        XCTAssertNil(absent.unavailable, "a name that does not exist is an answer, not an outage")
    }

    func testAResolverThatDoesNotAnswerIsUnavailableNotAbsent() async {
        var probe = DNSProbe(name: "example.test", type: .TXT)
        probe.server = "127.0.0.1:\(ServerProcess.freePort())"
        probe.timeoutMs = 1_000
        let result = await ProbeRunner.run(.dns(probe)).0
        XCTAssertNotNil(result.unavailable)
        XCTAssertTrue(result.unavailable?.contains("did not answer") == true, result.unavailable ?? "")
    }
}
