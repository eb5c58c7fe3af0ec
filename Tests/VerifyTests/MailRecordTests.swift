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

    /// `Percentiles.format` prints what `String(format: "%.1f")` prints, ties and binary
    /// near-ties included (0.15 is 0.1499…, so "0.1"; 0.25 is exact, so "0.2", half to even).
    func testOneDecimalIsPrintfsOwn() {
        var values: [Double] = [0, -0.0, 0.05, 0.15, 0.25, 0.35, 2.675, 1e-300, 5e-324, 99.95, 1e13 + 0.05, -0.04, -2.25, 123456.75,
                                1e14.nextDown, 99_999_999_999_999.95, 0x1p40 + 0.25, 0x1p40 + 0.75, 2.95, 2.9500000000000001]
        values += (0..<4000).map { Double($0) / 20 }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let magnitude = Double(state >> 60)  // 0…15: from ~1e-3 to ~1e12
            values.append(Double(state >> 11) / Double(1 << 53) * pow(10, magnitude - 3) * (state & 1 == 0 ? 1 : -1))
        }
        for value in values {
            XCTAssertEqual(Percentiles.format(value), String(format: "%.1f", value), "\(value)")
        }
    }
}
