import Foundation
import Testing
import TestSupport

/// Steps on servers over ssh: three real sshd instances on loopback (one per host), keys and
/// known_hosts made here, one ssh-agent. Every host writes into `out/`, named by its host.
@Suite(.serialized) struct HostsTests {
    let hosts: [SSHDFixture]
    let out: URL

    init() throws {
        let first = try SSHDFixture()
        hosts = [first, try SSHDFixture(sharing: first), try SSHDFixture(sharing: first)]
        out = try TemporaryDirectory.make(prefix: "hosts-out")
    }

    var knownHosts: String {
        hosts.map { "[127.0.0.1]:\($0.port) \($0.hostKey)\n" }.joined()
    }

    /// web1..web3 on the three servers; `release` rolls out with a canary and one host at a
    /// time, failing on a host while `out/fail-HOST` exists; `health` verifies each host.
    /// `held`: that host's release waits until `out/go` exists (while `out/` does, ~2 minutes
    /// at most).
    func descriptor(_ version: String, previous: String = "none", canary: Int = 1, maxParallel: Int = 1, slow: Bool = false,
                    held: String? = nil, between: String? = nil) -> String {
        let hold = held.map { #"if [ "$DEPLOYCTL_HOST" = \#($0) ]; then \#(StackFixture.waitForFile("$OUT/go", while: "$OUT")); fi; "# } ?? ""
        let inventory = hosts.enumerated().map { "  web\($0.offset + 1): {address: 127.0.0.1, port: \($0.element.port), roles: [web]}" }
        return """
        secrets:
          TOKEN: {env: X_TOKEN}
        hosts:
        \(inventory.joined(separator: "\n"))
        ssh:
          known_hosts: ssh/known_hosts
        phases:
          deploy:
            - name: release
              on: web
              canary: \(canary)
              max_parallel: \(maxParallel)\(between.map { "\n      between_waves: \($0)" } ?? "")
              env: {OUT: "\(out.path)", TOKEN: "${secrets.TOKEN}"}
              run: [sh, -c, '\(hold)\(slow ? "sleep 1; " : "")test ! -e "$OUT/fail-$DEPLOYCTL_HOST" && test -n "$TOKEN" && echo \(version) > "$OUT/$DEPLOYCTL_HOST" && echo "$DEPLOYCTL_HOST" >> "$OUT/order" && echo "release $DEPLOYCTL_HOST" >> "$OUT/timeline" && echo "released \(version) on $DEPLOYCTL_HOST"']
              rollback: [sh, -c, 'echo \(previous) > "$OUT/$DEPLOYCTL_HOST" && echo "$DEPLOYCTL_HOST" >> "$OUT/undo"']
          verify:
            - name: health
              on: web
              env: {OUT: "\(out.path)"}
              run: [sh, -c, 'grep -q \(version) "$OUT/$DEPLOYCTL_HOST" && echo "$DEPLOYCTL_HOST" >> "$OUT/checked" && echo "health $DEPLOYCTL_HOST" >> "$OUT/timeline"']
        """
    }

    func stack(_ version: String = "v1", knownHosts: String? = nil, slow: Bool = false, held: String? = nil) throws -> StackFixture {
        let stack = try StackFixture(descriptor(version, slow: slow, held: held), files: ["ssh/known_hosts": knownHosts ?? self.knownHosts])
        stack.environment["SSH_AUTH_SOCK"] = hosts[0].agentSocket
        stack.environment["X_TOKEN"] = "hostcanary-\(UUID().uuidString.prefix(8))"
        return stack
    }

    func lines(_ file: String) -> [String] {
        ((try? String(contentsOfFile: out.path + "/" + file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func steps(_ stack: StackFixture, _ runID: String) throws -> [String: [String: Any]] {
        let steps = try #require(try stack.show(runID)["steps"] as? [[String: Any]])
        return Dictionary(steps.map { ("\($0["phase"] ?? "")/\($0["name"] ?? "")", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func aRollingDeployWithACanaryRunsHostByHostWithTheCanaryVerifiedFirst() throws {
        let stack = try stack()
        let sampler = ProcessListSampler()
        let up = try stack.run(["up", "prod"])
        let seen = sampler.stop()
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        #expect(lines("order") == ["web1", "web2", "web3"])
        // The canary's health check ran before web2 was touched, then every host's in verify.
        let timeline = lines("timeline")
        #expect(Array(timeline.prefix(3)) == ["release web1", "health web1", "release web2"], "\(timeline)")
        #expect(lines("checked").sorted() == ["web1", "web1", "web2", "web3"])
        let id = try stack.requireLastRunID()
        let recorded = try steps(stack, id)
        for name in ["deploy/release@web1", "deploy/release.canary.health@web1", "deploy/release@web2", "deploy/release@web3",
                     "verify/health@web1", "verify/health@web2", "verify/health@web3"] {
            #expect(recorded[name]?["status"] as? String == "succeeded", "\(name): \(String(describing: recorded[name]))")
        }
        // The secret went on stdin: in no process list (ssh's, the remote sh's), not in the journal.
        let secret = stack.environment["X_TOKEN"]!
        #expect(!seen.contains { $0.contains(secret) }, "the secret stood in a process list")
        #expect(sampler.sweeps > 5)
        #expect(try stack.stateFiles(containing: secret).isEmpty)
        // Per-host output: logs STEP --host H.
        let logs = try stack.run(["logs", id, "release", "--host", "web2"])
        #expect(logs.status == 0, "\(logs.stderr)")
        #expect(try stack.run(["plan", "prod"]).stdout.contains("on web: web1 (canary), then web2, then web3"))
        // The report's hosts × steps table.
        let report = try String(contentsOfFile: stack.state.path + "/reports/\(id)/report.md", encoding: .utf8)
        #expect(report.contains("| Step | web1 | web2 | web3 |") && report.contains("| deploy/release | ✓ | ✓ | ✓ |")
                && report.contains("| deploy/release.canary.health | ✓ | — | — |"), "\(report)")
        // One connection per host, reused: web1 ran release, the canary check and health over it.
        let sshdLog = try String(contentsOfFile: hosts[0].directory.path + "/sshd.log", encoding: .utf8)
        #expect(sshdLog.components(separatedBy: "Accepted publickey").count - 1 == 1, "\(sshdLog)")
    }

    @Test func aFailedHostStopsTheRolloutStatusShowsTheMixedHostsAndResumeRunsOnlyWhatDidNotSucceed() throws {
        let stack = try stack()
        #expect(try stack.run(["up", "prod"]).status == 0)
        let v1 = try stack.git.git(["rev-parse", "HEAD"])
        let v2 = try stack.git.commit("v2", files: ["stacks/x/prod.yaml": descriptor("v2", previous: "v1")])
        FileManager.default.createFile(atPath: out.path + "/fail-web2", contents: nil)
        let up = try stack.run(["up", "prod", "--no-rollback"])
        #expect(up.status == 1)
        #expect(up.stdout.contains("release@web2"))
        #expect(lines("order") == ["web1", "web2", "web3", "web1"], "web3 is untouched after web2 failed")
        #expect(lines("web1") == ["v2"] && lines("web3") == ["v1"])
        let id = try stack.requireLastRunID()
        #expect(try steps(stack, id)["deploy/release@web3"]?["status"] as? String != "succeeded")
        let json = try String(contentsOfFile: stack.state.path + "/reports/\(id)/report.json", encoding: .utf8)
        let table = try #require((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["hosts"] as? [String: Any])
        #expect(table["hosts"] as? [String] == ["web1", "web2", "web3"])
        #expect((table["statuses"] as? [[String]])?.first == ["succeeded", "failed", ""])

        // Which revision each host runs, as it is: mixed.
        let hosts = try #require(try StackFixture.json(try stack.run(["status", "prod", "--format", "json"]))["hosts"] as? [[String: Any]])
        #expect(hosts.map { "\($0["host"]!)=\($0["revision"]!)" } == ["web1=\(v2)", "web2=\(v1)", "web3=\(v1)"])
        #expect(try stack.run(["status", "prod"]).stdout.contains("MIXED"))

        try FileManager.default.removeItem(atPath: out.path + "/fail-web2")
        let resume = try stack.run(["resume", id])
        #expect(resume.status == 0, "\(resume.stdout)\(resume.stderr)")
        #expect(lines("order") == ["web1", "web2", "web3", "web1", "web2", "web3"], "web1 did not run again")
        let status = try StackFixture.json(try stack.run(["status", "prod", "--format", "json"]))
        #expect(status["state"] as? String == "deployed")
        #expect((status["hosts"] as? [[String: Any]])?.allSatisfy { $0["revision"] as? String == v2 } == true)
    }

    @Test func betweenWavesAConfirmNobodyCanAnswerStopsAfterTheCanaryAndYesGoesOnAfterThePause() throws {
        let stack = try StackFixture(descriptor("v1", canary: 1, maxParallel: 2, between: "{confirm: \"Roll out to the other hosts?\", pause: 1s}"),
                                     files: ["ssh/known_hosts": knownHosts])
        stack.environment["SSH_AUTH_SOCK"] = hosts[0].agentSocket
        stack.environment["X_TOKEN"] = "hostcanary-\(UUID().uuidString.prefix(8))"
        #expect(try stack.run(["plan", "prod"]).stdout.contains("on web: web1 (canary), then web2 + web3; between waves it asks \"Roll out to the other hosts?\" and waits 1s"))
        let unattended = try stack.run(["up", "prod"])
        #expect(unattended.status == 4, "no terminal to answer: \(unattended.stdout)\(unattended.stderr)")
        #expect(lines("order") == ["web1"])
        let id = try stack.requireLastRunID()
        let resumed = try stack.run(["resume", id, "--yes"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(lines("order").first == "web1" && lines("order").dropFirst().sorted() == ["web2", "web3"])
        let gate = try steps(stack, id)["deploy/release.wave#2"]
        #expect(gate?["status"] as? String == "succeeded" && (gate?["argv"] as? [String]) == ["sleep", "1"], "\(String(describing: gate))")
    }

    @Test func aRollbackUndoesOnEveryHostNewestFirst() throws {
        let stack = try stack()
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": descriptor("v2", previous: "v1")])
        #expect(try stack.run(["up", "prod"]).status == 0)
        let back = try stack.run(["rollback", "prod"])
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        #expect(lines("undo") == ["web3", "web2", "web1"])
        for host in ["web1", "web2", "web3"] { #expect(lines(host) == ["v1"]) }
    }

    @Test func aHostWhoseKeyDoesNotMatchIsRefused() throws {
        var known = knownHosts.split(separator: "\n").map(String.init)
        let wrong = try String(contentsOfFile: hosts[1].wrongKnownHosts, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        known[1] = wrong
        let stack = try stack(knownHosts: known.joined(separator: "\n") + "\n")
        let up = try stack.run(["up", "prod", "--no-rollback"])
        #expect(up.status == 1)
        #expect(lines("order") == ["web1"])
        let id = try stack.requireLastRunID()
        let logs = try stack.run(["logs", id, "release", "--host", "web2"])
        #expect(logs.stdout.contains("Host key verification failed") || logs.stdout.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"), "\(logs.stdout)")
    }

    /// `--state` given relative to where deployctl starts: ssh runs in the exported tree, so a
    /// relative tree path made every new connection's known_hosts "not found" (seen in the bench).
    @Test func aRelativeStateDirectoryStillFindsTheStacksKnownHosts() throws {
        let stack = try stack()
        var environment = stack.environment
        environment["DEPLOYCTL_STATE"] = nil
        let up = try CLI.run(["up", "prod", "--repo", stack.git.path, "--state", stack.state.lastPathComponent],
                             in: stack.state.deletingLastPathComponent().path, environment: environment)
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        #expect(lines("order") == ["web1", "web2", "web3"])
    }

    /// The `ssh` client processes on this machine, by argv, that reach one of the test's hosts.
    func sshClients() -> [String] {
        let ports = Set(hosts.map { "\($0.port)" })
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { $0.allSatisfy(\.isNumber) } ?? []
        return pids.compactMap { pid in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let argv = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard argv.first == "ssh", let p = argv.firstIndex(of: "-p"), p + 1 < argv.count, ports.contains(argv[p + 1]) else { return nil }
            return argv.joined(separator: " ")
        }
    }

    /// Once a host's master connection is up, a step's session opens through the master's
    /// socket: no `ssh` client starts (each costs ~6 ms of CPU), no new connection either, and
    /// output, exit statuses and the liveness `resume` reads still come through.
    @Test func aWarmHostStepOpensItsSessionThroughTheMasterWithoutAnSSHClient() throws {
        let stack = try stack()
        #expect(try stack.run(["up", "prod"]).status == 0)
        #expect(lines("order") == ["web1", "web2", "web3"])
        let accepted = { self.hosts.map { (try? String(contentsOfFile: $0.directory.path + "/sshd.log", encoding: .utf8))?.components(separatedBy: "Accepted publickey").count ?? 0 } }
        let connections = accepted()
        #expect(connections.allSatisfy { $0 == 2 }, "each host's log shows the first run's one connection: \(connections)")

        _ = try stack.git.commit("v2", files: ["stacks/x/prod.yaml": descriptor("v2", previous: "v1", slow: true)])
        FileManager.default.createFile(atPath: out.path + "/fail-web3", contents: nil)
        let up = try BackgroundCLI(["up", "prod", "--no-rollback"], in: stack.git.path, environment: stack.environment)
        var clients: Set<String> = [], stepGroups: Set<String> = []
        while up.isRunning {
            clients.formUnion(sshClients())
            // The step's process group, as the journal records it for `resume`, is alive while it runs.
            let started = (try? Shell.run("sqlite3", [stack.journal, "SELECT name || ' ' || pid FROM steps WHERE status = 'started' AND pid IS NOT NULL"])) ?? ""
            for line in started.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let pid = pid_t(parts[1]), kill(-pid, 0) == 0 { stepGroups.insert(String(parts[0])) }
            }
            usleep(30_000)
        }
        #expect(up.wait() == 1)
        #expect(clients.isEmpty, "ssh clients started for warm hosts: \(clients)")
        #expect(accepted() == connections, "no new ssh connection")
        #expect(!stepGroups.isEmpty, "a running step's process group is in the journal")
        #expect(lines("order") == ["web1", "web2", "web3", "web1", "web2"])
        let id = try stack.requireLastRunID()
        let steps = try steps(stack, id)
        #expect(steps["deploy/release@web3"]?["exit_code"] as? Int == 1, "the remote exit status: \(steps["deploy/release@web3"] ?? [:])")
        #expect(steps["deploy/release@web1"]?["exit_code"] as? Int == 0)
        let logs = try stack.run(["logs", id, "release", "--host", "web2"])
        #expect(logs.stdout.contains("released v2 on web2"), "\(logs.stdout)")
    }

    /// A warm host's step that outlives its `timeout:` is stopped like a local one, on the host
    /// too: sshd signals nothing there, so the wrapper deployctl runs it under (`SSHRemote.supervised`)
    /// sends it SIGTERM when deployctl stops the step, and deployctl waits for its shutdown (here
    /// a TERM trap that takes 1 s) before the retry starts. The retry finds the first attempt
    /// gone, and the process holding the session leaves nothing on this machine. The timeout
    /// counts from the session's opening: 1 s once ran out in a loaded CI run before the remote
    /// shell had printed, so it is 5 s.
    @Test func aTimeoutStopsTheRemoteCommandAndItsShutdownEndsBeforeTheRetry() throws {
        let stack = try stack()
        #expect(try stack.run(["up", "prod"]).status == 0)
        let attempt = """
            if [ -e "$OUT/first" ]; then kill -0 "$(cat "$OUT/first")" 2>/dev/null && echo overlap > "$OUT/overlap"; exit 0; fi
            echo $$ > "$OUT/first"
            trap 'sleep 1; echo cleaned > "$OUT/cleaned"; exit 0' TERM
            echo begun
            while :; do sleep 0.1; done
            """
        let hanging = """
            hosts:
              web1: {address: 127.0.0.1, port: \(hosts[0].port)}
            ssh:
              known_hosts: ssh/known_hosts
            phases:
              deploy:
                - name: hang
                  on: all
                  timeout: 5s
                  retries: 1
                  backoff: 0s
                  env: {OUT: "\(out.path)"}
                  run:
                    - sh
                    - -c
                    - |
            \(attempt.split(separator: "\n").map { "              " + $0 }.joined(separator: "\n"))
            """
        _ = try stack.git.commit("hang", files: ["stacks/x/prod.yaml": hanging])
        let started = Date()
        let up = try stack.run(["up", "prod", "--no-rollback"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        #expect(Date().timeIntervalSince(started) < 45, "stopped at its timeout")
        #expect(lines("cleaned") == ["cleaned"], "deployctl waited for the remote command's own shutdown")
        #expect(lines("overlap").isEmpty, "the retry ran beside the first attempt")
        let firstPid = try #require(pid_t(lines("first").first ?? ""))
        #expect(kill(firstPid, 0) != 0, "the first attempt is gone from the host")
        let id = try stack.requireLastRunID()
        #expect(try stack.run(["logs", id, "hang", "--host", "web1"]).stdout.contains("begun"))
        let shown = try #require(try stack.show(id)["steps"] as? [[String: Any]])
        let attempts = shown.filter { $0["name"] as? String == "hang@web1" }
        #expect(attempts.first?["attempts"] as? Int == 2 && attempts.first?["status"] as? String == "succeeded", "\(attempts)")
        let first = try Shell.run("sqlite3", [stack.journal, "SELECT status, pid FROM steps WHERE run_id = '\(id)' AND name = 'hang@web1' AND attempt = 1"])
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|")
        #expect(first.first == "timed_out", "\(first)")
        let pid = try #require(first.last.flatMap { pid_t($0) })
        #expect(kill(-pid, 0) != 0, "the session's process group is gone")
        #expect(sshClients().isEmpty)
    }

    @Test func killedMidWaveThenResumedFinishesOnlyWhatWasLeft() throws {
        let stack = try stack(held: "web2")
        let go = out.path + "/go"
        let up = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
        defer { FileManager.default.createFile(atPath: go, contents: nil) }  // on every way out
        #expect(up.waitFor("▶ deploy/release@web2"))
        // Held mid-wave, its session journaled first (just after its spawn): killed before that,
        // it would be an orphan nobody knows of, and resume would run web2 again beside it.
        #expect(try stack.waitForStepGroup(step: "release@web2") != nil)
        kill(up.pid, SIGKILL)
        up.wait()
        FileManager.default.createFile(atPath: go, contents: nil)
        let id = try stack.requireLastRunID()
        // web2's session finishes on its own; resume refuses (rightly) while it still runs.
        #expect(try stack.waitForStepGroupToEnd(run: id, step: "release@web2"))
        let resume = try stack.run(["resume", id, "--rerun-interrupted"])
        #expect(resume.status == 0, "\(resume.stdout)\(resume.stderr)")
        #expect(lines("order").first == "web1" && lines("order").filter { $0 == "web1" }.count == 1, "\(lines("order"))")
        #expect(lines("order").last == "web3")
    }

    // MARK: Kept releases

    /// `release:` on the three hosts (under each one's $HOSTROOT), keep 2; `upload:` copies the
    /// committed VERSION file into the release, health reads it through `current`.
    func releasing(_ version: String) -> String {
        let inventory = hosts.enumerated().map { "  web\($0.offset + 1): {address: 127.0.0.1, port: \($0.element.port), roles: [web]}" }
        return """
        hosts:
        \(inventory.joined(separator: "\n"))
        ssh:
          known_hosts: ssh/known_hosts
        release: {path: $HOSTROOT/app, keep: 2, on: web, canary: 1, max_parallel: 1}
        phases:
          deploy:
            - name: upload
              on: web
              upload: {files: [VERSION]}
          verify:
            - name: health
              on: web
              run: [sh, -c, 'grep -q \(version) "$HOSTROOT/app/current/VERSION"']
        """
    }

    func releaseStack() throws -> (StackFixture, [String]) {
        let stack = try StackFixture(releasing("v1"), files: ["ssh/known_hosts": knownHosts, "VERSION": "v1\n"])
        stack.environment["SSH_AUTH_SOCK"] = hosts[0].agentSocket
        var revisions = [try stack.git.git(["rev-parse", "HEAD"])]
        #expect(try stack.run(["up", "prod"]).status == 0)
        for version in ["v2", "v3"] {
            revisions.append(try stack.git.commit(version, files: ["stacks/x/prod.yaml": releasing(version), "VERSION": "\(version)\n"]))
            let up = try stack.run(["up", "prod"])
            #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        }
        return (stack, revisions)
    }

    func current(_ host: SSHDFixture, root: String = "/app") -> String? {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: host.hostRoot + root + "/current"))?.split(separator: "/").last.map(String.init)
    }

    func releases(_ host: SSHDFixture) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: host.hostRoot + "/app/releases")) ?? [])
    }

    /// A file the local `tar` cannot read fails the upload on every host it reached, though
    /// ssh and the host's `tar` succeed on what arrived: the release is not activated.
    @Test func anUploadMissingAFileFailsAndActivatesNothing() throws {
        let (stack, revisions) = try releaseStack()
        let broken = releasing("v4").replacingOccurrences(of: "files: [VERSION]", with: "files: [VERSION, MISSING]")
        _ = try stack.git.commit("v4", files: ["stacks/x/prod.yaml": broken, "VERSION": "v4\n"])
        let up = try stack.run(["up", "prod", "--no-rollback"])
        #expect(up.status == 1, "\(up.stdout)\(up.stderr)")
        let id = try stack.requireLastRunID()
        let upload = try #require(try steps(stack, id)["deploy/upload@web1"])
        #expect(upload["status"] as? String == "failed", "\(upload)")
        #expect(try stack.run(["logs", id, "upload", "--host", "web1"]).stdout.contains("not every file reached the host"))
        #expect(hosts.map { current($0) } == Array(repeating: revisions[2], count: hosts.count), "current stays on v3 everywhere")
    }

    /// The upload reached every host, then a step before activation failed on web2: no host
    /// moved. `status` said all three ran v4 (an upload counted where no activation row
    /// existed); the run's `release_planned` says which hosts only activation moves.
    @Test func aRunStoppedBeforeActivatingLeavesEveryHostWhereItWasInStatus() throws {
        let (stack, revisions) = try releaseStack()
        let prepare = "    - name: prepare\n      on: web\n      run: [sh, -c, 'test \"$DEPLOYCTL_HOST\" != web2']\n"
        let stopping = releasing("v4").replacingOccurrences(of: "\n  verify:", with: "\n" + prepare + "  verify:")
        try #require(stopping.contains("name: prepare"))
        _ = try stack.git.commit("v4", files: ["stacks/x/prod.yaml": stopping, "VERSION": "v4\n"])
        let up = try stack.run(["up", "prod", "--no-rollback"])
        #expect(up.status == 1 && up.stdout.contains("prepare@web2"), "\(up.stdout)\(up.stderr)")
        let id = try stack.requireLastRunID()
        #expect(try steps(stack, id)["deploy/upload@web3"]?["status"] as? String == "succeeded", "the upload reached web3")
        #expect(hosts.map { current($0) } == Array(repeating: revisions[2], count: hosts.count), "current stays on v3 everywhere")
        let status = try #require(try StackFixture.json(try stack.run(["status", "prod", "--format", "json"]))["hosts"] as? [[String: Any]])
        #expect(status.map { "\($0["host"]!)=\($0["revision"]!)" } == ["web1", "web2", "web3"].map { "\($0)=\(revisions[2])" })
    }

    /// `release.path` naming a variable of the host's own `env:` (not sshd's): the upload
    /// unpacks where activation looks, as every hosted step sees it.
    @Test func anUploadExpandsTheReleasePathWithTheHostsOwnVariables() throws {
        let descriptor = releasing("v1")
            .replacingOccurrences(of: "release: {path: $HOSTROOT/app", with: "release: {path: $APPDIR/app")
            .replacingOccurrences(of: "$HOSTROOT/app/current", with: "$APPDIR/app/current")
            .split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                guard let i = hosts.firstIndex(where: { line.contains("port: \($0.port),") }) else { return String(line) }
                return line.replacingOccurrences(of: "roles: [web]}", with: "roles: [web], env: {APPDIR: \"\(hosts[i].hostRoot)/alt\"}}")
            }.joined(separator: "\n")
        let stack = try StackFixture(descriptor, files: ["ssh/known_hosts": knownHosts, "VERSION": "v1\n"])
        stack.environment["SSH_AUTH_SOCK"] = hosts[0].agentSocket
        let up = try stack.run(["up", "prod"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        for host in hosts {
            #expect((try? String(contentsOfFile: host.hostRoot + "/alt/app/current/VERSION", encoding: .utf8)) == "v1\n")
        }
    }

    @Test func keptReleasesArePrunedToKeepAndARollbackSwitchesCurrentBack() throws {
        let (stack, revisions) = try releaseStack()
        for host in hosts {
            #expect(current(host) == revisions[2])
            #expect(releases(host) == [revisions[1], revisions[2]], "keep: 2 pruned the oldest")
            #expect((try? String(contentsOfFile: host.hostRoot + "/app/current/VERSION", encoding: .utf8)) == "v3\n", "uploaded flat into the release")
        }
        let back = try stack.run(["rollback", "prod"])
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        for host in hosts { #expect(current(host) == revisions[1]) }
        let id = try stack.requireLastRunID()
        let recorded = try steps(stack, id)
        #expect(recorded["prepare/release.check@web2"]?["status"] as? String == "succeeded")
        #expect(recorded["rollback/release.switch@web3"]?["status"] as? String == "succeeded")
    }

    /// keep: 2, and a deploy that failed verify (stopped with --no-rollback) between the last
    /// good one and a fix: the fix's activation keeps the last good release, the one its
    /// rollback goes back to, besides the two newest. Before, it was pruned and the rollback refused.
    @Test func aFailedDeployInBetweenDoesNotPushTheRollbackTargetOut() throws {
        let (stack, revisions) = try releaseStack()
        // v4 goes live on every host (activation precedes verify), then its check fails.
        let failing = releasing("v4").replacingOccurrences(of: "grep -q v4", with: "grep -q v4-never")
        let v4 = try stack.git.commit("v4", files: ["stacks/x/prod.yaml": failing, "VERSION": "v4\n"])
        #expect(try stack.run(["up", "prod", "--no-rollback"]).status == 1)
        let v5 = try stack.git.commit("v5", files: ["stacks/x/prod.yaml": releasing("v5"), "VERSION": "v5\n"])
        let fix = try stack.run(["up", "prod"])
        #expect(fix.status == 0, "\(fix.stdout)\(fix.stderr)")
        for host in hosts { #expect(releases(host) == [v4, v5, revisions[2]], "v3, the rollback target, kept beside the two newest") }
        let back = try stack.run(["rollback", "prod"])
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        for host in hosts { #expect(current(host) == revisions[2]) }
    }

    @Test func aRollbackWhoseTargetReleaseIsGoneOnAHostChangesNothingAndNamesTheHost() throws {
        let (stack, revisions) = try releaseStack()
        try FileManager.default.removeItem(atPath: hosts[1].hostRoot + "/app/releases/" + revisions[1])
        let back = try stack.run(["rollback", "prod"])
        #expect(back.status == 1)
        #expect((back.stdout + back.stderr).contains("release.check@web2"), "\(back.stdout)\(back.stderr)")
        let id = try stack.requireLastRunID()
        let logs = try stack.run(["logs", id, "release.check", "--host", "web2"])
        #expect(logs.stdout.contains("is gone on web2"))
        for host in hosts { #expect(current(host) == revisions[2], "nothing changed") }
        let recorded = try steps(stack, id)
        #expect(!recorded.keys.contains { $0.hasPrefix("rollback/") }, "no rollback step ran: \(recorded.keys.sorted())")
    }

    // MARK: The mail-service seed stack on two hosts

    /// stacks/mail-service/fleet.yaml as committed, pointed at two of the test's servers: their
    /// addresses and ports, `/opt/mail-service` under each one's $HOSTROOT, and per-host paths
    /// and listener ports (both "hosts" share this machine).
    func fleet(_ httpPorts: [Int]) throws -> String {
        var text = try String(contentsOfFile: RepositoryFiles.root.appendingPathComponent("stacks/mail-service/fleet.yaml").path, encoding: .utf8)
        text = text.replacingOccurrences(of: "/opt/mail-service", with: "$HOSTROOT/opt/mail-service")
        for (index, name) in ["app1", "app2"].enumerated() {
            let root = hosts[index].hostRoot
            let original = "  \(name): {address: \(name).mail.internal, user: deploy, roles: [app]}"
            #expect(text.contains(original))
            text = text.replacingOccurrences(of: original, with: """
                  \(name): {address: 127.0.0.1, port: \(hosts[index].port), roles: [app],
                         env: {MAIL_SERVICE_PIDFILE: \(root)/mail-service.pid, MAIL_SERVICE_LOG: \(root)/mail-service.log,
                               MAIL_INTERNAL_HTTP_ADDR: "127.0.0.1:\(httpPorts[index])"}}
                """)
        }
        return text
    }

    func servicePID(_ host: SSHDFixture) -> Int32? {
        (try? String(contentsOfFile: host.hostRoot + "/mail-service.pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    @Test func theMailServiceFleetRollsOutHostByHostAndRollsBackFromTheKeptRelease() throws {
        let state = try RedisFixture(), streams = try RedisFixture()
        let password = SeedStackTests.secret("redis", length: 24)
        for redis in [state, streams] { try redis.cli(["CONFIG", "SET", "requirepass", password]) }
        let httpPorts = [ServerProcess.freePort(), ServerProcess.freePort()]
        let stack = try SeedStackTests.stack("mail-service", target: "fleet", extra: [
            "stacks/mail-service/fleet.yaml": try fleet(httpPorts),
            "stacks/mail-service/fleet_known_hosts": hosts.prefix(2).map { "[127.0.0.1]:\($0.port) \($0.hostKey)\n" }.joined(),
        ])
        defer { for host in hosts.prefix(2) { if let pid = servicePID(host) { kill(pid, SIGKILL) } } }
        let run = try SeedStackTests.mailServiceDirectory(stack)
        defer { SeedStackTests.stopMailService(run) }
        stack.environment["MAIL_REDIS_PASSWORD"] = password
        stack.environment["SSH_AUTH_SOCK"] = hosts[0].agentSocket
        let (collector, otel) = try SeedStackTests.otelCollector()
        defer { withExtendedLifetime(collector) {} }
        let inputs = SeedStackTests.inputs(["binary": RepositoryFiles.standIns + "/mail-service", "redis_host": "127.0.0.1", "redis_port": "\(state.port)",
                                            "stream_redis_host": "127.0.0.1", "stream_redis_port": "\(streams.port)",
                                            "template_dir": run + "/templates", "shutdown_timeout": "5s", "otel_endpoint": otel,
                                            "prometheus_url": "https://prometheus.example"])
        let sampler = ProcessListSampler()
        let up = try stack.run(["up", "mail-service/fleet"] + inputs)
        let seen = sampler.stop()
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let first = try stack.requireLastRunID()
        let recorded = try steps(stack, first)
        for name in ["preflight/otel-collector-reachable@app1", "preflight/otel-collector-reachable@app2",
                     "deploy/upload-release@app1", "deploy/canary-start@app2", "deploy/release.activate@app2", "deploy/restart-service@app1",
                     "deploy/restart-service.canary.smoke-request@app1", "deploy/restart-service.canary.http-logs-carry-trace-ids@app1", "deploy/restart-service@app2",
                     "verify/smoke-request@app2", "verify/http-logs-carry-trace-ids@app2", "verify/otel-endpoint-in-process@app2"] {
            #expect(recorded[name]?["status"] as? String == "succeeded", "\(name): \(String(describing: recorded[name]))")
        }
        // app2 restarted only after app1's canary checks passed.
        let gateAt = try #require(up.stdout.range(of: "✓ deploy/restart-service.canary.http-logs-carry-trace-ids@app1"))
        let secondAt = try #require(up.stdout.range(of: "▶ deploy/restart-service@app2"))
        #expect(gateAt.lowerBound < secondAt.lowerBound)
        // Each host runs the uploaded binary from its current release, listening on its own port.
        let revision1 = try stack.git.git(["rev-parse", "HEAD"])
        for (index, host) in hosts.prefix(2).enumerated() {
            let pid = try #require(servicePID(host))
            #expect(kill(pid, 0) == 0)
            #expect(ServerProcess.listening(httpPorts[index]))
            #expect(current(host, root: "/opt/mail-service") == revision1)
            #expect(FileManager.default.fileExists(atPath: host.hostRoot + "/opt/mail-service/current/mail-service"))
        }
        #expect(!seen.contains { $0.contains(password) }, "the Redis password stood in a process list")

        // A second release, then a rollback: current back on both hosts, each restarted from it.
        try stack.git.commit("fleet: a second release", files: ["stacks/mail-service/fleet.yaml": try fleet(httpPorts) + "\n# v2\n"])
        let second = try stack.run(["up", "mail-service/fleet"] + inputs)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        // Each host's stopped process shut down in the seed's order (on the first up there was none).
        for host in ["app1", "app2"] {
            #expect(second.stdout.contains("✓ postdeploy/orderly-shutdown@\(host)"), "\(second.stdout)")
        }
        #expect(second.stdout.contains("shutdown in order: internal http listener stopped, worker pool stopped > redis clients closed, opentelemetry providers flushed"),
                "\(second.stdout)")
        let before = hosts.prefix(2).map(servicePID)
        let back = try stack.run(["rollback", "mail-service/fleet"])
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        for (index, host) in hosts.prefix(2).enumerated() {
            #expect(current(host, root: "/opt/mail-service") == revision1, "current is the first release again")
            #expect(servicePID(host) != nil && servicePID(host) != before[index], "restarted from it")
            #expect(ServerProcess.listening(httpPorts[index]))
        }
    }
}
