import Foundation
import Testing
import TestSupport

/// Runs nobody watches (CI: stdin closed, no terminal): they end with the environment good or
/// clearly not, say so in status, and name every next command.
@Suite struct UnattendedTests {
    /// An app that is a file holding its version, an inbound switch that is a file, and a
    /// verify that can be made to fail; `heldDeploy`: the release waits on the fixture's gate.
    static func stack(_ version: String, verify: String = "v", inbound: Bool = true, heldDeploy: Bool = false) -> String {
        """
        phases:
          deploy:
            - name: release
              run: [sh, -c, '\(heldDeploy ? StackFixture.gate + "; " : "")echo \(version) > $DEPLOYCTL_STATE/app']
              rollback: [sh, -c, "echo undone-\(version) >> $DEPLOYCTL_STATE/undo-log"]
          verify:
            - name: app
              run: [cat, "${run.state_dir}/app"]
              expect: {stdout_contains: "\(verify)"}
        rollback:
          - name: release-again
            run: [sh, -c, "echo \(version) > $DEPLOYCTL_STATE/app"]
        """ + (inbound ? "\n" + FileStandIns.inboundYAML : "")
    }

    func file(_ stack: StackFixture, _ name: String) -> String? {
        try? String(contentsOfFile: stack.state.path + "/" + name, encoding: .utf8)
    }

