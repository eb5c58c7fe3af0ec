import Foundation
import TestSupport
import XCTest

/// `deployctl doctor` and its three answers, against dnsmasq and nginx.
final class DoctorTests: PeersTestCase {
    func stack(dnsServer: String? = nil, spfAll: String = "~all", tool: String = "git") throws -> StackFixture {
        let server = dnsServer ?? Self.dns.server
        let descriptor = """
            stack: mail
            environment: prod
            phases:
              deploy:
                - name: push
                  run: [\(tool), --version]
                - name: script
                  run: [./bin/deploy.sh]
              verify:
                - name: spf
                  dns: { domain: example.test, server: "\(server)", spf: { includes: [amazonses.com], all: "\(spfAll)" } }
                - name: dmarc
                  dns: { domain: example.test, server: "\(server)", dmarc: { policy: quarantine } }
                - name: certificate
                  tls: { host: 127.0.0.1, port: \(Self.nginx.httpsPort), server_name: localhost, min_days: 1, ca_file: tls/ca.pem }
                - name: health
                  http: { url: "https://127.0.0.1:1/never-called-by-doctor" }
            """
        let cert = try String(contentsOfFile: Self.nginx.certificate, encoding: .utf8)
        return try StackFixture(descriptor, target: "stacks/mail/prod.yaml",
                                files: ["tls/ca.pem": cert, "bin/deploy.sh": "#!/bin/sh\necho deployed\n"])
    }

    func testAllGoodExitsZeroAndListsEachCLIWithItsVersion() throws {
        let stack = try stack()
        let result = try stack.run(["doctor", "prod"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("✓ cli git: /usr/bin/git (git version "), result.stdout)
        XCTAssertTrue(result.stdout.contains("✓ cli ./bin/deploy.sh: ./bin/deploy.sh is in the stacks repository"), result.stdout)
        XCTAssertTrue(result.stdout.contains("✓ dns spf: TXT example.test"), result.stdout)
        XCTAssertTrue(result.stdout.contains("✓ tls certificate: 127.0.0.1:\(Self.nginx.httpsPort): all 4 checks passed"), result.stdout)
        XCTAssertFalse(result.stdout.contains("never-called-by-doctor"), "doctor runs DNS and TLS probes only")
        XCTAssertTrue(result.stdout.contains("all 5 checks passed"), result.stdout)
    }

    func testProblemsExitOneEachWithItsFix() throws {
        let stack = try stack(spfAll: "-all", tool: "no-such-cli-\(UUID().uuidString.prefix(6))")
        let result = try stack.run(["doctor", "prod", "--format", "json"])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["verdict"] as? String, "problems")
        let problems = (json["checks"] as! [[String: Any]]).filter { $0["status"] as? String == "problem" }
        XCTAssertEqual(problems.map { $0["kind"] as! String }, ["cli", "dns"])
        XCTAssertTrue((problems[0]["fix"] as! String).hasPrefix("install no-such-cli-"), "\(problems[0])")
        XCTAssertEqual(problems[1]["detail"] as? String, "spf all = ~all (expected -all or stricter)")
        XCTAssertEqual(problems[1]["fix"] as? String, "publish one TXT record at example.test: \"v=spf1 include:amazonses.com -all\"")
    }

    func testAResolverThatDoesNotAnswerMeansCannotDiagnose() throws {
        let stack = try stack(dnsServer: "127.0.0.1:\(ServerProcess.freePort())")
        let result = try stack.run(["doctor", "prod"])
        XCTAssertEqual(result.status, 2, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("? dns spf: TXT example.test"), result.stdout)
        XCTAssertTrue(result.stdout.contains("cannot diagnose: a resolver did not answer"), result.stdout)
    }

    func testAnInvalidDescriptorMeansCannotDiagnose() throws {
        let stack = try StackFixture("phases:\n  verify:\n    - name: x\n      dns: { nam: example.test }\n", target: "stacks/mail/prod.yaml")
        let result = try stack.run(["doctor", "prod"])
        XCTAssertEqual(result.status, 2, result.stdout + result.stderr)
        XCTAssertTrue(result.stderr.contains("stacks/mail/prod.yaml:4:14: error: unknown key 'nam' in 'dns' of step 'x' (did you mean 'name'?)"), result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot diagnose prod: "), result.stderr)
    }
}
