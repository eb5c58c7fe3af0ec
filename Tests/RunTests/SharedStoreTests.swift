import Foundation
import Testing
import TestSupport

/// A team on one PostgreSQL store: two "machines" are two clones of one stacks repository with
/// different host names (`DEPLOYCTL_HOST`), each with its own state directory, both naming the
/// store in the committed `deployctl-store.yml`. The app, its database and its inbound switch
/// are files in one shared directory (`$WORLD`), as the real ones are shared by every machine.
final class Team {
    let server: PostgresFixture
    let origin: GitFixture
    let world: URL
    let schema: String
    private(set) var machines: [String: String] = [:]

    init(server: PostgresFixture, stack: String) throws {
        self.server = server
        origin = try GitFixture()
        world = try TemporaryDirectory.make(prefix: "world")
        try "on\n".write(to: world.appendingPathComponent("inbound"), atomically: true, encoding: .utf8)
        schema = "team_" + UUID().uuidString.prefix(8).lowercased()
        try origin.commit("The stack, and the team's store", files: [
            "stacks/x/prod.yaml": stack,
            "deployctl-store.yml": "url: postgres://postgres@127.0.0.1:\(server.port)/postgres\nschema: \(schema)\npassword_env: DEPLOYCTL_TEST_STORE_PASSWORD\n",
        ])
    }

    deinit {
        try? FileManager.default.removeItem(at: world)
        for path in machines.values { try? FileManager.default.removeItem(atPath: path) }
    }

    /// A clone on "machine" `name` (created on first use); `pull` brings it up to date.
    func clone(_ name: String) throws -> String {
        if let path = machines[name] {
            try Shell.run("git", ["-C", path, "pull", "-q", "--ff-only"])
            return path
        }
        let path = try TemporaryDirectory.make(prefix: "clone-\(name)").path
        try FileManager.default.removeItem(atPath: path)
        try Shell.run("git", ["clone", "-q", origin.path, path])
        machines[name] = path
        return path
    }

    func environment(_ name: String, extra: [String: String] = [:]) -> [String: String] {
        ["DEPLOYCTL_HOST": name, "DEPLOYCTL_TEST_STORE_PASSWORD": server.password, "WORLD": world.path, "SLEEP": "0", "DEPLOYCTL_STATE": "",
         "USER": "ops-\(name)"].merging(extra) { _, new in new }
    }

    @discardableResult
    func run(on name: String, _ arguments: [String], _ extra: [String: String] = [:]) throws -> Shell.Result {
        try CLI.run(arguments, in: try clone(name), environment: environment(name, extra: extra))
    }

    func background(on name: String, _ arguments: [String], _ extra: [String: String] = [:]) throws -> BackgroundCLI {
        try BackgroundCLI(arguments, in: try clone(name), environment: environment(name, extra: extra))
    }

    /// An `up` on `name` whose release step sleeps `seconds`, once that step has started.
    func upMidStep(on name: String, seconds: Int, _ extra: [String: String] = [:]) throws -> BackgroundCLI {
        let up = try background(on: name, ["up", "prod"], ["SLEEP": "\(seconds)", "TEST_CANARY": "x"].merging(extra) { _, new in new })
        guard up.waitFor("▶ deploy/release") else {
            throw Shell.Failure(command: "up prod", status: up.wait(), stdout: up.stdout, stderr: up.stderr)
        }
        return up
    }

