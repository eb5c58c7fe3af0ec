import Foundation
import Testing
import TestSupport

/// `deployctl up` with real processes: output, timeouts, retries, parallel steps, secrets.
@Suite struct UpTests {
    @Test func aRunJournalsEveryStepAndPrintsTheNextCommand() throws {
        let stack = try StackFixture("""
            phases:
              preflight:
                - name: hello
                  run: [sh, -c, "echo preflight says hi; echo to stderr >&2"]
              deploy:
                - name: release
                  run: [sh, -c, "echo released $DEPLOYCTL_TARGET at $DEPLOYCTL_REVISION"]
              verify:
                - name: health
                  run: [sh, -c, "echo '{\\"status\\": \\"ok\\", \\"checks\\": {\\"db\\": true}}'"]
                  expect:
                    json: {"$.status": ok, "$.checks.db": "true"}
                    stdout_contains: status
            """)
        let result = try stack.run(["up", "prod"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("hello │ preflight says hi"))
        #expect(result.stdout.contains("hello │ to stderr"))
        #expect(result.stdout.contains("✓ up x/prod at"))
        #expect(result.stdout.contains("next: deployctl show"))
        let runID = try stack.requireLastRunID()
        let run = try stack.show(runID)
        #expect(run["status"] as? String == "succeeded")
        #expect(run["revision"] as? String == (try stack.git.git(["rev-parse", "HEAD"])))
        let steps = try #require(run["steps"] as? [[String: Any]])
        #expect(steps.map { "\($0["phase"]!)/\($0["name"]!)" } == ["preflight/hello", "deploy/release", "verify/health"])
        #expect(steps.allSatisfy { $0["status"] as? String == "succeeded" && $0["exit_code"] as? Int == 0 && $0["attempts"] as? Int == 1 })
        let logs = try stack.run(["logs", runID, "release"])
        #expect(logs.stdout.contains("released x/prod at"))
    }

    /// The CLI leaves by `exit`, which closes nothing: `up` closes the journal itself, so its
    /// writes are copied into the database file and the write-ahead log left empty. Else the
    /// next command (a `status`) replays the log to open the file and copies it at its close.
    @Test func upLeavesTheJournalsWriteAheadLogCopiedBackAndEmpty() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - {name: release, run: ["true"]}
                - {name: check, run: [sh, -c, "exit $FAIL"], env: {FAIL: "${inputs.fail}"}}
            inputs:
              fail: {default: "0"}
            """)
        let wal = stack.journal + "-wal"
        for (fail, status) in [("0", Int32(0)), ("3", Int32(1))] {
            let result = try stack.run(["up", "prod", "--input", "fail=\(fail)", "--no-rollback"])
            #expect(result.status == status, "\(result.stdout)\(result.stderr)")
            let size = try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int
            #expect(size == 0, "after an up that exited \(result.status), the write-ahead log holds \(size ?? -1) bytes")
        }
        // What the log held is in the database file now.
        #expect(try stack.show(try stack.requireLastRunID())["status"] as? String == "failed")
    }

    @Test func aFailedExpectationFailsTheRunWithTheReasonAndNextCommands() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: release
                  run: [sh, -c, "echo '{\\"status\\": \\"degraded\\"}'; exit 3"]
                  expect:
                    exit: [0, 3]
                    json: {"$.status": ok}
              postdeploy:
                - name: never
                  run: [touch, never-ran]
            """)
        let result = try stack.run(["up", "prod"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ deploy/release"))
        #expect(result.stdout.contains("$.status is degraded, expected ok"))
        #expect(result.stdout.contains("next: read the output: deployctl logs"))
        #expect(result.stdout.contains("next: after fixing the cause: deployctl resume"))
        let run = try stack.show(try stack.requireLastRunID())
        #expect(run["status"] as? String == "failed")
        #expect((run["steps"] as? [[String: Any]])?.count == 1)
    }

    @Test func retriesBackOffAndAreJournaledAsAttempts() throws {
        let stack = try StackFixture("""
            phases:
              verify:
                - name: flaky
                  run: [sh, -c, "n=$(cat $DEPLOYCTL_STATE/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > $DEPLOYCTL_STATE/count; [ $n -ge 3 ]"]
                  retries: 3
                  backoff: 10ms
            """)
        let result = try stack.run(["up", "prod"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("will be retried in 10ms (attempt 2 of 4)"))
        #expect(result.stdout.contains("will be retried in 20ms (attempt 3 of 4)"))
        let steps = try #require(try stack.show(try stack.requireLastRunID())["steps"] as? [[String: Any]])
        #expect(steps.first?["attempts"] as? Int == 3)
        #expect(steps.first?["status"] as? String == "succeeded")
    }

    @Test func aTimeoutKillsTheWholeProcessGroupIncludingGrandchildren() throws {
        let marker = "317.\(Int.random(in: 100...999))"
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: hangs
                  timeout: 3s
                  shell: "sleep \(marker) & (trap '' TERM; sleep \(marker)) & sleep \(marker); wait"
            """)
        let up = try BackgroundCLI(["up", "prod", "--grace", "300ms"], in: stack.git.path, environment: stack.environment)
        // All three were running (one of them deaf to SIGTERM) before the timeout came.
        #expect(try waitForProcesses(exactly: "sleep \(marker)", count: 3))
        #expect(up.wait() == 1)
        #expect(up.stdout.contains("timed out after 3s; its process group got SIGTERM"))
        #expect(try processesMatching("sleep \(marker)").isEmpty, "grandchildren survived the timeout")
        let steps = try #require(try stack.show(try stack.requireLastRunID())["steps"] as? [[String: Any]])
        #expect(steps.first?["status"] as? String == "timed_out")
    }

    @Test func stepsWithoutNeedsRunInOrderAndNeedsRunThemTogether() throws {
        // 3 s each: all eight must have started (and been journaled) before the first ends,
        // on a loaded machine too.
        let parallel = (1...8).map { "    - {name: s\($0), needs: [], run: [sleep, \"3\"]}" }.joined(separator: "\n")
        let stack = try StackFixture("""
            phases:
              verify:
            \(parallel)
                - name: after-all
                  run: [\"true\"]
            """)
        let result = try stack.run(["up", "prod", "--parallel", "8"])
        #expect(result.status == 0, "\(result.stdout)")
        // All eight were running at once: each started before any of them ended.
        let journal = try Shell.run("sqlite3", [stack.journal, "SELECT max(started_at) < min(ended_at) FROM steps WHERE name LIKE 's%'"])
        #expect(journal == "1")
        let order = try Shell.run("sqlite3", [stack.journal, "SELECT name FROM steps ORDER BY id DESC LIMIT 1"])
        #expect(order == "after-all")
    }

    @Test func aSecretCanaryAppearsNowhere() throws {
        let canary = "canary-\(UUID().uuidString.prefix(8))"
        let stack = try StackFixture("""
            secrets:
              TOKEN: {env: X_TOKEN}
            phases:
              deploy:
                - name: leaky
                  run: [sh, -c, "echo token=$TOKEN; echo $1 >&2; echo half$${TOKEN}half; exit 1", sh, "${secrets.TOKEN}"]
                  env: {TOKEN: "${secrets.TOKEN}"}
            """)
        stack.environment["X_TOKEN"] = canary
        let result = try stack.run(["up", "prod"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("token=••••"))
        #expect(result.stdout.contains("half••••half"))
        for text in [result.stdout, result.stderr] { #expect(!text.contains(canary)) }
        let json = try stack.run(["up", "prod", "--format", "json"])
        #expect(!json.stdout.contains(canary) && !json.stderr.contains(canary))
        #expect(try stack.stateFiles(containing: canary).isEmpty)
        let show = try stack.run(["show", try stack.requireLastRunID(), "--format", "json"])
        #expect(!show.stdout.contains(canary))
        #expect(show.stdout.contains("••••"))
    }

    @Test func aConfirmGateStopsWithoutATerminalAndYesAnswersIt() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: risky
                  confirm: Really?
                  run: [\"true\"]
            """)
        let refused = try stack.run(["up", "prod"])
        #expect(refused.status == 4)
        #expect(refused.stdout.contains("asks \"Really?\" and there is no terminal to answer; nothing of it ran"))
        let runID = try stack.requireLastRunID()
        #expect(refused.stdout.contains("deployctl resume \(runID) --yes"))
        let resumed = try stack.run(["resume", runID, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)")
        #expect(try stack.show(runID)["status"] as? String == "succeeded")
    }

    /// With a good revision behind it, an unanswered gate is still a stop that waits for an
    /// answer, not a failure: before, the automatic rollback took it as one (in CI, every
    /// deploy through a gate rolled back, a database restore with it, and the `resume --yes`
    /// it printed was then refused).
    @Test func anUnansweredGateAfterAGoodDeployWaitsAndDoesNotRollBack() throws {
        let descriptor = """
            phases:
              deploy:
                - name: ship
                  run: [sh, -c, "echo REV >> $DEPLOYCTL_STATE/shipped"]
                - name: risky
                  confirm: Really?
                  run: [\"true\"]
            """
        let stack = try StackFixture(descriptor.replacingOccurrences(of: "REV", with: "one"))
        #expect(try stack.run(["up", "prod", "--yes"]).status == 0)
        try stack.git.commit("two", files: ["stacks/x/prod.yaml": descriptor.replacingOccurrences(of: "REV", with: "two")])
        let refused = try stack.run(["up", "prod"])
        #expect(refused.status == 4, "\(refused.stdout)")
        #expect(!refused.stdout.contains("rolling back automatically"), "\(refused.stdout)")
        let runID = try stack.requireLastRunID()
        #expect(try stack.show(runID)["kind"] as? String == "up", "no rollback run after it")
        #expect(try String(contentsOfFile: stack.state.path + "/shipped", encoding: .utf8) == "one\ntwo\n")
        let resumed = try stack.run(["resume", runID, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try stack.show(runID)["status"] as? String == "succeeded")

        // A run admitted with --allow-bad-revision resumes: the mark is older than the run.
        #expect(try stack.run(["rollback", "prod"]).status == 0, "two is marked bad")
        let again = try stack.run(["up", "prod", "--allow-bad-revision"])
        #expect(again.status == 4, "\(again.stdout)\(again.stderr)")
        let allowed = try stack.requireLastRunID()
        let finished = try stack.run(["resume", allowed, "--yes"])
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")
    }

    /// Ctrl-D at a confirm prompt on a terminal is the default the prompt shows ([y/N]): no.
    /// It is not "nobody to ask", which for a rollback's restore question means restore.
    @Test func endOfInputAtAPromptOnATerminalAnswersNo() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: risky
                  confirm: Really?
                  run: [sh, -c, "echo ran > $DEPLOYCTL_STATE/risky-ran"]
            """)
        // A pseudo-terminal on stdin, stdout and stderr; Ctrl-D once the question is asked.
        let driver = """
            import os, pty, sys, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            seen, deadline = b"", time.time() + 60
            while b"[y/N]" not in seen and time.time() < deadline:
                try: seen += os.read(fd, 4096)
                except OSError: break
            os.write(fd, b"\\x04")
            while True:
                try:
                    chunk = os.read(fd, 4096)
                    if not chunk: break
                    seen += chunk
                except OSError: break
            status = os.waitpid(pid, 0)[1]
            sys.stdout.write(seen.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let result = try Shell.capture("python3", ["-c", driver, CLI.binary, "up", "prod"],
                                       environment: stack.environment.merging(["DEPLOYCTL_REPO": "", "DEPLOYCTL_STATE": ""]) { a, _ in a },
                                       directory: stack.git.path)
        #expect(result.stdout.contains("[y/N]"), "the question was asked: \(result.stdout)")
        #expect(!result.stdout.contains("no terminal to answer"), "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: stack.state.path + "/risky-ran"), "the gated step did not run")
        #expect(try stack.show(try stack.requireLastRunID())["status"] as? String == "cancelled", "declined")
    }

    @Test func aMissingCommandIsAClearFailure() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: pulumi-up
                  run: [no-such-cli-xyz, up]
            """)
        let result = try stack.run(["up", "prod"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("command not found: no-such-cli-xyz"))
    }

    @Test func dryRunPrintsThePlanAndRecordsNothing() throws {
        let stack = try StackFixture("phases:\n  deploy:\n    - {name: a, run: [\"true\"]}\n")
        let result = try stack.run(["up", "prod", "--dry-run"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("dry run: nothing ran"))
        #expect(!FileManager.default.fileExists(atPath: stack.journal))
    }

    @Test func stepsRunInTheExportedTreeOfThePinnedCommit() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: read
                  run: [cat, tools/version.txt]
                  expect: {stdout_contains: committed}
            """, files: ["tools/version.txt": "committed\n"])
        try stack.git.write("tools/version.txt", "uncommitted edit\n")
        let result = try stack.run(["up", "prod"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("read │ committed"))
    }
}

@Suite struct OutputFloodTests {
    /// 200 MB of output (and a 5 MB line) go to the log file; deployctl's memory stays bounded:
    /// the flood adds under 10 MB to the peak of the same binary running one quiet step (a debug
    /// build's own pages are most of its RSS; `make bench` gives the release figure).
    @Test func aStepWriting200MBKeepsMemoryBounded() throws {
        let quiet = try StackFixture("phases:\n  deploy:\n    - {name: quiet, run: [/bin/true]}\n")
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: flood
                  run: [python3, -c, "import sys\\nblock = ('x' * 99 + '\\\\n') * 10000\\nfor _ in range(200): sys.stdout.write(block)"]
                - name: longline
                  run: [python3, -c, "import sys; sys.stdout.write('y' * 5000000)"]
            """)
        func peak(_ stack: StackFixture) throws -> Int {
            let measured = try Shell.capture("/usr/bin/time", ["-f", "maxrss_kb=%M", "sh", "-c", "exec \"$0\" up prod > /dev/null", CLI.binary],
                                             environment: stack.environment.merging(["DEPLOYCTL_REPO": ""]) { a, _ in a }, directory: stack.git.path)
            #expect(measured.status == 0, "\(measured.stderr)")
            let line = try #require(measured.stderr.split(separator: "\n").last { $0.hasPrefix("maxrss_kb=") })
            return try #require(Int(line.dropFirst("maxrss_kb=".count)))
        }
        let baseline = try peak(quiet), kilobytes = try peak(stack)
        #expect(kilobytes - baseline < 10 * 1024, "peak RSS \(kilobytes) KB with the flood, \(baseline) KB with one quiet step")
        let runID = try stack.requireLastRunID()
        let logs = try FileManager.default.contentsOfDirectory(atPath: stack.state.path + "/logs/" + runID)
        let size = try FileManager.default.attributesOfItem(atPath: stack.state.path + "/logs/\(runID)/deploy.flood.1.log")[.size] as? NSNumber
        #expect(size?.intValue == 200_000_000)
        #expect(logs.count == 2)
        // The journal keeps only the last 64 KiB of each step's output.
        let tail = try Shell.run("sqlite3", [stack.journal, "SELECT length(output_tail) FROM steps WHERE name = 'flood'"])
        #expect(tail == "65536")
    }
}

@Suite struct EventStreamTests {
    @Test func formatJSONPrintsOneEventPerLine() throws {
        let stack = try StackFixture("""
            inputs:
              mode: {default: compose}
            phases:
              deploy:
                - name: compose
                  when: inputs.mode == "compose"
                  run: [echo, up]
                - name: helm
                  when: inputs.mode == "helm"
                  run: [echo, helm]
            """)
        let result = try stack.run(["up", "prod", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let events = try result.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(events.map { $0["event"] as? String } == ["run_started", "step_started", "output", "step_finished", "step_skipped", "run_finished"])
        let runID = try stack.requireLastRunID()
        #expect(events[0]["run"] as? String == runID, "the run id is known from the first line on")
        #expect(events[2]["line"] as? String == "up")
        #expect(events[3]["status"] as? String == "succeeded")
        #expect(events[4]["reason"] as? String == "when inputs.mode == \"helm\" is false")
        #expect(events[5]["status"] as? String == "succeeded")
        #expect(events[5]["exit_code"] as? Int == 0)
        // Times are RFC 3339 UTC, the same in every line and every JSON output.
        for event in events {
            #expect((event["time"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(event)")
        }
        let show = try stack.show(try stack.requireLastRunID())
        #expect((show["steps"] as? [[String: Any]])?.map { $0["status"] as? String } == ["succeeded", "skipped"])
    }

    @Test func logsFollowPrintsOutputWhileTheRunGoes() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: ticks
                  shell: '\(StackFixture.gate); for i in 1 2 3; do echo tick $i; sleep 0.3; done'
            """)
        let up = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
        defer { stack.openGate() }  // on every way out
        #expect(up.waitFor("▶ deploy/ticks"))
        let runID = try stack.requireLastRunID()
        // Silent until the gate opens, the step has no log file yet: its header still shows,
        // at once and once.
        let early = try stack.run(["logs", runID]).stdout
        #expect(early.hasPrefix("==> deploy/ticks attempt 1 (started) <==\n") && early.components(separatedBy: "==>").count == 2, "\(early)")
        stack.openGate()
        let follow = try stack.run(["logs", runID, "--follow"])
        #expect(up.wait() == 0)
        #expect(follow.stdout.components(separatedBy: "==> deploy/ticks attempt 1").count == 2, "\(follow.stdout)")
        #expect(follow.stdout.contains("tick 1\ntick 2\ntick 3\n"))
    }

    @Test func aStepThatPrintsNothingLeavesNoLogFileAndAnEmptyLog() throws {
        let stack = try StackFixture("""
            phases:
              deploy:
                - name: quiet
                  run: ["true"]
                - name: speaks
                  run: [echo, spoken]
            """)
        #expect(try stack.run(["up", "prod"]).status == 0)
        let runID = try stack.requireLastRunID()
        let files = try FileManager.default.contentsOfDirectory(atPath: stack.state.path + "/logs/\(runID)")
        #expect(files == ["deploy.speaks.1.log"], "only a step that printed something has a file")
        let quiet = try stack.run(["logs", runID, "quiet"])
        #expect(quiet.status == 0 && quiet.stdout == "==> deploy/quiet attempt 1 (succeeded) <==\n", "\(quiet.stdout)\(quiet.stderr)")
        #expect(try stack.run(["logs", runID, "speaks"]).stdout.contains("spoken\n"))
    }
}
