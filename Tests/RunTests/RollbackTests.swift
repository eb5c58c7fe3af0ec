import Foundation
import Testing
import TestSupport

/// Rollback: to the last good revision, driven by that revision's descriptor.
@Suite struct RollbackTests {
    /// A stack whose "app" is a file holding the deployed version; verify checks it.
    static func descriptor(version: String, verifyExpects: String) -> String {
        """
        phases:
          deploy:
            - name: release
              run: [sh, -c, "echo \(version) > $DEPLOYCTL_STATE/app-version"]
              rollback: [sh, -c, "echo undone-\(version) >> $DEPLOYCTL_STATE/undo-log; echo $DEPLOYCTL_REVISION > $DEPLOYCTL_STATE/undo-revision"]
          verify:
            - name: check
              run: [cat, "${run.state_dir}/app-version"]
              expect: {stdout_contains: "\(verifyExpects)"}
        rollback:
          - name: restore-release
            run: [sh, -c, "echo \(version) > $DEPLOYCTL_STATE/app-version"]
        """
    }

    @Test func aFailedVerifyRollsBackToTheLastGoodRevisionAndMarksTheBadOne() throws {
        let stack = try StackFixture(Self.descriptor(version: "v1", verifyExpects: "v1"))
        let good = try stack.git.git(["rev-parse", "HEAD"])
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2 breaks verify", files: ["stacks/x/prod.yaml": Self.descriptor(version: "v2", verifyExpects: "v3")])
        let bad = try stack.git.git(["rev-parse", "HEAD"])

        let failed = try stack.run(["up", "prod"])
        #expect(failed.status == 1, "\(failed.stdout)")
        #expect(failed.stdout.contains("verify/check failed: rolling back automatically"))
        #expect(failed.stdout.contains("▶ rollback/undo.release"))
        #expect(failed.stdout.contains("✓ rollback x/prod at \(good.prefix(10))"))
        #expect(try String(contentsOfFile: stack.state.path + "/app-version", encoding: .utf8) == "v1\n")
        #expect(try String(contentsOfFile: stack.state.path + "/undo-log", encoding: .utf8) == "undone-v2\n")
        // The undo ran as part of the revision it undoes.
        #expect(try String(contentsOfFile: stack.state.path + "/undo-revision", encoding: .utf8) == bad + "\n")

        let runs = try #require(try JSONSerialization.jsonObject(with: Data(try stack.run(["runs", "--format", "json"]).stdout.utf8)) as? [[String: Any]])
        #expect(runs.map { "\($0["kind"]!) \($0["status"]!)" } == ["rollback succeeded", "up rolled_back", "up succeeded"])
        let revisions = try #require(try JSONSerialization.jsonObject(with: Data(try stack.run(["revisions", "prod", "--format", "json"]).stdout.utf8)) as? [[String: Any]])
        #expect(revisions.first { $0["commit"] as? String == bad }?["marks"] as? [String] == ["bad"])
        #expect(revisions.first { $0["commit"] as? String == good }?["marks"] as? [String] == ["deployed", "live"])

        let refused = try stack.run(["up", "prod"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("is marked bad for x/prod"))
        #expect(refused.stderr.contains("--allow-bad-revision"))
        // The failed up handed its lock straight to its rollback: nothing could start between.
        let handed = try Shell.run("sqlite3", [stack.journal, "SELECT count(*) FROM events WHERE kind = 'lock_handed_over'"])
        #expect(handed == "1")
    }

    /// A stack whose "database" is a file: migrate writes its version, the backup copies it.
    static func withBackup(_ version: String, expects: String, onRollback: String? = nil) -> String {
        FileStandIns.withBackup("""
            phases:
              verify:
                - name: check
                  run: [cat, "${run.state_dir}/db"]
                  expect: {stdout_contains: "\(expects)"}
            """, version: version, onRollback: onRollback)
    }

    /// With nobody to ask (stdin closed, no terminal), the automatic rollback still ends the run
    /// with the environment good: `ask` restores, `keep` keeps, `--db-restore` overrides both.
    @Test(arguments: [(nil as String?, nil as String?, "db-v1\n", "restore the database (on_rollback: ask with no terminal to ask restores)"),
                      ("keep", nil, "db-v2\n", "keep the database as the migrations left it (on_rollback: keep)"),
                      ("keep", "restore", "db-v1\n", "restore the database (--db-restore restore)"),
                      ("restore", "keep", "db-v2\n", "keep the database as the migrations left it (--db-restore keep)")])
    func theUnattendedRestorePolicyDecidesWithNobodyToAsk(onRollback: String?, flag: String?, database: String, decision: String) throws {
        // v1 works with either database (its verify accepts both), as expand-style migrations allow.
        let stack = try StackFixture(Self.withBackup("v1", expects: "db-v"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.withBackup("v2", expects: "db-v3", onRollback: onRollback)])
        let failed = try stack.run(["up", "prod"] + (flag.map { ["--db-restore", $0] } ?? []))
        #expect(failed.status == 1, "the deploy failed: \(failed.stdout)\(failed.stderr)")
        #expect(failed.stdout.contains("✓ rollback x/prod at"), "\(failed.stdout)")
        #expect(failed.stdout.contains("database: \(decision)"))
        #expect(try String(contentsOfFile: stack.state.path + "/db", encoding: .utf8) == database)
        let status = try JSONSerialization.jsonObject(with: Data(try stack.run(["status", "prod", "--format", "json"]).stdout.utf8)) as? [String: Any]
        #expect(status?["state"] as? String == "deployed")
        let rollback = try stack.requireLastRunID()
        let decided = try Shell.run("sqlite3", [stack.journal, "SELECT data FROM events WHERE run_id = '\(rollback)' AND kind = 'restore_decided'"])
        #expect(decided.contains("\"restore\":\(database == "db-v1\n")"))
    }

    @Test func yesAnswersGatesOnlyAndTheRestoreFlagsAreChecked() throws {
        let stack = try StackFixture(Self.withBackup("v1", expects: "db-v"))
        let contradiction = try stack.run(["up", "prod", "--skip-db-restore", "--db-restore", "restore"])
        #expect(contradiction.status == 2)
        #expect(contradiction.stderr.contains("contradict"))
        let typo = try stack.run(["up", "prod", "--db-restore", "restor"])
        #expect(typo.status == 2)
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.withBackup("v2", expects: "db-v2", onRollback: "keep")])
        #expect(try stack.run(["up", "prod"]).status == 0)
        // A manual rollback from CI: --yes does not decide the restore; the descriptor does.
        let manual = try stack.run(["rollback", "prod", "--yes"])
        #expect(manual.status == 0, "\(manual.stdout)\(manual.stderr)")
        #expect(manual.stdout.contains("database: keep the database as the migrations left it (on_rollback: keep)"))
        #expect(try String(contentsOfFile: stack.state.path + "/db", encoding: .utf8) == "db-v2\n")
    }

    /// A failed postdeploy check rolls back only where the descriptor says so (a step's
    /// `rolls_back: true`, or `auto_rollback:` listing postdeploy); otherwise the run fails and
    /// says why nothing was rolled back.
    @Test func aFailedPostdeployCheckRollsBackOnlyWhereTheDescriptorSaysSo() throws {
        func withPostdeploy(_ version: String, header: String = "", step: String = "") -> String {
            header + Self.descriptor(version: version, verifyExpects: version).replacingOccurrences(of: "\nrollback:\n", with: """

              postdeploy:
                - name: latency
                  run: [sh, -c, "echo p95 900ms; exit 1"]
            \(step)
            rollback:

            """)
        }
        let stack = try StackFixture(Self.descriptor(version: "v1", verifyExpects: "v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)

        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": withPostdeploy("v2")])
        let kept = try stack.run(["up", "prod"])
        #expect(kept.status == 1, "\(kept.stdout)")
        #expect(kept.stdout.contains("not rolling back automatically (auto_rollback: [deploy, verify] and the step has no rolls_back: true)"), "\(kept.stdout)")
        #expect(try String(contentsOfFile: stack.state.path + "/app-version", encoding: .utf8) == "v2\n", "v2 stays live")

        try stack.git.commit("v3", files: ["stacks/x/prod.yaml": withPostdeploy("v3", step: "      rolls_back: true")])
        let plan = try stack.run(["plan", "prod"])
        #expect(plan.stdout.contains("a failure rolls back by itself in: deploy, verify (--no-rollback stops it for one run)"), "\(plan.stdout)")
        #expect(plan.stdout.contains("a failure rolls back (rolls_back: true)"))
        let rolled = try stack.run(["up", "prod"])
        #expect(rolled.status == 1)
        #expect(rolled.stdout.contains("postdeploy/latency failed: rolling back automatically"), "\(rolled.stdout)")
        #expect(rolled.stdout.contains("✓ rollback x/prod at"), "\(rolled.stdout)")
        #expect(try String(contentsOfFile: stack.state.path + "/app-version", encoding: .utf8) == "v1\n")

        // The same for the whole phase.
        try stack.git.commit("v4", files: ["stacks/x/prod.yaml": withPostdeploy("v4", header: "auto_rollback: [deploy, verify, postdeploy]\n")])
        #expect(try stack.run(["plan", "prod"]).stdout.contains("a failure rolls back by itself in: deploy, verify, postdeploy"))
        let phase = try stack.run(["up", "prod"])
        #expect(phase.stdout.contains("postdeploy/latency failed: rolling back automatically"), "\(phase.stdout)")
        #expect(try String(contentsOfFile: stack.state.path + "/app-version", encoding: .utf8) == "v1\n")

        // Where a rollback undoes nothing (preflight) or a migration restores instead: refused.
        try stack.git.commit("wrong places", files: ["stacks/x/prod.yaml": "auto_rollback: [preflight, deploy]\n"
            + Self.descriptor(version: "v5", verifyExpects: "v5").replacingOccurrences(of: "expect: {stdout_contains: \"v5\"}", with: "expect: {stdout_contains: \"v5\"}\n      rolls_back: true")])
        let invalid = try stack.run(["validate"])
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("error: 'auto_rollback' lists 'preflight'; a failure rolls back only from deploy, verify, postdeploy"), "\(invalid.stderr)")
        #expect(invalid.stderr.contains("error: 'rolls_back' of step 'check' is for postdeploy steps"), "\(invalid.stderr)")
    }

    @Test func noRollbackStopsAndTheDryRunShowsTheSequence() throws {
        let stack = try StackFixture(Self.descriptor(version: "v1", verifyExpects: "v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.descriptor(version: "v2", verifyExpects: "v3")])
        let failed = try stack.run(["up", "prod", "--no-rollback"])
        #expect(failed.status == 1)
        #expect(!failed.stdout.contains("rolling back automatically"))
        // The descriptor can say the same.
        try stack.git.commit("v2 stops", files: ["stacks/x/prod.yaml": "auto_rollback: false\n" + Self.descriptor(version: "v2", verifyExpects: "v3")])
        let stopped = try stack.run(["up", "prod"])
        #expect(stopped.status == 1)
        #expect(stopped.stdout.contains("not rolling back automatically (the descriptor says auto_rollback: false)"))
        let dry = try stack.run(["rollback", "prod", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("1  undo.release   sh -c 'echo undone-v2 >> $DEPLOYCTL_STATE/undo-log; echo $DEPLOYCTL_REVISION > $DEPLOYCTL_STATE/undo-revision'"))
        #expect(dry.stdout.contains("2  rollback/restore-release   sh -c 'echo v1 > $DEPLOYCTL_STATE/app-version'"))
        #expect(dry.stdout.contains("3  verify/check   cat"))
        #expect(try String(contentsOfFile: stack.state.path + "/app-version", encoding: .utf8) == "v2\n", "a dry run changes nothing")
        let real = try stack.run(["rollback", "prod"])
        #expect(real.status == 0, "\(real.stdout)")
        #expect(try String(contentsOfFile: stack.state.path + "/app-version", encoding: .utf8) == "v1\n")
    }

    @Test func withNoEarlierGoodRevisionRollbackRefusesAndSaysWhatToAccepts() throws {
        let stack = try StackFixture(Self.descriptor(version: "v1", verifyExpects: "v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        let refused = try stack.run(["rollback", "prod"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("no earlier good revision of x/prod"))
        #expect(refused.stderr.contains("--to REV (a branch, tag or SHA) or --to RUN (a run id from deployctl runs)"))
    }

    @Test func rollbackWhileLockedExits3() throws {
        let slow = Self.descriptor(version: "v1", verifyExpects: "v1")
            .replacingOccurrences(of: "  verify:", with: "  postdeploy:\n    - {name: slow, shell: '\(StackFixture.gate)'}\n  verify:")
        let stack = try StackFixture(slow)
        stack.openGate()
        #expect(try stack.run(["up", "prod"]).status == 0)
        stack.closeGate()
        let up = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
        defer { stack.openGate() }  // on every way out
        #expect(up.waitFor("▶ postdeploy/slow"))
        let locked = try stack.run(["rollback", "prod", "--to", "HEAD"])
        stack.openGate()
        #expect(locked.status == 3)
        #expect(locked.stderr.contains("x/prod is locked by run"))
        up.wait()
    }
}

/// Rollback with the inbound mail guard, the real aws CLI against moto, and PostgreSQL.
@Suite(.serialized) struct RollbackInboundTests {
    static func descriptor(verify: String, rollbackStep: String = "[\"true\"]") -> String {
        """
        \(PostgresFixture.stackPreamble)
        \(MotoFixture.inboundYAML())
        phases:
          migrate:
            - name: alembic-upgrade
              dir: db
              run: ["${inputs.alembic}", upgrade, head]
          verify:
            - name: smoke
              run: [/usr/lib/postgresql/15/bin/psql, -X, -Atc, "\(verify)"]
        rollback:
          - name: settle
            run: \(rollbackStep)
        """
    }

    /// PostgreSQL, moto and a stack at its first revision (migration 0001), deployed once.
    struct Setup {
        let pg: PostgresFixture
        let moto: MotoFixture
        let stack: StackFixture
        let inputs: [String]
    }

    func deployed(_ descriptor: String) throws -> Setup {
        let pg = try PostgresFixture()
        let moto = try MotoFixture()
        let alembic = try TestVenv.tool("alembic")
        var all = try AlembicFiles.files(["0001_accounts.py"])
        all["stacks/x/prod.yaml"] = descriptor
        let stack = try StackFixture(descriptor, files: all)
        stack.environment.merge(moto.environment) { _, new in new }
        stack.environment["TEST_PGPASSWORD"] = pg.password
        let inputs = ["--input", "pg_port=\(pg.port)", "--input", "alembic=\(alembic)"]
        #expect(try stack.run(["up", "prod"] + inputs).status == 0)
        return Setup(pg: pg, moto: moto, stack: stack, inputs: inputs)
    }

    @Test func verifyFailsAfterAMigrationAndTheRollbackRestoresEverything() throws {
        let setup = try deployed(Self.descriptor(verify: "select count(*) from accounts"))
        defer { withExtendedLifetime(setup) {} }  // the servers live until the test ends
        let (pg, moto, stack, inputs) = (setup.pg, setup.moto, setup.stack, setup.inputs)
        let before = try pg.snapshot()

        var next = try AlembicFiles.files(["0002_emails.py"])
        next["stacks/x/prod.yaml"] = Self.descriptor(verify: "select no_such_column from accounts")
        try stack.git.commit("0002 with a verify that fails", files: next)
        let failed = try stack.run(["up", "prod"] + inputs)
        #expect(failed.status == 1, "\(failed.stdout)")
        #expect(failed.stdout.contains("database: restore the database (on_rollback: ask with no terminal to ask restores)"))
        #expect(failed.stdout.contains("✓ inbound/inbound.disable"))
        #expect(failed.stdout.contains("✓ rollback/backup.restore"))
        #expect(failed.stdout.contains("inbound re-enabled (confirmed) after"))
        #expect(try pg.snapshot() == before, "schema and rows exactly as before the failed run")
        #expect(try moto.ruleEnabled() == "True")
        let rollback = try stack.requireLastRunID()
        let enabled = try Shell.run("sqlite3", [stack.journal, "SELECT data FROM events WHERE run_id = '\(rollback)' AND kind = 'inbound_enabled'"])
        #expect(enabled.contains("\"disabled_seconds\":"), "a number: \(enabled)")
        let shown = try stack.show(rollback)
        #expect((shown["inbound_disabled_seconds"] as? Int).map { $0 >= 1 } == true)
        let failedUp = try #require(shown["rollback_of"] as? String)
        #expect(try stack.show(failedUp)["rolled_back_by"] as? String == rollback)
        let text = try stack.run(["show", rollback])
        #expect(text.stdout.contains("a rollback of run \(failedUp): every step below belongs to the rollback"))
        #expect(text.stdout.contains("inbound mail processing was disabled for"))

        // Both runs got their reports: the rollback's shows the inbound window and the restore,
        // the failed up's says who rolled it back and what changed in the descriptor.
        let rollbackReport = try String(contentsOfFile: "\(stack.state.path)/reports/\(rollback)/report.md", encoding: .utf8)
        #expect(rollbackReport.contains("## Inbound mail"))
        #expect(rollbackReport.contains("; now ✅ enabled again."))
        #expect(rollbackReport.contains("| Restored | yes, restored — decided: restore the database (on_rollback: ask with no terminal to ask restores) |"))
        #expect(failed.stdout.contains("report: \(stack.state.path)/reports/\(rollback)/report.html"))
        let upReport = try String(contentsOfFile: "\(stack.state.path)/reports/\(failedUp)/report.md", encoding: .utf8)
        #expect(upReport.contains("| **Rolled back by** | `\(rollback)` |"))
        #expect(upReport.contains("| **Outcome** | ↩️ ROLLED BACK"))
        #expect(upReport.contains("| changed | verify/smoke | argv |"))
        #expect(upReport.contains("| Restored | yes, restored"))
        #expect(try stack.stateFiles(containing: pg.password).isEmpty)
    }

    @Test func killDashNineBetweenDisableAndEnableLeavesItOwedUntilEnabledByHand() throws {
        let setup = try deployed(Self.descriptor(verify: "select 1", rollbackStep: "[sleep, \"30\"]"))
        defer { withExtendedLifetime(setup) {} }  // the servers live until the test ends
        let (moto, stack, inputs) = (setup.moto, setup.stack, setup.inputs)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.descriptor(verify: "select 2", rollbackStep: "[sleep, \"30\"]")])
        #expect(try stack.run(["up", "prod"] + inputs).status == 0)

        let rollback = try BackgroundCLI(["rollback", "prod", "--skip-db-restore"], in: stack.git.path, environment: stack.environment)
        #expect(rollback.waitFor("▶ rollback/settle", seconds: 30))
        kill(rollback.pid, SIGKILL)
        rollback.wait()
        #expect(try moto.ruleEnabled() == "False")

        let status = try stack.run(["status", "prod", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(object["inbound"] as? String == "disabled")
        #expect(object["inbound_owed_by"] as? String != nil)
        #expect(status.stderr.contains("re-enable it: deployctl inbound enable x/prod"))

        let enable = try stack.run(["inbound", "enable", "prod"])
        #expect(enable.status == 0, "\(enable.stdout)\(enable.stderr)")
        #expect(try moto.ruleEnabled() == "True")
        let who = try Shell.run("sqlite3", [stack.journal, "SELECT data FROM events WHERE kind = 'inbound_settled' ORDER BY id DESC LIMIT 1"])
        #expect(who.contains("\"by\":\""))
        // The orphaned settle step's sleep: by its journaled process group, not `pkill -f`, which
        // would reach another test's `sleep 30` (make test runs five test processes at once).
        let group = try Shell.run("sqlite3", [stack.journal, "SELECT pid FROM steps WHERE name = 'settle' AND pid IS NOT NULL ORDER BY rowid DESC LIMIT 1"])
        if let pgid = Int32(group.trimmingCharacters(in: .whitespacesAndNewlines)), pgid > 1 { kill(-pgid, SIGTERM) }
    }

    /// An up that failed, then a rollback that undid its deploy step but failed in verify: the up
    /// is not rolled back, yet resuming it would run its verify on the undone deploy. Refused.
    @Test func aRunPartlyUndoneByARollbackCannotBeResumed() throws {
        func descriptor(_ version: String, expects: String) -> String {
            """
            phases:
              deploy:
                - name: release
                  run: [sh, -c, "echo \(version) > $DEPLOYCTL_STATE/app-version"]
                  rollback: [sh, -c, "echo undone-\(version) >> $DEPLOYCTL_STATE/undo-log"]
              verify:
                - name: check
                  run: [sh, -c, "test ! -e $DEPLOYCTL_STATE/verify-broken && grep -q \(expects) $DEPLOYCTL_STATE/app-version"]
            """
        }
        let stack = try StackFixture(descriptor("v1", expects: "v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": descriptor("v2", expects: "never")])
        #expect(try stack.run(["up", "prod", "--no-rollback"]).status == 1)
        let failed = try stack.requireLastRunID()
        FileManager.default.createFile(atPath: stack.state.path + "/verify-broken", contents: nil)
        #expect(try stack.run(["rollback", "prod"]).status == 1, "the rollback undid release, then its verify failed")
        #expect((try? String(contentsOfFile: stack.state.path + "/undo-log", encoding: .utf8)) == "undone-v2\n")
        let resume = try stack.run(["resume", failed])
        #expect(resume.status == 4, "\(resume.stdout)\(resume.stderr)")
        #expect(resume.stderr.contains("was partly undone by rollback"), "\(resume.stderr)")
        #expect(resume.stderr.contains("deployctl rollback x/prod"), "\(resume.stderr)")
        #expect((try? String(contentsOfFile: stack.state.path + "/app-version", encoding: .utf8)) == "v2\n", "nothing ran")
    }

    /// A failed run, then a newer deploy: resuming the old one would lay its revision over what
    /// runs now (before, it did: the rest of v2 ran over v3).
    @Test func aRunOvertakenByANewerDeployCannotBeResumed() throws {
        func descriptor(_ version: String, fail: Bool) -> String {
            """
            phases:
              deploy:
                - name: release
                  run: [sh, -c, "echo \(version) > $DEPLOYCTL_STATE/app-version"]
                - name: finish
                  run: [sh, -c, "\(fail ? "test -e $DEPLOYCTL_STATE/fixed" : "true")"]
            """
        }
        let stack = try StackFixture(descriptor("v1", fail: false))
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": descriptor("v2", fail: true)])
        #expect(try stack.run(["up", "prod", "--no-rollback"]).status == 1)
        let failed = try stack.requireLastRunID()
        try stack.git.commit("v3", files: ["stacks/x/prod.yaml": descriptor("v3", fail: false)])
        #expect(try stack.run(["up", "prod"]).status == 0)
        let newer = try stack.requireLastRunID()
        FileManager.default.createFile(atPath: stack.state.path + "/fixed", contents: nil)
        let resume = try stack.run(["resume", failed])
        #expect(resume.status == 4, "\(resume.stdout)\(resume.stderr)")
        #expect(resume.stderr.contains("up run \(newer) of x/prod started after run \(failed)"), "\(resume.stderr)")
        #expect((try? String(contentsOfFile: stack.state.path + "/app-version", encoding: .utf8)) == "v3\n", "nothing ran")
    }

    @Test func aRollbackWhoseVerifyFailsSaysWhatWasDoneAndStillReenablesInbound() throws {
        let setup = try deployed(Self.descriptor(verify: "select 1"))
        defer { withExtendedLifetime(setup) {} }  // the servers live until the test ends
        let (moto, stack, inputs) = (setup.moto, setup.stack, setup.inputs)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.descriptor(verify: "select 2")])
        #expect(try stack.run(["up", "prod"] + inputs).status == 0)
        // Going back to a revision whose verify cannot pass now.
        try stack.git.commit("v3", files: ["stacks/x/prod.yaml": Self.descriptor(verify: "select broken")])
        let result = try stack.run(["rollback", "prod", "--to", "HEAD", "--skip-db-restore"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("rollback stopped: verify/smoke failed; done: inbound disabled (confirmed), stack rollback steps, database kept as it is (--db-restore keep); inbound re-enabled (confirmed)"))
        #expect(result.stdout.contains("next: after fixing the cause, run it again: deployctl rollback x/prod --to"))
        // With the choice made: run again without it, `ask` with no terminal would restore what this kept.
        let again = result.stdout.split(separator: "\n").first { $0.contains("run it again:") }.map(String.init) ?? ""
        #expect(again.hasSuffix("--db-restore keep"), "\(again)")
        #expect(try moto.ruleEnabled() == "True")
    }
}

@Suite(.serialized) struct RollbackSignalTests {
    @Test func ctrlCDuringARollbackStillReenablesInbound() throws {
        let moto = try MotoFixture()
        let descriptor = { (version: String) in """
            \(MotoFixture.inboundYAML())
            phases:
              deploy:
                - {name: release, run: [echo, "\(version)"]}
            rollback:
              - {name: slow-undo, run: [sleep, "30"]}
            """ }
        let stack = try StackFixture(descriptor("v1"))
        stack.environment.merge(moto.environment) { _, new in new }
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": descriptor("v2")])
        #expect(try stack.run(["up", "prod"]).status == 0)
        let rollback = try BackgroundCLI(["rollback", "prod", "--grace", "2s"], in: stack.git.path, environment: stack.environment)
        #expect(rollback.waitFor("▶ rollback/slow-undo", seconds: 30))
        #expect(try moto.ruleEnabled() == "False")
        kill(rollback.pid, SIGINT)
        #expect(rollback.wait() == 130)
        #expect(rollback.stdout.contains("✓ inbound/inbound.enable"))
        #expect(rollback.stdout.contains("inbound re-enabled (confirmed)"))
        #expect(try moto.ruleEnabled() == "True")
        let status = try stack.run(["status", "prod", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(object["inbound"] as? String == "enabled")
        let resume = try stack.run(["resume", try stack.requireLastRunID()])
        #expect(resume.status == 4)
        #expect(resume.stderr.contains("is a rollback run; only up runs resume step by step"))
    }
}

@Suite(.serialized) struct RollbackDrainTests {
    @Test func drainWaitsForAnEmptyQueueAndKeepInboundDisabledIsHonouredAndRecorded() throws {
        let moto = try MotoFixture()
        let descriptor = { (version: String) in """
            \(MotoFixture.inboundYAML())
              drain:
                shell: 'n=$(cat "$DEPLOYCTL_STATE/queue"); echo $((n > 0 ? n - 1 : 0)) > "$DEPLOYCTL_STATE/queue"; echo $n'
                until: {stdout_matches: '^0$'}
                wait: 20s
                interval: 100ms
            phases:
              deploy:
                - {name: release, run: [echo, "\(version)"]}
            """ }
        let stack = try StackFixture(descriptor("v1"))
        stack.environment.merge(moto.environment) { _, new in new }
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": descriptor("v2")])
        #expect(try stack.run(["up", "prod"]).status == 0)
        try "3\n".write(toFile: stack.state.path + "/queue", atomically: true, encoding: .utf8)

        let result = try stack.run(["rollback", "prod", "--keep-inbound-disabled"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✓ inbound/inbound.drain"))
        #expect(result.stdout.contains("done: inbound disabled (confirmed), inbound queue drained"))
        #expect(result.stdout.contains("inbound mail processing stays DISABLED as asked (--keep-inbound-disabled)"))
        #expect(try String(contentsOfFile: stack.state.path + "/queue", encoding: .utf8) == "0\n")
        let drains = try Shell.run("sqlite3", [stack.journal, "SELECT count(*) FROM steps WHERE name = 'inbound.drain'"])
        #expect(Int(drains) ?? 0 >= 4, "it asked until the queue was empty")
        #expect(try moto.ruleEnabled() == "False")
        let status = try stack.run(["status", "prod", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(object["inbound"] as? String == "disabled")
        #expect(try Shell.run("sqlite3", [stack.journal, "SELECT count(*) FROM events WHERE kind = 'inbound_kept_disabled'"]) == "1")
    }
}

/// `rollback_prepare:` runs before the inbound guard: slow work that needs no guard happens
/// while mail still flows, and a failure there leaves inbound untouched.
@Suite struct RollbackPrepareTests {
    /// The target revision's prepare reads the real SES rule (moto) twice, a second apart.
    static func descriptor(_ version: String, prepare: String) -> String {
        """
        \(MotoFixture.inboundYAML())
        phases:
          deploy:
            - name: release
              run: [sh, -c, "echo \(version) > $WORLD/app"]
              rollback: [sh, -c, "echo undone-\(version) >> $WORLD/undo-log"]
        rollback_prepare:
          - name: build-artifacts
            run: [sh, -c, "\(prepare)"]
            timeout: 30s
        """
    }

    static let slowPrepare = "for i in 1 2; do aws ses describe-receipt-rule --rule-set-name mail-rules --rule-name inbound --query Rule.Enabled --output text >> $WORLD/during-prepare; sleep 1; done"

    @Test func aSlowPrepareRunsWhileInboundIsStillOn() throws {
        let moto = try MotoFixture()
        let world = try TemporaryDirectory.make(prefix: "world")
        defer { try? FileManager.default.removeItem(at: world) }
        let stack = try StackFixture(Self.descriptor("v1", prepare: Self.slowPrepare))
        stack.environment.merge(moto.environment) { _, new in new }
        stack.environment["WORLD"] = world.path
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.descriptor("v2", prepare: "exit 9")])
        #expect(try stack.run(["up", "prod"]).status == 0)

        let preview = try stack.run(["rollback", "prod", "--dry-run"])
        let lines = preview.stdout.components(separatedBy: "\n")
        let prepareLine = try #require(lines.firstIndex { $0.contains("prepare/build-artifacts") }, "\(preview.stdout)")
        let disableLine = try #require(lines.firstIndex { $0.contains("inbound.disable") }, "\(preview.stdout)")
        #expect(prepareLine < disableLine, "the dry run walks the same order: \(preview.stdout)")

        let rollback = try stack.run(["rollback", "prod"])
        #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
        let during = try String(contentsOf: world.appendingPathComponent("during-prepare"), encoding: .utf8)
        #expect(during == "True\nTrue\n", "the SES rule read back while preparing: \(during)")
        #expect(try moto.ruleEnabled() == "True")
        let run = try stack.requireLastRunID()
        let prepared = try Shell.run("sqlite3", [stack.journal, "SELECT ended_at FROM steps WHERE run_id = '\(run)' AND phase = 'prepare' AND name = 'build-artifacts'"])
        let disabled = try Shell.run("sqlite3", [stack.journal, "SELECT at FROM events WHERE run_id = '\(run)' AND kind = 'inbound_disabled'"])
        let (end, off) = (try #require(Double(prepared)), try #require(Double(disabled)))
        #expect(end <= off, "inbound went off only after the prepare step ended (\(end) vs \(off))")
        let report = try String(contentsOfFile: "\(stack.state.path)/reports/\(run)/report.md", encoding: .utf8)
        #expect(report.contains("## Inbound mail") && report.contains("prepare"), "\(report)")
    }

    @Test func aFailedPrepareStopsTheRollbackBeforeInboundIsTouched() throws {
        let moto = try MotoFixture()
        let world = try TemporaryDirectory.make(prefix: "world")
        defer { try? FileManager.default.removeItem(at: world) }
        let stack = try StackFixture(Self.descriptor("v1", prepare: "echo cannot build; exit 7"))
        stack.environment.merge(moto.environment) { _, new in new }
        stack.environment["WORLD"] = world.path
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.descriptor("v2", prepare: "true")])
        #expect(try stack.run(["up", "prod"]).status == 0)

        let rollback = try stack.run(["rollback", "prod"])
        #expect(rollback.status == 1, "\(rollback.stdout)\(rollback.stderr)")
        #expect(rollback.stdout.contains("while preparing, before inbound mail was touched") && rollback.stdout.contains("inbound mail was not touched"), "\(rollback.stdout)")
        let run = try stack.requireLastRunID()
        #expect(try Shell.run("sqlite3", [stack.journal, "SELECT count(*) FROM events WHERE run_id = '\(run)' AND kind LIKE 'inbound%'"]) == "0")
        #expect(try moto.ruleEnabled() == "True")
        #expect(!FileManager.default.fileExists(atPath: world.appendingPathComponent("undo-log").path), "nothing was undone")
        #expect(try String(contentsOf: world.appendingPathComponent("app"), encoding: .utf8) == "v2\n")
        let status = try stack.run(["status", "prod"])
        #expect(status.stdout.contains("deployed"), "\(status.stdout)")
    }
}