    func json(on name: String, _ arguments: [String]) throws -> [String: Any] {
        let result = try run(on: name, arguments + ["--format", "json"])
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw Shell.Failure(command: arguments.joined(separator: " "), status: result.status, stdout: result.stdout, stderr: result.stderr)
        }
        return object
    }

    func file(_ name: String) -> String {
        ((try? String(contentsOf: world.appendingPathComponent(name), encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func commit(_ message: String, stack: String) throws -> String {
        try origin.commit(message, files: ["stacks/x/prod.yaml": stack])
    }

    /// One value from the store, as psql prints it.
    func sql(_ query: String) throws -> String {
        try server.psql(query.replacingOccurrences(of: "STORE.", with: "\(schema)."))
    }
}

@Suite struct SharedStoreTests {
    /// The app is `$WORLD/app`; `$SLEEP` slows its release, and a `$GATE` file, when named,
    /// holds it until the file exists (while `$WORLD` does, ~2 minutes at most); a marker names
    /// its processes.
    static func stack(_ version: String, verify: String? = nil, backup: String = "", marker: String = "none") -> String {
        """
        secrets:
          TOKEN: {env: TEST_CANARY}
        \(backup)
        phases:
        \(backup.isEmpty ? "" : "  migrate:\n    - {name: migrate, run: [sh, -c, \"echo db-\(version) > $WORLD/db\"]}")
          deploy:
            - name: release
              run: [sh, -c, 'echo token=$TOKEN; sleep $SLEEP; \(StackFixture.waitForFile("$${GATE:-/}", while: "$WORLD")); echo \(version) > $WORLD/app', \(marker)]
              env: {TOKEN: "${secrets.TOKEN}"}
              rollback: [sh, -c, "echo undone-\(version) >> $WORLD/undo-log"]
          verify:
            - name: app
              run: [sh, -c, "grep -q \(verify ?? version) $WORLD/app"]
        rollback:
          - name: release-again
            run: [sh, -c, "echo \(version) > $WORLD/app"]
        inbound:
          disable: [sh, -c, "echo off > $WORLD/inbound; echo disable >> $WORLD/inbound-log"]
          enable: [sh, -c, "echo on > $WORLD/inbound; echo enable >> $WORLD/inbound-log"]
          status:
            run: [sh, -c, "cat $WORLD/inbound"]
            enabled: {stdout_matches: '^on$'}
            disabled: {stdout_matches: '^off$'}
            wait: 2s
            interval: 200ms
        """
    }

    /// The backup is the `$WORLD/db` file, copied to and from a bucket on moto with the aws CLI.
    static func backup(bucket: String?) -> String {
        """
        backup:
          take: [sh, -c, "cp $WORLD/db $1 2>/dev/null || echo empty > $1", sh, "${backup.path}"]
          verify: [test, -s, "${backup.path}"]
          restore: [sh, -c, "cp $1 $WORLD/db", sh, "${backup.path}"]
          on_rollback: restore
        """ + (bucket.map { """

              push: [aws, s3, cp, --only-show-errors, "${backup.path}", "s3://\($0)/${run.id}.backup"]
              fetch: [aws, s3, cp, --only-show-errors, "s3://\($0)/${run.id}.backup", "${backup.path}"]
            """ } ?? "")
    }

    static let canary = "canary-\(UUID().uuidString.prefix(8))-secret"

    @Test func whatOneMachineDeploysTheOtherSeesRollsBackAndRefuses() throws {
        let server = try PostgresFixture.shared.get()
        let moto = try MotoFixture()
        try moto.aws(["s3", "mb", "s3://team-backups"])
        let team = try Team(server: server, stack: Self.stack("v1", backup: Self.backup(bucket: nil)))
        let env = moto.environment.merging(["TEST_CANARY": Self.canary]) { _, new in new }

        let first = try team.run(on: "machine-a", ["up", "prod"], env)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let v1 = try team.origin.git(["rev-parse", "HEAD"])
        let seen = try team.json(on: "machine-b", ["status", "prod"])
        #expect(seen["deployed_revision"] as? String == v1, "what A deployed, B's status shows")
        #expect((try team.json(on: "machine-b", ["show", try #require(seen["deployed_run"] as? String)]))["host"] as? String == "machine-a")

        // v2 without shared storage: its backup stays on machine A.
        let v2 = try team.commit("v2", stack: Self.stack("v2", backup: Self.backup(bucket: nil)))
        #expect(try team.run(on: "machine-a", ["up", "prod"], env).status == 0)
        let refused = try team.run(on: "machine-b", ["rollback", "prod"], env)
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("is not on this machine (machine-b)") && refused.stderr.contains("on machine-a"), "\(refused.stderr)")
        #expect(team.file("inbound-log").isEmpty, "refused before inbound mail was touched")

        // v3 keeps its backup in a bucket: on-call on B rolls it back, restoring the database.
        let v3 = try team.commit("v3", stack: Self.stack("v3", backup: Self.backup(bucket: "team-backups")))
        let deployed = try team.run(on: "machine-a", ["up", "prod"], env)
        #expect(deployed.status == 0, "\(deployed.stdout)\(deployed.stderr)")
        #expect(team.file("db") == "db-v3")
        #expect(try moto.aws(["s3", "ls", "s3://team-backups/"]).contains(".backup"))
        // The dry run on B says what the run will do: fetch first, then the same sequence.
        let dry = try team.run(on: "machine-b", ["rollback", "prod", "--to", String(v1.prefix(12)), "--dry-run"], env)
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("backup.fetch"), "\(dry.stdout)")
        let rollback = try team.run(on: "machine-b", ["rollback", "prod", "--to", String(v1.prefix(12))], env)
        #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
        #expect(rollback.stdout.contains("fetching it from shared storage"), "\(rollback.stdout)")
        #expect(team.file("db") == "db-v2", "the backup v3 took before its migration, fetched from the bucket, is restored")
        #expect(team.file("app") == "v1")
        #expect(team.file("inbound-log") == "disable\nenable" && team.file("inbound") == "on")

        // The mark B's rollback made is honoured on A.
        let again = try team.run(on: "machine-a", ["up", "prod", "--rev", String(v3.prefix(12))], env)
        #expect(again.status == 4 && again.stderr.contains("marked bad"), "\(again.stderr)")
        #expect(try team.json(on: "machine-a", ["status", "prod"])["deployed_revision"] as? String == v1)
        _ = v2

        // Logs read from the other machine come from the store, masked.
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(try team.run(on: "machine-b", ["runs", "--format", "json"]).stdout.utf8)) as? [[String: Any]])
        let upOnA = try #require(runs.first { $0["kind"] as? String == "up" && $0["status"] as? String == "rolled_back" }?["id"] as? String)
        let logs = try team.run(on: "machine-b", ["logs", upOnA, "release"])
        #expect(logs.status == 0 && logs.stdout.contains("token=••••"), "\(logs.stdout)")

        // The secret canary is in no row of the store; the dump does hold the runs.
        let dump = try Shell.run(PostgresFixture.bin + "/pg_dump", ["--data-only", "--schema", team.schema, "-d", "postgres"], environment: server.environment)
        #expect(dump.contains(upOnA))
        #expect(!dump.contains(Self.canary))
    }

    @Test func twoMachinesStartingTogetherNeverBothRun() throws {
        let server = try PostgresFixture.shared.get()
        let team = try Team(server: server, stack: Self.stack("v1"))
        _ = try team.clone("machine-a")
        _ = try team.clone("machine-b")
        let gate = try TemporaryDirectory.file(prefix: "gate")
        defer { try? FileManager.default.removeItem(at: gate) }
        for trial in 1...20 {
            // The winner holds the lock until the loser has asked for it and gone (however long
            // a loaded machine takes to start it), then goes on.
            try? FileManager.default.removeItem(at: gate)
            defer { FileManager.default.createFile(atPath: gate.path, contents: nil) }  // on every way out
            let a = try team.background(on: "machine-a", ["up", "prod"], ["GATE": gate.path, "TEST_CANARY": "x"])
            let b = try team.background(on: "machine-b", ["up", "prod"], ["GATE": gate.path, "TEST_CANARY": "x"])
            let deadline = Date().addingTimeInterval(60)
            while a.isRunning && b.isRunning && Date() < deadline { usleep(20_000) }
            FileManager.default.createFile(atPath: gate.path, contents: nil)
            let statuses = [a.wait(), b.wait()]
            #expect(statuses.sorted() == [0, 3], "trial \(trial): \(statuses) \(a.stderr) \(b.stderr)")
            guard let loser = statuses[0] == 3 ? a : statuses[1] == 3 ? b : nil else { continue }
            let winner = loser === a ? "machine-b" : "machine-a"
            #expect(loser.stderr.contains("is locked by run") && loser.stderr.contains("on \(winner)"),
                    "trial \(trial): the loser names the real holder: \(loser.stderr)")
        }
        #expect(try team.sql("SELECT count(*) FROM STORE.runs WHERE status = 'succeeded'") == "20")
    }

    @Test func aMachineKilledMidStepLosesItsLockToTheOther() throws {
        let server = try PostgresFixture.shared.get()
        let marker = "killed-\(UUID().uuidString.prefix(8))"
        let team = try Team(server: server, stack: Self.stack("v1", marker: marker))
        let a = try team.upMidStep(on: "machine-a", seconds: 60)
        kill(a.pid, SIGKILL)
        a.wait()
        defer { for pid in (try? processesMatching(marker)) ?? [] { kill(Int32(pid) ?? 0, SIGKILL) } }
        let b = try team.run(on: "machine-b", ["up", "prod"], ["TEST_CANARY": "x"])
        #expect(b.status == 0, "\(b.stdout)\(b.stderr)")
        #expect(b.stdout.contains("took over a stale lock") && b.stdout.contains("on machine-a"), "\(b.stdout)")
        let interrupted = try team.sql("SELECT count(*) FROM STORE.runs WHERE status = 'interrupted' AND host = 'machine-a'")
        #expect(interrupted == "1", "A's run is recorded as interrupted, not left running")
        #expect(try team.sql("SELECT count(*) FROM STORE.events WHERE kind = 'lock_stale_taken_over'") == "1")
    }

    @Test func aLiveHolderOnAnotherMachineIsShownAndNotBroken() throws {
        let server = try PostgresFixture.shared.get()
        let marker = "live-\(UUID().uuidString.prefix(8))"
        let team = try Team(server: server, stack: Self.stack("v1", marker: marker))
        let a = try team.upMidStep(on: "machine-a", seconds: 30)
        let shown = try team.json(on: "machine-b", ["status", "prod"])
        let lock = try #require(shown["lock"] as? [String: Any])
        #expect(lock["host"] as? String == "machine-a" && lock["command"] as? String == "up" && lock["stale"] as? Bool == false, "\(lock)")
        #expect(lock["heartbeat"] is String)
        let unlock = try team.run(on: "machine-b", ["unlock", "prod", "--force", "--reason", "looks stuck"])
        #expect(unlock.status == 4 && unlock.stderr.contains("still running on machine-a"), "\(unlock.stderr)")
        kill(a.pid, SIGTERM)
        #expect(a.wait() == 143)
        #expect(try processesMatching(marker).isEmpty)
        #expect(try team.json(on: "machine-b", ["status", "prod"])["lock"] is NSNull, "it let go of its lock on the way out")
    }

    /// Two containers given one `DEPLOYCTL_HOST` (a CI runner's name): the second runs in a pid
    /// namespace of its own (unshare), where the first's pid does not exist. Before, it took the
    /// live holder for a gone process of its own machine, ended its session and deployed beside
    /// it; a session's name now says which boot and pid namespace its pid belongs to.
    @Test func aHolderInAnotherPidNamespaceWithTheSameHostNameIsNotTakenForGone() throws {
        let server = try PostgresFixture.shared.get()
        let marker = "ns-\(UUID().uuidString.prefix(8))"
        let team = try Team(server: server, stack: Self.stack("v1", marker: marker))
        let namespaces = ["--user", "--map-root-user", "--pid", "--fork", "--mount-proc"]
        let probe = try Shell.capture("unshare", namespaces + ["true"], closedStdin: true)
        try #require(probe.status == 0, "this test needs user and pid namespaces (util-linux unshare): \(probe.stderr)")
        let a = try team.upMidStep(on: "machine-a", seconds: 30)
        defer { if a.isRunning { kill(a.pid, SIGTERM); _ = a.wait() } }
        let env = team.environment("machine-a", extra: ["TEST_CANARY": "x", "DEPLOYCTL_REPO": ""])
        let other = try Shell.capture("unshare", namespaces + [CLI.binary, "up", "prod"],
                                      environment: env, directory: try team.clone("machine-b"), closedStdin: true)
        #expect(other.status == 3, "refused as locked: \(other.stdout)\(other.stderr)")
        #expect(other.stderr.contains("locked by run") && other.stderr.contains("machine-a"), "\(other.stderr)")
        #expect(a.isRunning, "the holder's session was left alone")
        kill(a.pid, SIGTERM)
        #expect(a.wait() == 143)
    }

    @Test func aStoreThatStopsMidRunStopsTheRunAndResumeFinishesIt() throws {
        let server = try PostgresFixture()
        let marker = "fenced-\(UUID().uuidString.prefix(8))"
        let team = try Team(server: server, stack: Self.stack("v1", marker: marker))
        let a = try team.upMidStep(on: "machine-a", seconds: 30)
        try server.stop()
        let status = a.wait()
        #expect(status == 1, "\(a.stdout)\(a.stderr)")
        #expect(a.stdout.contains("lost the state store"), "\(a.stdout)")
        #expect(a.stderr.contains("lost the state store") && a.stderr.contains("deployctl resume"), "\(a.stderr)")
        #expect(try processesMatching(marker).isEmpty, "the running step was stopped with the run")
        try server.start()
        let shown = try team.json(on: "machine-a", ["status", "prod"])
        let interrupted = try #require(shown["interrupted_runs"] as? [[String: Any]])
        let runID = try #require(interrupted.first?["id"] as? String)
        #expect(try team.sql("SELECT count(*) FROM STORE.steps WHERE status IN ('started', 'running')") == "0", "no step is left running")
        let resumed = try team.run(on: "machine-a", ["resume", runID, "--rerun-interrupted"], ["TEST_CANARY": "x"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(team.file("app") == "v1")
    }

    /// A sync loop that loses the store loses its sync lock with it: it ends (exit 1, saying
    /// why) for its supervisor to start again. Before, it ran on, every round failing, with a
    /// second loop free to start elsewhere.
    @Test func aSyncLoopThatLosesTheStoreEnds() throws {
        let server = try PostgresFixture()
        let team = try Team(server: server, stack: Self.stack("v1"))
        let loop = try team.background(on: "machine-a", ["sync", "--interval", "1s"], ["TEST_CANARY": "x"])
        #expect(loop.waitFor("up of "), "a first round deployed: \(loop.stdout)\(loop.stderr)")
        try server.stop()
        var waited = 0.0
        while loop.isRunning, waited < 30 { Thread.sleep(forTimeInterval: 0.2); waited += 0.2 }
        defer { try? server.start() }
        guard !loop.isRunning else {
            Issue.record("the loop still runs 30 s after the store went away: \(loop.stdout)\(loop.stderr)")
            return  // (the fixture kills it)
        }
        let status = loop.wait()
        #expect(status == 1, "\(loop.stdout)\(loop.stderr)")
        #expect(loop.stderr.contains("lost the state store") && loop.stderr.contains("sync lock"), "\(loop.stdout)\(loop.stderr)")
    }

    @Test func aNetworkCutBetweenRunnerAndStoreStopsTheRunToo() throws {
        let server = try PostgresFixture()
        let marker = "cut-\(UUID().uuidString.prefix(8))"
        let team = try Team(server: server, stack: Self.stack("v1", marker: marker))
        let control = try TemporaryDirectory.file(prefix: "proxy")
        try "open".write(to: control, atomically: true, encoding: .utf8)
        let port = ServerProcess.freePort()
        let proxy = try ServerProcess(["python3", Self.script("tcp-proxy.py"), "\(port)", "\(server.port)", control.path], name: "tcp-proxy")
        try proxy.wait { (try? Shell.capture("bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]))?.status == 0 }
        let through = ["DEPLOYCTL_STATE": "postgres://postgres@127.0.0.1:\(port)/postgres?schema=\(team.schema)&password_env=DEPLOYCTL_TEST_STORE_PASSWORD", "TEST_CANARY": "x"]
        let a = try team.upMidStep(on: "machine-a", seconds: 60, through)
        try "cut".write(to: control, atomically: true, encoding: .utf8)
        let status = a.wait()
        #expect(status == 1, "\(a.stdout)\(a.stderr)")
        #expect(a.stdout.contains("no answer from the store"), "\(a.stdout)")
        #expect(try processesMatching(marker).isEmpty, "the running step was stopped with the run")
        try "open".write(to: control, atomically: true, encoding: .utf8)
        let shown = try team.json(on: "machine-a", ["status", "prod"])
        let runID = try #require((shown["interrupted_runs"] as? [[String: Any]])?.first?["id"] as? String)
        let resumed = try team.run(on: "machine-a", ["resume", runID, "--rerun-interrupted"], through)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(team.file("app") == "v1")
    }

    @Test func aReviewersRoleReadsEverythingAndDeploysNothing() throws {
        let server = try PostgresFixture.shared.get()
        let team = try Team(server: server, stack: Self.stack("v1"))
        #expect(try team.run(on: "machine-a", ["up", "prod"], ["TEST_CANARY": "x"]).status == 0)
        let role = "reviewer_" + team.schema
        let password = "pw-\(UUID().uuidString.prefix(8))"
        _ = try team.sql("CREATE ROLE \(role) LOGIN PASSWORD '\(password)'; GRANT USAGE ON SCHEMA \(team.schema) TO \(role); GRANT SELECT ON ALL TABLES IN SCHEMA \(team.schema) TO \(role)")
        let reviewer = ["DEPLOYCTL_STATE": "postgres://\(role):\(password)@127.0.0.1:\(server.port)/postgres?schema=\(team.schema)", "TEST_CANARY": "x"]
        var outputs = ""
        for command in [["status", "prod"], ["runs"], ["state", "show"]] {
            let result = try team.run(on: "machine-r", command, reviewer)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            outputs += result.stdout + result.stderr
        }
        let runID = try #require(try team.json(on: "machine-a", ["status", "prod"])["deployed_run"] as? String)
        for command in [["show", runID], ["logs", runID], ["report", runID]] {
            let result = try team.run(on: "machine-r", command, reviewer)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            outputs += result.stdout + result.stderr
        }
        let doctor = try team.run(on: "machine-r", ["doctor", "prod"], reviewer)
        #expect(doctor.status == 1 && doctor.stdout.contains("this role may only read"), "\(doctor.stdout)\(doctor.stderr)")
        let writer = try team.run(on: "machine-a", ["doctor", "prod"], ["TEST_CANARY": "x"])
        #expect(writer.status == 0 && writer.stdout.contains("(writer)"), "\(writer.stdout)\(writer.stderr)")
        outputs += doctor.stdout + doctor.stderr
        let up = try team.run(on: "machine-r", ["up", "prod"], reviewer)
        #expect(up.status == 4, "\(up.stdout)\(up.stderr)")
        #expect(up.stderr.contains("read-only for this role") && up.stderr.contains("needs the writer role"), "\(up.stderr)")
        outputs += up.stdout + up.stderr
        #expect(outputs.contains("\(role):••••@"))
        #expect(!outputs.contains(password), "the password given in the URL is shown nowhere")
        #expect(try team.sql("SELECT count(*) FROM STORE.runs") == "1", "nothing was written")
    }

    /// A reviewer on another machine, with a role that may add reviews and nothing else: what
    /// they record is what every machine's status and reports say.
    @Test func reviewsFromASecondMachineCountEverywhere() throws {
        let server = try PostgresFixture.shared.get()
        let team = try Team(server: server, stack: Self.stack("v1") + "\nmanual: [smoke tested by hand]\nsignoff: [QA, Ops]\n")
        #expect(try team.run(on: "machine-a", ["up", "prod"], ["TEST_CANARY": "x"]).status == 0)
        let runID = try #require(try team.json(on: "machine-a", ["status", "prod"])["deployed_run"] as? String)
        let role = "reviewer_" + team.schema
        let password = "pw-\(UUID().uuidString.prefix(8))"
        _ = try team.sql("CREATE ROLE \(role) LOGIN PASSWORD '\(password)'; GRANT USAGE ON SCHEMA \(team.schema) TO \(role); GRANT SELECT ON ALL TABLES IN SCHEMA \(team.schema) TO \(role)")
        let reviewer = ["DEPLOYCTL_STATE": "postgres://\(role):\(password)@127.0.0.1:\(server.port)/postgres?schema=\(team.schema)", "TEST_CANARY": "x"]

        let readOnly = try team.run(on: "machine-r", ["review", "tick", runID, "1"], reviewer)
        #expect(readOnly.status == 4 && readOnly.stderr.contains("may not add reviews") && readOnly.stderr.contains("GRANT INSERT ON"), "\(readOnly.stderr)")
        _ = try team.sql("GRANT INSERT ON STORE.reviews TO \(role); GRANT USAGE ON SEQUENCE STORE.reviews_id_seq TO \(role)")
        #expect(try team.run(on: "machine-r", ["review", "tick", "prod", "smoke tested by hand"], reviewer.merging(["USER": "rita"]) { _, b in b }).status == 0)
        #expect(try team.run(on: "machine-r", ["review", "sign", runID, "QA"], reviewer.merging(["USER": "rita"]) { _, b in b }).status == 0)
        var review = try #require(try team.json(on: "machine-a", ["status", "prod"])["review"] as? [String: Any])
        #expect(review["accepted"] as? Bool == false && (review["missing"] as? [String]) == ["not signed by: Ops"], "\(review)")
        let signed = try team.run(on: "machine-b", ["review", "sign", runID, "Ops"], ["USER": "otto"])
        #expect(signed.status == 0 && signed.stdout.contains("ACCEPTED"), "\(signed.stdout)\(signed.stderr)")
        review = try #require(try team.json(on: "machine-r", ["status", "prod"])["review"] as? [String: Any])
        #expect(review["accepted"] as? Bool == true)
        let signoff = try #require(review["signoff"] as? [[String: Any]])
        #expect(signoff.compactMap { $0["signed_by"] as? String } == ["rita@machine-r", "otto@machine-b"], "who and from where: \(signoff)")
        #expect(try team.sql("SELECT count(*) FROM STORE.reviews") == "3")
    }

    @Test func aLocalJournalMovesInOnceAndConflictsAreRefused() throws {
        let server = try PostgresFixture.shared.get()
        let team = try Team(server: server, stack: Self.stack("v1"))
        let local = try TemporaryDirectory.make(prefix: "local-state").path
        let alone = ["DEPLOYCTL_STATE": local, "TEST_CANARY": "x"]
        #expect(try team.run(on: "machine-a", ["up", "prod"], alone).status == 0)
        #expect(try team.run(on: "machine-a", ["up", "prod"], alone).status == 0)
        let first = try team.run(on: "machine-a", ["state", "import", "--from", local])
        #expect(first.status == 0 && first.stdout.contains("copied 2 runs"), "\(first.stdout)\(first.stderr)")
        let second = try team.run(on: "machine-a", ["state", "import", "--from", local])
        #expect(second.status == 0 && second.stdout.contains("copied 0 runs") && second.stdout.contains("2 already there"), "\(second.stdout)")
        #expect(try team.json(on: "machine-b", ["status", "prod"])["state"] as? String == "deployed")
        let runID = try #require(try team.json(on: "machine-b", ["status", "prod"])["deployed_run"] as? String)
        #expect(try team.run(on: "machine-b", ["logs", runID, "release"]).stdout.contains("token=••••"), "logs came along")

        let exported = try TemporaryDirectory.make(prefix: "exported").path
        let export = try team.run(on: "machine-b", ["state", "export", "--to", exported])
        #expect(export.status == 0 && export.stdout.contains("copied 2 runs"), "\(export.stdout)\(export.stderr)")
        #expect(try Shell.run("sqlite3", [exported + "/journal.sqlite3", "SELECT count(*) FROM runs"]) == "2")

        // Another history under one of the same ids: refused whole, nothing copied.
        try Shell.run("sqlite3", [local + "/journal.sqlite3", "UPDATE runs SET revision = 'ffffffffffffffffffffffffffffffffffffffff' WHERE id = '\(runID)'"])
        try Shell.run("sqlite3", [local + "/journal.sqlite3", "UPDATE runs SET id = id || 'x' WHERE id <> '\(runID)'"])
        let conflict = try team.run(on: "machine-a", ["state", "import", "--from", local])
        #expect(conflict.status == 4 && conflict.stderr.contains(runID) && conflict.stderr.contains("nothing was copied"), "\(conflict.stderr)")
        #expect(try team.sql("SELECT count(*) FROM STORE.runs") == "2")
    }

    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/\(name)").path
    }
}
