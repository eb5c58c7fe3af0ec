import TestSupport
import XCTest

/// Test cases that need nginx and dnsmasq: one of each per class, started before its first
/// test and stopped after its last.
class PeersTestCase: XCTestCase {
    nonisolated(unsafe) static var nginx: NginxFixture!
    nonisolated(unsafe) static var dns: DNSFixture!

    override class func setUp() {
        super.setUp()
        nginx = try! NginxFixture()
        dns = try! DNSFixture()
    }

    override class func tearDown() {
        nginx = nil
        dns = nil
        super.tearDown()
    }
}
