import Foundation
import TestSupport
import XCTest

/// `up` with probe steps against real nginx and dnsmasq: what the journal, the terminal, the
/// reports and the webhooks see.
final class VerifyRunTests: PeersTestCase {
    static let token = "tok-\(UUID().uuidString.prefix(12))-canary"

    /// A stack whose verify phase is seed 004's checklist, against the fixtures.
    func descriptor(hook: String? = nil, healthStatus: Int = 200, extraVerify: String = "") -> String {
        let n = Self.nginx!, d = Self.dns!
        return """
        version: 1
        stack: web
        environment: prod
        inputs:
          host: { default: "127.0.0.1:\(n.httpsPort)" }
        secrets:
          api_token: { env: WEB_API_TOKEN }
          hook_url: { env: WEB_HOOK_URL, optional: true }
        phases:
          deploy:
            - name: release
              run: [echo, released]
          verify:
            - name: https-redirect
              http: { url: "http://127.0.0.1:\(n.httpPort)/", redirects_to_https: true }
            - name: security-headers
              http:
                url: "https://${inputs.host}/"
                tls: { ca_file: cert.pem }
                require_headers:
                  Strict-Transport-Security: { contains: max-age= }
                  X-Frame-Options: DENY
                  X-Content-Type-Options: nosniff
                  Content-Security-Policy: true
            - name: health
              http:
                url: "https://${inputs.host}/health"
                headers: { Authorization: "Bearer ${secrets.api_token}" }
                tls: { ca_file: cert.pem }
                status: \(healthStatus)
                json: { "$.checks.db": ok }
                samples: 10
                concurrency: 2
                latency_ms: { p95: 5000 }
            - name: metrics-restricted
              http: { url: "https://${inputs.host}/metrics", status: 403, tls: { ca_file: cert.pem } }
            - name: login-rate-limit
              rate_limit: { url: "https://${inputs.host}/login", requests: 8, allowed: 5, headers: { X-Test-Client: "${run.id}" }, tls: { ca_file: cert.pem } }
            - name: spf
              dns: { domain: example.test, server: "\(d.server)", spf: { includes: [amazonses.com], all: "~all" } }
            - name: dkim
              dns: { domain: example.test, server: "\(d.server)", dkim: { selector: s1 } }
            - name: dmarc
              dns: { domain: example.test, server: "\(d.server)", dmarc: { policy: quarantine } }
            - name: certificate
              tls: { host: 127.0.0.1, port: \(n.httpsPort), server_name: localhost, min_days: 1, ca_file: cert.pem }
        \(extraVerify)
        manual:
          - { section: Monitoring, item: "Error rate dashboard watched for 30 minutes" }
          - "Test email received end to end"
        signoff: [Developer, Reviewer, Operations]
        readiness: { categories: [Security, Reliability, Performance, Operations, Documentation], scale: 5, pass: 20 }
        \(hook.map { "notify:\n  - \($0)\n" } ?? "")
        """
    }

    func fixture(_ descriptor: String) throws -> StackFixture {
        let cert = try String(contentsOfFile: Self.nginx.certificate, encoding: .utf8)
        let stack = try StackFixture(descriptor, target: "stacks/web/prod.yaml", files: ["cert.pem": cert])
        stack.environment["WEB_API_TOKEN"] = Self.token
        return stack
    }

