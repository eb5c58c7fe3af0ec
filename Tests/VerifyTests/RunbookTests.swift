import Foundation
import TestSupport
import XCTest

/// `deployctl runbook`: read-only procedures that run every check, take no lock, and report.
final class RunbookTests: XCTestCase {
    static let descriptor = """
        inputs:
          spool: { default: spool }
        phases:
          deploy:
            - name: slow-release
              run: [sleep, "20"]
        runbooks:
          smtp-timeouts:
            description: SMTP sends time out
            steps:
              - name: spool-exists
                run: [test, -d, "${inputs.spool}"]
              - name: no-stuck-messages
                description: find exits 1 when it finds a stuck message
                run: [find, "${inputs.spool}", -name, "*.stuck", -exec, "false", "{}", "+"]
              - name: relay-listens
                tcp: { host: 127.0.0.1, port: 1, timeout: 1s }
            next:
              - "Stuck messages: move them back to the queue with mailq --requeue"
              - "Relay down: page the mail team"
          all-clear:
            steps:
              - name: spool-exists
                run: [test, -d, "${inputs.spool}"]
        """

    func testEveryCheckRunsAndFindingsComeWithWhatToDoNext() throws {
        let stack = try StackFixture(Self.descriptor, files: ["spool/a.stuck": "x", "spool/b.ok": "y"])
        let list = try stack.run(["runbook", "prod"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("smtp-timeouts — SMTP sends time out (3 checks)"), list.stdout)
        XCTAssertTrue(list.stdout.contains("all-clear (1 checks)"), list.stdout)

        let result = try stack.run(["runbook", "prod", "smtp-timeouts"])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("runbook smtp-timeouts on x/prod at "), result.stdout)
        XCTAssertTrue(result.stdout.contains("2 of 3 checks found something: no-stuck-messages, relay-listens"), result.stdout)
        XCTAssertTrue(result.stdout.contains("  ✓ spool-exists\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("  ✗ no-stuck-messages: exited 1"), result.stdout)
        XCTAssertTrue(result.stdout.contains("  - Relay down: page the mail team"), result.stdout)
        XCTAssertTrue(result.stdout.contains("(read-only, no lock taken)"), result.stdout)

        let id = try stack.requireLastRunID()
        let md = try String(contentsOfFile: "\(stack.state.path)/reports/\(id)/report.md", encoding: .utf8)
        XCTAssertTrue(md.hasPrefix("# x/prod runbook smtp-timeouts — FINDINGS"), md)
        XCTAssertTrue(md.contains("- Stuck messages: move them back to the queue with mailq --requeue"), md)
        XCTAssertTrue(md.contains("### ❌ runbook/relay-listens"), md)
        XCTAssertTrue(md.contains("| connect | failed: "), md)

        let clear = try stack.run(["runbook", "prod", "all-clear"])
        XCTAssertEqual(clear.status, 0, clear.stdout + clear.stderr)
        XCTAssertFalse(clear.stdout.contains("what to do next"))

        // A runbook changes nothing deployed.
        let status = try stack.run(["status", "prod", "--format", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        XCTAssertTrue(json["deployed_revision"] is NSNull, status.stdout)
    }

    func testItRunsWhileADeployHoldsTheLock() throws {
        let stack = try StackFixture(Self.descriptor, files: ["spool/b.ok": "y"])
        let up = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
        XCTAssertTrue(up.waitFor("▶ deploy/slow-release"))
        defer { kill(up.pid, SIGTERM); up.wait() }
        let locked = try stack.run(["up", "prod"])
        XCTAssertEqual(locked.status, 3, "the deploy holds the lock")
        let result = try stack.run(["runbook", "prod", "all-clear"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    }

    func testAnUnknownRunbookIsNamedWithASuggestion() throws {
        let stack = try StackFixture(Self.descriptor)
        let result = try stack.run(["runbook", "prod", "smtp-timeout"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("x/prod has no runbook 'smtp-timeout' (did you mean 'smtp-timeouts'?); it has: smtp-timeouts, all-clear"), result.stderr)
    }
}