    func status(_ stack: StackFixture) throws -> [String: Any] {
        let result = try stack.run(["status", "prod", "--format", "json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func aResumedRunWhoseVerifyFailsRollsBackByItselfAsUpWould() throws {
        let stack = try StackFixture(Self.stack("v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        let good = try stack.git.git(["rev-parse", "HEAD"])
        try stack.git.commit("v2 is held and fails verify", files: ["stacks/x/prod.yaml": Self.stack("v2", verify: "v3", heldDeploy: true)])
        let up = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
        defer { stack.openGate() }  // on every way out
        #expect(up.waitFor("▶ deploy/release"))
        #expect(try stack.waitForStepGroup(step: "release") != nil, "the release's process group was journaled")
        kill(up.pid, SIGKILL)
        up.wait()
        stack.openGate()
        let runID = try stack.requireLastRunID()
        // The release it started finishes on its own (resume, rightly, refuses while it runs).
        #expect(try stack.waitForStepGroupToEnd(run: runID, step: "release"))
        // The killed step is not idempotent: the flag that answers the question, not --yes.
        // Any unique prefix of the run id will do (the v1 run may share the same second).
        let ids = try #require(try JSONSerialization.jsonObject(with: Data(try stack.run(["runs", "--format", "json"]).stdout.utf8)) as? [[String: Any]])
            .compactMap { $0["id"] as? String }
        let prefix = try #require((16...20).map { String(runID.prefix($0)) }.first { p in ids.filter { $0.hasPrefix(p) }.count == 1 })
        let resumed = try stack.run(["resume", prefix, "--rerun-interrupted"])
        #expect(resumed.status == 1, "the deploy failed: \(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("verify/app failed: rolling back automatically"))
        #expect(resumed.stdout.contains("✓ rollback x/prod at \(good.prefix(10))"))
        #expect(file(stack, "app") == "v1\n")
        #expect(file(stack, "inbound") == "on\n")
        let state = try status(stack)
        #expect(state["state"] as? String == "deployed")
        #expect(state["deployed_revision"] as? String == good)
        #expect(try stack.show(runID)["status"] as? String == "rolled_back")
    }

    @Test func resumeRefusesWhileInboundMailIsOwed() throws {
        let stack = try StackFixture(Self.stack("v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2 fails verify", files: ["stacks/x/prod.yaml": Self.stack("v2", verify: "v3")])
        #expect(try stack.run(["up", "prod", "--no-rollback"]).status == 1)
        let failed = try stack.requireLastRunID()
        #expect(try stack.run(["inbound", "disable", "prod"]).status == 0)
        let refused = try stack.run(["resume", failed])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("inbound mail processing for x/prod is still disabled"))
        #expect(refused.stderr.contains("next: re-enable it first: deployctl inbound enable x/prod"))
        #expect(file(stack, "inbound") == "off\n", "resume touched nothing")
        #expect(try stack.show(failed)["status"] as? String == "failed")
    }

    @Test func theJSONStreamEndsWithRunFinishedForEveryRunItStarted() throws {
        let stack = try StackFixture(Self.stack("v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2 fails verify", files: ["stacks/x/prod.yaml": Self.stack("v2", verify: "v3")])
        let result = try stack.run(["up", "prod", "--format", "json"])
        #expect(result.status == 1)
        let events = try result.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let started = events.filter { $0["event"] as? String == "run_started" }
        let finished = events.filter { $0["event"] as? String == "run_finished" }
        #expect(started.map { $0["kind"] as? String } == ["up", "rollback"])
        #expect(finished.map { $0["kind"] as? String } == ["up", "rollback"])
        #expect(finished.map { $0["run"] as? String } == started.map { $0["run"] as? String })
        #expect(finished.map { $0["status"] as? String } == ["rolled_back", "succeeded"])
        #expect(finished.allSatisfy { $0["exit_code"] as? Int == 1 }, "the exit code deployctl exits with")
        #expect(events.last?["event"] as? String == "run_finished")
        #expect(!result.stdout.contains("✓"), "nothing but JSON on stdout")
    }

    @Test func statusSaysDegradedAfterAFailedDeployThatWasNotRolledBackAndCheckConfirmsTheTruth() throws {
        let stack = try StackFixture(Self.stack("v1"))
        let never = try stack.run(["check", "prod"])
        #expect(never.status == 2)
        #expect(never.stderr.contains("nothing to check: x/prod has no deploy"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        let good = try stack.git.git(["rev-parse", "HEAD"])
        var state = try status(stack)
        #expect(state["state"] as? String == "deployed")
        #expect(state["last_check"] is NSNull)

        let checked = try stack.run(["check", "prod"])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("✓ verify/app"))
        state = try status(stack)
        let lastCheck = try #require(state["last_check"] as? [String: Any])
        #expect(lastCheck["status"] as? String == "succeeded")
        #expect(lastCheck["revision"] as? String == good)
        #expect(lastCheck["current"] as? Bool == true)

        // Someone changes the app behind deployctl's back: check says so; no lock was needed.
        try "broken\n".write(toFile: stack.state.path + "/app", atomically: true, encoding: .utf8)
        let drifted = try stack.run(["check", "prod"])
        #expect(drifted.status == 1)
        #expect(drifted.stdout.contains("✗ verify/app"))
        #expect(drifted.stdout.contains("next: if it stays broken, go back: deployctl rollback x/prod"))
        #expect(try stack.run(["status", "prod"]).stdout.contains("last check: FAILED"))
        try "v1\n".write(toFile: stack.state.path + "/app", atomically: true, encoding: .utf8)

        try stack.git.commit("v2 fails verify", files: ["stacks/x/prod.yaml": Self.stack("v2", verify: "v3")])
        let bad = try stack.git.git(["rev-parse", "HEAD"])
        #expect(try stack.run(["up", "prod", "--no-rollback"]).status == 1)
        state = try status(stack)
        #expect((state["last_check"] as? [String: Any])?["current"] as? Bool == false, "it checked the deploy before")
        #expect(state["state"] as? String == "degraded")
        #expect(state["deployed_revision"] is NSNull, "never the previous revision as deployed")
        let degraded = try #require(state["degraded"] as? [String: Any])
        #expect(degraded["revision"] as? String == bad)
        #expect(degraded["changed"] as? [String] == ["deploy/release"])
        #expect((state["last_good"] as? [String: Any])?["revision"] as? String == good)
        #expect((state["next"] as? [String])?.first == "back to \(good.prefix(10)): deployctl rollback x/prod")
        let text = try stack.run(["status", "prod"]).stdout
        #expect(text.contains("DEGRADED — run"), "\(text)")
        #expect(text.contains("ran: deploy/release"))
        // check runs the verify of what is actually there: the failed revision's.
        let again = try stack.run(["check", "prod"])
        #expect(again.status == 1)
        #expect(again.stdout.contains("is degraded"))
    }

    @Test func aRefusedRollbackChangesAndJournalsNothing() throws {
        let stack = try StackFixture(Self.stack("v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        let live = try stack.git.git(["rev-parse", "HEAD"])
        let events = { try Shell.run("sqlite3", [stack.journal, "SELECT count(*) FROM events"]) }
        let before = try events()

        for to in ["deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", "no-such-branch"] {
            let result = try stack.run(["rollback", "prod", "--to", to])
            #expect(result.status == 2)
            #expect(result.stderr.contains("--to \(to) is neither a run id of x/prod nor a revision"))
            #expect(result.stderr.contains("next: deployctl runs x/prod"), "names the target, not TARGET: \(result.stderr)")
        }
        // Back to what is already live: it would undo its own deploy (and restore the backup
        // taken before its first migration).
        let same = try stack.run(["rollback", "prod", "--to", String(live.prefix(8))])
        #expect(same.status == 4)
        #expect(same.stderr.contains("x/prod is already at \(live.prefix(7))"))
        #expect(same.stderr.contains("deployctl up x/prod --rev"))
        #expect(try events() == before, "nothing journaled for runs that never existed")
        #expect(try Shell.run("sqlite3", [stack.journal, "SELECT count(*) FROM runs"]) == "1")
        #expect(file(stack, "inbound-log") == nil, "inbound was never touched")
    }

    @Test func aRollbackThatCouldNotFinishRefusesBeforeInboundGoesOff() throws {
        let withBackup = { (version: String, verify: String) in FileStandIns.withBackup(Self.stack(version, verify: verify), version: version, onRollback: "restore") }
        let stack = try StackFixture(withBackup("v1", "v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": withBackup("v2", "v2")])
        #expect(try stack.run(["up", "prod"]).status == 0)
        let v2 = try stack.requireLastRunID()
        let backup = try Shell.run("sqlite3", [stack.journal, "SELECT json_extract(data, '$.path') FROM events WHERE run_id = '\(v2)' AND kind = 'backup_taken'"])

        // The backup is not the one the journal recorded (someone overwrote it).
        try "tampered\n".write(toFile: backup, atomically: true, encoding: .utf8)
        let tampered = try stack.run(["rollback", "prod"])
        #expect(tampered.status == 4, "\(tampered.stdout)\(tampered.stderr)")
        #expect(tampered.stderr.contains("is not the one run \(v2) took: its SHA-256 is"))
        #expect(tampered.stderr.contains("nothing was changed and inbound mail was not touched"))
        #expect(file(stack, "inbound-log") == nil)
        // The dry run says the same, and exits as the rollback would.
        let dry = try stack.run(["rollback", "prod", "--dry-run", "--format", "json"])
        #expect(dry.status == 4)
        let preview = try #require(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])
        #expect((preview["problems"] as? [String])?.first?.contains("SHA-256") == true)
        // Keeping the database needs no backup: then it runs.
        let kept = try stack.run(["rollback", "prod", "--db-restore", "keep"])
        #expect(kept.status == 0, "\(kept.stdout)\(kept.stderr)")
        #expect(file(stack, "db") == "db-v2\n")
        #expect(file(stack, "inbound-log") == "disable\nenable\n")
    }

    @Test func aRollbackRunAgainDoesNotRestoreTheSameBackupTwice() throws {
        // v1's verify also needs a flag file, so its first rollback can fail after the restore.
        let withBackup = { (version: String, verify: String) in
            FileStandIns.withBackup(Self.stack(version, verify: verify).replacingOccurrences(
                of: "run: [cat, \"${run.state_dir}/app\"]", with: "run: [sh, -c, \"test -f $DEPLOYCTL_STATE/flag && cat $DEPLOYCTL_STATE/app\"]"),
                            version: version)
        }
        let stack = try StackFixture(withBackup("v1", "v1"))
        try "".write(toFile: stack.state.path + "/flag", atomically: true, encoding: .utf8)
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2 fails verify", files: ["stacks/x/prod.yaml": withBackup("v2", "v3")])
        #expect(try stack.run(["up", "prod", "--no-rollback"]).status == 1)
        try FileManager.default.removeItem(atPath: stack.state.path + "/flag")
        let first = try stack.run(["rollback", "prod"])
        #expect(first.status == 1, "verify fails after the restore: \(first.stdout)")
        #expect(first.stdout.contains("database restored from"))
        // Mail was on again since: what was written then must not be lost by a second restore.
        try "db-v1 and new writes\n".write(toFile: stack.state.path + "/db", atomically: true, encoding: .utf8)
        try "".write(toFile: stack.state.path + "/flag", atomically: true, encoding: .utf8)
        let dry = try stack.run(["rollback", "prod", "--dry-run"])
        #expect(dry.stdout.contains("keeps the database: an earlier attempt already restored it"), "the dry run says what the run will do: \(dry.stdout)")
        let again = try stack.run(["rollback", "prod"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("database: keep the database as the migrations left it (an earlier attempt already restored this backup"))
        #expect(file(stack, "db") == "db-v1 and new writes\n")
    }

    @Test func whatIsLiveDecidesWhatARollbackUndoes() throws {
        let stack = try StackFixture(Self.stack("v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        let a = try stack.git.git(["rev-parse", "HEAD"])
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.stack("v2")])
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v3", files: ["stacks/x/prod.yaml": Self.stack("v3")])
        #expect(try stack.run(["up", "prod"]).status == 0)
        // Straight back to v1: v3 is undone, v1 is live.
        let back = try stack.run(["rollback", "prod", "--to", String(a.prefix(8))])
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        #expect(file(stack, "app") == "v1\n")
        // v2 was never rolled back, but it is not live: a rollback to v1 again would undo v2's
        // steps and restore its backup over v1.
        let again = try stack.run(["rollback", "prod", "--to", String(a.prefix(8))])
        #expect(again.status == 4, "\(again.stdout)\(again.stderr)")
        #expect(again.stderr.contains("x/prod is already at \(a.prefix(7))"))
        let further = try stack.run(["rollback", "prod"])
        #expect(further.status == 4)
        #expect(further.stderr.contains("no earlier good revision of x/prod"), "nothing was deployed before v1: \(further.stderr)")
        #expect(file(stack, "app") == "v1\n")
    }

    @Test func aRollbackThatOnlyFailedToReenableInboundLeavesTheEnvironmentDeployed() throws {
        // The guard a rollback uses is the target revision's: v1's cannot switch mail back on.
        let stuck = Self.stack("v1").replacingOccurrences(of: "enable: [sh, -c, \"echo on > $DEPLOYCTL_STATE/inbound; echo enable >> $DEPLOYCTL_STATE/inbound-log\"]",
                                                                  with: "enable: [sh, -c, \"echo enable >> $DEPLOYCTL_STATE/inbound-log; test -f $DEPLOYCTL_STATE/can-enable && echo on > $DEPLOYCTL_STATE/inbound\"]")
        #expect(stuck.contains("can-enable"))
        let stack = try StackFixture(stuck)
        #expect(try stack.run(["up", "prod"]).status == 0)
        let good = try stack.git.git(["rev-parse", "HEAD"])
        try stack.git.commit("v2 fails verify", files: ["stacks/x/prod.yaml": Self.stack("v2", verify: "v3")])
        let failed = try stack.run(["up", "prod"])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("could NOT be re-enabled and stays owed"))
        let state = try status(stack)
        #expect(state["state"] as? String == "deployed", "everything else was rolled back: \(state)")
        #expect(state["deployed_revision"] as? String == good)
        #expect(state["inbound"] as? String == "disabled")
        #expect((state["next"] as? [String]) == ["deployctl inbound enable x/prod"])
    }

    @Test func aRollbackWhoseProgramIsMissingRefusesBeforeInboundGoesOff() throws {
        // v1's stack-level rollback step names a script v1 never committed.
        let v1 = Self.stack("v1").replacingOccurrences(of: """
              - name: release-again
                run: [sh, -c, "echo v1 > $DEPLOYCTL_STATE/app"]
            """, with: """
              - name: release-again
                run: [./scripts/release-v1.sh]
            """)
        #expect(v1.contains("./scripts/release-v1.sh"))
        let stack = try StackFixture(v1)
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.stack("v2")])
        #expect(try stack.run(["up", "prod"]).status == 0)
        let refused = try stack.run(["rollback", "prod"])
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("rollback/release-again: ./scripts/release-v1.sh is not an executable file in the revision's tree"))
        #expect(file(stack, "inbound-log") == nil)
        #expect(file(stack, "app") == "v2\n")
    }

    /// A restore program missing on this machine refuses a rollback that would restore; with
    /// `--db-restore keep` it runs neither restore nor check, so it is not asked for.
    @Test func keepingTheDatabaseDoesNotNeedTheRestoreProgram() throws {
        func descriptor(_ version: String) -> String {
            """
            backup:
              take: [sh, -c, "echo db > $1", sh, "${backup.path}"]
              verify: [test, -s, "${backup.path}"]
              restore: [/nonexistent/db-restore, "${backup.path}"]
              on_rollback: restore
            """ + "\n" + Self.stack(version).replacingOccurrences(of: "phases:\n", with: """
                phases:
                  migrate:
                    - {name: migrate, run: [sh, -c, "echo db-\(version) > $DEPLOYCTL_STATE/db"]}

                """)
        }
        let stack = try StackFixture(descriptor("v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": descriptor("v2")])
        #expect(try stack.run(["up", "prod"]).status == 0)
        let refused = try stack.run(["rollback", "prod"])
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("/nonexistent/db-restore"), "\(refused.stderr)")
        let kept = try stack.run(["rollback", "prod", "--db-restore", "keep"])
        #expect(kept.status == 0, "\(kept.stdout)\(kept.stderr)")
        #expect(file(stack, "app") == "v1\n" && file(stack, "db") == "db-v2\n", "code back, database kept")
    }

    @Test func aTargetWithoutTheInboundGuardBorrowsTheGuardOfTheRevisionItUndoes() throws {
        let stack = try StackFixture(Self.stack("v1", inbound: false))
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2 adds the guard and fails verify", files: ["stacks/x/prod.yaml": Self.stack("v2", verify: "v3")])
        let failed = try stack.run(["up", "prod"])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("declares no inbound: block; using the guard of"))
        #expect(failed.stdout.contains("✓ inbound/inbound.disable"))
        #expect(file(stack, "inbound-log") == "disable\nenable\n", "mail was off while the undo ran, and on again")
        let rollback = try stack.requireLastRunID()
        let borrowed = try Shell.run("sqlite3", [stack.journal, "SELECT count(*) FROM events WHERE run_id = '\(rollback)' AND kind = 'inbound_guard_borrowed'"])
        #expect(borrowed == "1")
        // The switch by hand still finds a descriptor that has one, though the live revision has none.
        let inbound = try stack.run(["inbound", "status", "prod"])
        #expect(inbound.status == 0, "\(inbound.stdout)\(inbound.stderr)")
        #expect(inbound.stdout.contains("inbound mail processing for x/prod: enabled"))
    }
}

@Suite struct ZombieTests {
    /// Where init never reaps (some containers), a killed step stays a zombie for ever; resume
    /// must not wait for it (kill(-pgid, 0) succeeds for zombies: it used to refuse for ever).
    @Test func resumeWaitsForNoZombie() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: charge-cards
                  run: [sh, -c, "test -f $DEPLOYCTL_STATE/once || { touch $DEPLOYCTL_STATE/once; sleep 30; }"]
            """)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/zombie-resume.py").path
        var env = stack.environment
        env["DEPLOYCTL_REPO"] = stack.git.path
        let output = try Shell.run("python3", [script, stack.journal, CLI.binary, "up", "prod"], environment: env, directory: stack.git.path)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(result["state"] as? String == "Z", "the step was a zombie when resume ran: \(result)")
        #expect(result["status"] as? Int == 0, "\(result)")
        #expect(!(result["stderr"] as? String ?? "").contains("still running"))
        #expect(try stack.show(try #require(result["run"] as? String))["status"] as? String == "succeeded")
    }
}