    func testVerifyProbesPassAndTheirMeasurementsAreJournaledAndReported() throws {
        let stack = try fixture(descriptor())
        let up = try stack.run(["up", "prod", "--yes"])
        XCTAssertEqual(up.status, 0, up.stdout + up.stderr)
        XCTAssertTrue(up.stdout.contains("✓ requests before 429 = 5 (expected 1…5)"), up.stdout)
        XCTAssertTrue(up.stdout.contains("report: \(stack.state.path)/reports/"), up.stdout)
        let id = try stack.requireLastRunID()
        if ProcessInfo.processInfo.environment["SHOW_OUTPUT"] != nil { print(up.stdout, up.stderr) }

        // Every format was written when the run ended.
        let dir = "\(stack.state.path)/reports/\(id)"
        for file in ["report.md", "report.json", "report.html", "report.junit.xml"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/\(file)"), file)
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/report.json"))) as! [String: Any]
        XCTAssertEqual(json["schema"] as? String, "deployctl.report/v3")
        let verify = json["verify"] as! [[String: Any]]
        XCTAssertEqual(verify.map { $0["step"] as! String },
                       ["https-redirect", "security-headers", "health", "metrics-restricted", "login-rate-limit", "spf", "dkim", "dmarc", "certificate"])
        let health = verify[2]["measurements"] as! [[String: Any]]
        XCTAssertEqual(health.first { $0["name"] as? String == "$.checks.db" }?["value"] as? String, "ok")
        XCTAssertEqual(health.first { $0["name"] as? String == "status" }?["value"] as? String, "200 ×10")
        let phases = json["phases"] as! [[String: Any]]
        XCTAssertEqual(phases.map { $0["status"] as! String }, ["not_run", "not_run", "succeeded", "succeeded", "not_run"])

        let md = try String(contentsOfFile: "\(dir)/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("| requests before 429 | 5 | 1…5 | ✅ |"), md)
        XCTAssertTrue(md.contains("- [ ] **Monitoring:** Error rate dashboard watched for 30 minutes"), md)
        XCTAssertTrue(md.contains("| **Total** | **0 / 25** (pass at 20) | | |"), md)
        XCTAssertTrue(md.contains("| Reviewer |  |  |"), md)

        let junit = try String(contentsOfFile: "\(dir)/report.junit.xml", encoding: .utf8)
        XCTAssertTrue(junit.contains("tests=\"9\" failures=\"0\""), junit)
        XCTAssertEqual(try Shell.capture("python3", ["-c", "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])", "\(dir)/report.junit.xml"]).status, 0)

        // The token went out in a header and never comes back: not in the journal, the logs,
        // the reports or the terminal.
        XCTAssertEqual(try stack.stateFiles(containing: Self.token), [])
        XCTAssertFalse(up.stdout.contains(Self.token) || up.stderr.contains(Self.token))
    }

    func testAFailingProbeFailsVerifyAndTheReportSaysWhatWasMeasured() throws {
        let stack = try fixture(descriptor(healthStatus: 204))
        let up = try stack.run(["up", "prod", "--yes", "--no-rollback"])
        XCTAssertEqual(up.status, 1, up.stdout + up.stderr)
        XCTAssertTrue(up.stdout.contains("✗ status = 200 ×10 (expected 204)"), up.stdout)
        let id = try stack.requireLastRunID()
        let md = try stack.run(["report", id, "--format", "md"])
        XCTAssertEqual(md.status, 0, md.stderr)
        XCTAssertTrue(md.stdout.contains("| status | 200 ×10 | 204 | ❌ |"), md.stdout)
        XCTAssertTrue(md.stdout.contains("**verify/health** attempt 1: failed — status = 200 ×10 (expected 204)"), md.stdout)
        let junit = try stack.run(["report", id, "--format", "junit", "--output", stack.state.path + "/out.xml"])
        XCTAssertEqual(junit.status, 0, junit.stderr)
        let xml = try String(contentsOfFile: stack.state.path + "/out.xml", encoding: .utf8)
        XCTAssertTrue(xml.contains("<failure message=\"status = 200 ×10 (expected 204)\" type=\"failed\">"), xml)

        // The HTML report, opened in headless Chromium: it parses, shows the outcome and the
        // failed check, and needs nothing from the network. The screenshot is kept as a test
        // artifact (.build/test-artifacts, not committed).
        let html = "\(stack.state.path)/reports/\(id)/report.html"
        let browser = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,1600"]
        let dom = try Shell.capture("chromium", browser + ["--dump-dom", "file://\(html)"])
        XCTAssertEqual(dom.status, 0, dom.stderr)
        XCTAssertTrue(dom.stdout.contains("<div class=\"banner bad\" id=\"outcome\">✗ FAILED: verify/health failed</div>"), dom.stdout)
        XCTAssertTrue(dom.stdout.contains("<td>200 ×10</td><td>204</td><td class=\"bad\">✗</td>"), dom.stdout)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for external in [" src=", "href=", "<link", "@import", "url("] {
            XCTAssertFalse(page.contains(external), "one self-contained file: found \(external)")
        }
        let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let png = artifacts.appendingPathComponent("verify-report.png").path
        try? FileManager.default.removeItem(atPath: png)
        let shot = try Shell.capture("chromium", browser + ["--screenshot=\(png)", "file://\(html)"])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
        XCTAssertGreaterThan(bytes.count, 20_000, "a rendered page, not a blank one")
    }

    func testWebhooksHearTheOutcomeAndAFailedOneNeverFailsTheRun() throws {
        let receiver = try WebhookReceiver()
        let broken = try WebhookReceiver(status: 500)
        let stack = try fixture(descriptor(hook: "${secrets.hook_url}\n  - { url: \"\(broken.url)\", on: [success] }"))
        stack.environment["WEB_HOOK_URL"] = receiver.url
        let up = try stack.run(["up", "prod", "--yes"])
        XCTAssertEqual(up.status, 0, up.stdout + up.stderr)
        XCTAssertEqual(receiver.posts.count, 1)
        let text = receiver.posts.first?["text"] as? String ?? ""
        XCTAssertTrue(text.hasPrefix("✅ up web/prod "), text)
        XCTAssertTrue(text.contains("succeeded"), text)
        XCTAssertEqual(broken.posts.count, 2, "a 500 is retried once")
        XCTAssertTrue(up.stderr.contains("notification to \(broken.url) failed (HTTP 500: no)") || up.stdout.contains("notification to \(broken.url) failed (HTTP 500: no)"), up.stdout + up.stderr)
        let id = try stack.requireLastRunID()
        let json = try stack.run(["report", id, "--format", "json"])
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let notifications = report["notifications"] as! [[String: Any]]
        XCTAssertEqual(notifications.map { $0["status"] as! String }, ["sent", "failed"])
        // The webhook URL came from a secret: journaled masked.
        XCTAssertEqual(notifications[0]["url"] as? String, "••••")
        XCTAssertEqual(try stack.stateFiles(containing: receiver.url), [])
        XCTAssertFalse(up.stdout.contains(receiver.url) || up.stderr.contains(receiver.url))
    }

    /// libcurl's proxy settings, as production networks use them: HTTPS_PROXY tunnels the HTTPS
    /// probe, http_proxy carries the plain one, NO_PROXY bypasses both. Each sample says where
    /// its time went (DNS, connect, TLS, first byte), in the terminal and the report.
    func testProbesGoThroughTheProxyTheEnvironmentNamesAndSayWhereTheTimeWent() throws {
        let n = Self.nginx!
        let stack = try fixture("""
        version: 1
        stack: web
        environment: prod
        phases:
          verify:
            - name: redirect
              http: { url: "http://127.0.0.1:\(n.httpPort)/", redirects_to_https: true }
            - name: health
              http: { url: "https://127.0.0.1:\(n.httpsPort)/health", tls: { ca_file: cert.pem }, samples: 3 }
        """)
        let port = ServerProcess.freePort()
        let log = stack.state.path + "/proxy.log"
        let proxy = try ServerProcess(["python3", Self.script("http-proxy.py"), "\(port)", log], name: "http-proxy")
        try proxy.wait { ServerProcess.listening(port) }
        let viaProxy = ["HTTPS_PROXY": "http://127.0.0.1:\(port)", "http_proxy": "http://127.0.0.1:\(port)", "NO_PROXY": ""]

        let through = try stack.run(["up", "prod", "--yes"], environment: viaProxy)
        XCTAssertEqual(through.status, 0, through.stdout + through.stderr)
        let seen = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertTrue(seen.contains("CONNECT 127.0.0.1:\(n.httpsPort)"), seen)
        XCTAssertTrue(seen.contains("GET http://127.0.0.1:\(n.httpPort)/"), seen)
        let time = try XCTUnwrap(through.stdout.split(separator: "\n").first { $0.contains("time p50 = dns") }, through.stdout)
        XCTAssertTrue(time.contains("· connect ") && time.contains("· tls ") && time.contains("· first byte ") && time.hasSuffix(" ms"), String(time))
        let id = try stack.requireLastRunID()
        let md = try String(contentsOfFile: "\(stack.state.path)/reports/\(id)/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("| time p50 | dns "), md)

        try FileManager.default.removeItem(atPath: log)
        let bypass = try stack.run(["up", "prod", "--yes"], environment: viaProxy.merging(["NO_PROXY": "127.0.0.1"]) { $1 })
        XCTAssertEqual(bypass.status, 0, bypass.stdout + bypass.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: log), "NO_PROXY bypassed the proxy")

        // A proxy that is down is named, not mistaken for the service being down.
        let down = try stack.run(["up", "prod", "--yes", "--no-rollback"],
                                 environment: ["HTTPS_PROXY": "http://127.0.0.1:\(ServerProcess.freePort())", "NO_PROXY": ""])
        XCTAssertEqual(down.status, 1, down.stdout + down.stderr)
        XCTAssertTrue(down.stdout.contains("proxy"), down.stdout)
    }

    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/\(name)").path
    }
}
