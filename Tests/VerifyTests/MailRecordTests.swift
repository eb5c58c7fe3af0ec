import Probes
import XCTest

/// The pure parts: SPF, DKIM, DMARC records and percentiles, without a network.
final class MailRecordTests: XCTestCase {
    func testSPFParsesIncludesAndQualifier() throws {
        let record = try SPFRecord.find(in: ["google-site-verification=x", "v=spf1 include:amazonses.com ip4:1.2.3.4 -all"]).get()
        XCTAssertEqual(record.includes, ["amazonses.com"])
        XCTAssertEqual(record.all, .fail)
        XCTAssertTrue(SPFQualifier.fail > .softfail && SPFQualifier.softfail > .neutral && SPFQualifier.neutral > .pass)
    }

    func testTwoSPFRecordsAreAnError() {
        XCTAssertEqual(SPFRecord.find(in: ["v=spf1 -all", "v=spf1 ~all"]),
                       .failure(.invalid("2 SPF records (v=spf1); receivers treat that as a permanent error")))
        XCTAssertEqual(SPFRecord.find(in: ["v=spf10"]), .failure(.missing("no TXT record starts with v=spf1")))
    }

    func testDKIMRevokedKeyFails() throws {
        let record = try DKIMRecord.find(in: ["v=DKIM1; k=rsa; p="]).get()
        XCTAssertEqual(record.measurements.map(\.ok), [true, false])
    }

    func testDMARCPolicyOrder() throws {
        let record = try DMARCRecord.find(in: ["v=DMARC1; p=reject; rua=mailto:a@b"]).get()
        XCTAssertEqual(record.policy, .reject)
        XCTAssertTrue(record.measurements(against: DMARCRequirement(policy: .quarantine))[0].ok)
        let none = try DMARCRecord.find(in: ["v=DMARC1; p=none"]).get()
        XCTAssertFalse(none.measurements(against: DMARCRequirement(policy: .quarantine))[0].ok)
    }

    func testNearestRankPercentiles() {
        let samples = (1...20).map(Double.init)
        XCTAssertEqual(Percentiles.value(50, of: samples), 10)
        XCTAssertEqual(Percentiles.value(95, of: samples), 19)
        XCTAssertEqual(Percentiles.value(100, of: samples), 20)
        XCTAssertEqual(Percentiles.value(95, of: [7]), 7)
        XCTAssertNil(Percentiles.value(50, of: []))
    }
}
