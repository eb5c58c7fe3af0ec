import Foundation
import Testing
import TestSupport
@testable import DeployKit

/// One mutating run per environment, Ctrl-C, kill -9 and what the journal says afterwards.
@Suite struct LockSignalCrashTests {
    @Test func twoConcurrentUpsExactlyOneRuns() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: slow
                  shell: '\(StackFixture.gate)'
            """)
        let first = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
        defer { stack.openGate() }  // on every way out
        #expect(first.waitFor("▶ deploy/slow"))
        let second = try stack.run(["up", "prod"])
        stack.openGate()
        #expect(second.status == 3)
        #expect(second.stderr.contains("x/prod is locked by run"))
        #expect(second.stderr.contains("pid \(first.pid)"))
        #expect(second.stderr.contains("next: wait for it: deployctl status x/prod"))
        #expect(second.stderr.contains("deployctl unlock x/prod --force --reason"))
        #expect(first.wait() == 0)
        let runs = try stack.run(["runs", "--format", "json"])
        let all = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]]
        #expect(all?.count == 1)
    }

    @Test func sigintMidStepCancelsReleasesTheLockAndLeavesNoProcess() throws {
        let marker = "271.\(Int.random(in: 100...999))"
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: long
                  shell: "sleep \(marker) & sleep \(marker); wait"
              verify:
                - name: never
                  run: [\"true\"]
            """)
        let up = try BackgroundCLI(["up", "prod", "--grace", "2s"], in: stack.git.path, environment: stack.environment)
        #expect(up.waitFor("▶ deploy/long"))
        #expect(try waitForProcesses(exactly: "sleep \(marker)", count: 2), "both sleeps started")
        kill(up.pid, SIGINT)
        #expect(up.wait() == 130)
        #expect(up.stdout.contains("SIGINT received: stopping running steps"))
        #expect(up.stdout.contains("cancelled — stopped by SIGINT"))
        #expect(try processesMatching("sleep \(marker)").isEmpty)
        let runID = try stack.requireLastRunID()
        let run = try stack.show(runID)
        #expect(run["status"] as? String == "cancelled")
        let steps = run["steps"] as? [[String: Any]]
        #expect(steps?.map { $0["status"] as? String } == ["cancelled"])
        let status = try stack.run(["status", "prod", "--format", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        #expect(object?["lock"] is NSNull)
        // SIGTERM ends the same way with 143.
        let again = try BackgroundCLI(["up", "prod", "--grace", "2s"], in: stack.git.path, environment: stack.environment)
        #expect(again.waitFor("▶ deploy/long"))
        kill(again.pid, SIGTERM)
        #expect(again.wait() == 143)
        // A closed SSH session (SIGHUP) too: 129, the steps stopped, the run recorded as cancelled.
        let hangup = try BackgroundCLI(["up", "prod", "--grace", "2s"], in: stack.git.path, environment: stack.environment)
        #expect(hangup.waitFor("▶ deploy/long"))
        #expect(try waitForProcesses(exactly: "sleep \(marker)", count: 2), "both sleeps started")
        kill(hangup.pid, SIGHUP)
        #expect(hangup.wait() == 129)
        #expect(try processesMatching("sleep \(marker)").isEmpty)
        #expect(try stack.show(try stack.requireLastRunID())["status"] as? String == "cancelled")
    }

    @Test func killDashNineAtTwentyPointsLeavesATrueRecordAndResumeFinishes() throws {
        let steps = (1...6).map { "    - {name: step\($0), idempotent: true, run: [sh, -c, \"sleep 0.1; echo $DEPLOYCTL_RUN_ID step\($0) >> $DEPLOYCTL_STATE/ran\"]}" }
        let stack = try StackFixture("""
            phases:
              deploy:
            \(steps.joined(separator: "\n"))
            """)
        var generator = SystemRandomNumberGenerator()
        var interrupted = 0
        for round in 0..<20 {
            let up = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
            // Timed from the first step's start, not from the spawn: on a loaded machine start-up
            // alone can outlast a fixed delay, and every kill would land before the run exists.
            // The first round kills at once: before (or while) the run is recorded.
            if round > 0 { _ = up.waitFor("▶ deploy/step1") }
            usleep(round == 0 ? 20_000 : UInt32.random(in: 0...600_000, using: &generator))
            kill(up.pid, SIGKILL)
            up.wait()
            guard let runID = try stack.lastRunID() else { continue }  // killed before the run was recorded
            // The next command sees the truth: interrupted (or finished), never "running".
            let status = try stack.run(["status", "prod", "--format", "json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            let last = try #require(object["last_run"] as? [String: Any])
            #expect(last["status"] as? String != "running", "round \(round)")
            let run = try stack.show(runID)
            let recorded = try #require(run["steps"] as? [[String: Any]])
            #expect(!recorded.contains { $0["status"] as? String == "started" }, "round \(round): a step left 'started'")
            if run["status"] as? String == "interrupted" {
                interrupted += 1
                #expect((object["interrupted_runs"] as? [[String: Any]])?.contains { $0["id"] as? String == runID } == true)
                // A step deployctl started may still be finishing on its own: resume waits for it.
                var resumed = try stack.run(["resume", runID])
                for _ in 0..<50 where resumed.stderr.contains("still running outside deployctl") {
                    usleep(100_000)
                    resumed = try stack.run(["resume", runID])
                }
                #expect(resumed.status == 0, "round \(round): \(resumed.stdout)\(resumed.stderr)")
                let finished = try stack.show(runID)
                #expect(finished["status"] as? String == "succeeded")
                #expect((finished["steps"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "succeeded" } == true)
            } else {
                #expect(run["status"] as? String == "succeeded", "round \(round)")
            }
        }
        #expect(interrupted >= 5, "most kills should land mid-run")
    }

    @Test func aMidFlightStepThatIsNotIdempotentNeedsRerunInterruptedToResume() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: charge-cards
                  run: [sleep, "30"]
            """)
        let up = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
        #expect(up.waitFor("▶ deploy/charge-cards"))
        // Kill only once the step's process group is journaled (right after its spawn): a kill
        // before that leaves nothing for resume to check, which is a different test.
        #expect(try stack.waitForStepGroup(step: "charge-cards") != nil)
        kill(up.pid, SIGKILL)
        up.wait()
        let runID = try stack.requireLastRunID()
        let stale = try stack.run(["status", "prod"])
        #expect(stale.stdout.contains("STALE"))
        #expect(stale.stdout.contains("INTERRUPTED up run \(runID)"))

        // Its sleep outlived deployctl: resuming now would run it twice at once.
        let running = try stack.run(["resume", runID, "--rerun-interrupted"])
        #expect(running.status == 4)
        #expect(running.stderr.contains("deploy/charge-cards of run \(runID) is still running outside deployctl (process group"))
        let group = try #require(running.stderr.split(separator: "kill -TERM -").last.flatMap { Int32(String($0.prefix { $0.isNumber })) })
        kill(-group, SIGTERM)
        // Gone, or a zombie nobody reaps (init here never does): either way it cannot run.
        for _ in 0..<250 where ProcessTable.canRun(group) { usleep(20_000) }
        #expect(!ProcessTable.canRun(group))

        // --yes answers confirm: gates only; a step stopped part-way has its own flag.
        for flags in [[], ["--yes"]] {
            let refused = try stack.run(["resume", runID] + flags)
            #expect(refused.status == 4)
            #expect(refused.stderr.contains("deploy/charge-cards was stopped part-way (interrupted) and is not idempotent, and there is no terminal to ask; nothing was run"))
            #expect(refused.stderr.contains("deployctl resume \(runID) --rerun-interrupted"))
        }
        let resumed = try stack.run(["resume", runID, "--rerun-interrupted"])
        #expect(resumed.status == 0, "\(resumed.stdout)")
        let events = try Shell.run("sqlite3", [stack.journal, "SELECT kind FROM events WHERE run_id = '\(runID)' ORDER BY id"])
        #expect(events.contains("lock_stale_taken_over"))
        #expect(events.contains("interrupted_detected"))
        #expect(events.contains("resumed"))
    }

    @Test func unlockNeedsForceAndAReasonAndIsRecorded() throws {
        // Held open until --kill below stops it.
        let stack = try StackFixture("phases:\n  deploy:\n    - {name: slow, shell: '\(StackFixture.gate)'}\n")
        let up = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
        defer { stack.openGate() }  // should --kill not stop it
        #expect(up.waitFor("▶ deploy/slow"))
        let bare = try stack.run(["unlock", "prod"])
        #expect(bare.status == 2)
        #expect(bare.stderr.contains("unlock needs --force and --reason"))
        // The holder is alive on this machine: breaking its lock silently would let a second
        // run start beside it.
        let refused = try stack.run(["unlock", "prod", "--force", "--reason", "testing the break"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("which is still running here (pid \(up.pid)"))
        #expect(refused.stderr.contains("deployctl unlock x/prod --force --reason \"testing the break\" --kill"))
        #expect(up.isRunning)
        let second = try stack.run(["up", "prod"])
        #expect(second.status == 3, "the lock still holds")
        let broken = try stack.run(["unlock", "prod", "--force", "--reason", "testing the break", "--kill"])
        #expect(broken.status == 0, "\(broken.stdout)\(broken.stderr)")
        #expect(broken.stdout.contains("stopped run"))
        #expect(up.wait() == 143, "the holder stopped the way SIGTERM stops a run")
        let runID = try stack.requireLastRunID()
        #expect(try stack.show(runID)["status"] as? String == "cancelled")
        let events = try Shell.run("sqlite3", [stack.journal, "SELECT kind || ' ' || data FROM events WHERE kind IN ('lock_holder_stopped', 'lock_released') ORDER BY id"])
        #expect(events.contains("lock_holder_stopped") && events.contains("testing the break"))
        #expect(events.contains("lock_released"), "it released its own lock on the way out")
    }

    @Test func theJournalIsDurable() throws {
        let stack = try StackFixture("phases:\n  deploy:\n    - {name: a, run: [\"true\"]}\n")
        #expect(try stack.run(["up", "prod"]).status == 0)
        #expect(try Shell.run("sqlite3", [stack.journal, "PRAGMA journal_mode"]) == "wal")
        // Versioned schema migrations, applied in order and recorded.
        let migrations = try Shell.run("sqlite3", [stack.journal, "SELECT identifier FROM grdb_migrations ORDER BY rowid"])
        #expect(migrations.hasPrefix("v1: runs, steps, events, locks\nv2: "))
    }
}

@Suite struct JournalTests {
    @Test func transitionsAreCommittedWithSynchronousFull() throws {
        let dir = try TemporaryDirectory.make(prefix: "journal")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try SQLiteStore(directory: dir.path).synchronousLevel == 2)
    }

    /// The process id of a step is written without its own fdatasync: the connection must be
    /// durable again for everything after it, and the id still read back.
    @Test func aStepsProcessIdLeavesTheJournalDurable() throws {
        let dir = try TemporaryDirectory.make(prefix: "journal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(directory: dir.path)
        try store.createRun(StoreBehaviourTests.run("20231120-000000-0001", at: 0, status: .running))
        let step = try store.stepStarted(runID: "20231120-000000-0001", phase: "deploy", name: "a", attempt: 1, argv: ["true"], logPath: nil)
        try store.stepSpawned(step, pid: 4242, start: 9)
        #expect(store.synchronousLevel == 2)
        #expect(store.pragma("wal_autocheckpoint") == 1000, "checkpoints run again after it")
        #expect(try store.steps(runID: "20231120-000000-0001").first?.pid == 4242)
    }

    /// A journal written while deployctl used GRDB opens as it is: its migrations recognised
    /// (none runs twice), its run, step and log read back, and new runs written beside them.
    @Test func aJournalWrittenWithGRDBOpensAsItIs() throws {
        let dir = try Self.grdbJournal()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(directory: dir.path)
        let run = try #require(try store.runs(RunQuery(target: "app/prod", limit: 10)).first)
        #expect(run.id == "20261201-203543-63c4" && run.kind == .up && run.status == .succeeded && run.revisionSubject == "App 1.0")
        let step = try #require(try store.steps(runID: run.id).first)
        #expect(step.name == "hello" && step.argv == ["echo", "hi"] && step.exitCode == 0 && step.outputTail == "hi\n")
        #expect(try store.log(stepID: step.id).map { $0.size } == 3)
        try store.createRun(StoreBehaviourTests.run("20261202-000000-0001", at: 0))
        #expect(try store.runs(RunQuery(limit: 10)).count == 2)
        #expect(try Shell.run("sqlite3", [dir.path + "/journal.sqlite3", "SELECT count(*) FROM grdb_migrations"]) == "6")
    }

    /// A journal from before a migration gets it once, with the record that it ran.
    @Test func aMigrationMissingFromAnOlderJournalRunsOnce() throws {
        let dir = try Self.grdbJournal()
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = dir.path + "/journal.sqlite3"
        try Shell.run("sqlite3", [journal, "DROP TABLE reviews; DELETE FROM grdb_migrations WHERE identifier = 'v6: reviews'"])
        _ = try SQLiteStore(directory: dir.path)
        _ = try SQLiteStore(directory: dir.path)
        #expect(try Shell.run("sqlite3", [journal, "SELECT count(*) FROM grdb_migrations WHERE identifier = 'v6: reviews'"]) == "1")
        #expect(try Shell.run("sqlite3", [journal, "SELECT count(*) FROM reviews"]) == "0")
    }

    /// `Fixtures/grdb-journal.sql` loaded into a new state directory.
    static func grdbJournal() throws -> URL {
        let dir = try TemporaryDirectory.make(prefix: "journal")
        let dump = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/grdb-journal.sql")
        try Shell.run("sqlite3", [dir.path + "/journal.sqlite3", ".read " + dump.path])
        return dir
    }
}
