import Foundation
import Testing
import TestSupport

/// Deploying what the team pushed: a real bare "origin" (on disk, and over a real sshd),
/// fetched through libgit2; drift, sync and holds; commits signed with real ssh-keygen and gpg.
@Suite struct GitOpsTests {
    /// A stack whose deploy writes its version to a file, and fails when `fail` is set.
    static func stack(_ version: String, fail: Bool = false, extra: String = "") -> String {
        """
        phases:
          deploy:
            - name: release
              run: [sh, -c, "\(fail ? "exit 3" : "echo \(version) > $DEPLOYCTL_STATE/app")"]
        rollback:
          - name: release-previous
            run: [sh, -c, "echo rolled-back >> $DEPLOYCTL_STATE/undo"]
        \(extra)
        """
    }

    /// The stack fixture with a bare origin it has pushed to (the origin lives, and goes, with
    /// the fixture's state directory).
    static func pushed(_ descriptor: String = stack("v1"), extra: [String: String] = [:]) throws -> (StackFixture, String) {
        let stack = try StackFixture(descriptor, files: extra)
        let origin = try bareOrigin(stack)
        try stack.git.git(["remote", "add", "origin", origin])
        try stack.git.git(["push", "-q", "origin", "main"])
        return (stack, origin)
    }

    static func bareOrigin(_ stack: StackFixture) throws -> String {
        let origin = stack.state.path + "/origin.git"
        try Shell.run("git", ["init", "-q", "--bare", "-b", "main", origin])
        return origin
    }

    static func push(_ stack: StackFixture) throws { try stack.git.git(["push", "-q", "origin", "main"]) }

    static func runs(_ stack: StackFixture) throws -> [[String: Any]] {
        try StackFixture.jsonList(try stack.run(["runs", "--format", "json"]))
    }

    static func status(_ stack: StackFixture) throws -> [String: Any] {
        try StackFixture.json(try stack.run(["status", "prod", "--format", "json"]))
    }

    static func events(_ stack: StackFixture, _ kind: String) throws -> [String] {
        try Shell.run("sqlite3", [stack.journal, "SELECT data FROM events WHERE kind = '\(kind)' ORDER BY id"])
            .split(separator: "\n").map(String.init)
    }

    /// A runbook checks the live system with its secrets: by default at the revision the target
    /// runs (before: the local HEAD, an unpushed commit included), and a revision no run
    /// deployed must be on the tracked branch.
    @Test func aRunbookRunsTheDeployedRevisionAndNothingUnpushed() throws {
        func descriptor(_ version: String) -> String {
            Self.stack(version, extra: "runbooks:\n  look:\n    steps:\n      - {name: say, run: [sh, -c, \"echo runbook-\(version)\"]}")
        }
        let (stack, _) = try Self.pushed(descriptor("v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        let local = try stack.git.commit("v2, not pushed", files: ["stacks/x/prod.yaml": descriptor("v2")])
        let deployed = try stack.run(["runbook", "prod", "look"])
        #expect(deployed.status == 0, "\(deployed.stdout)\(deployed.stderr)")
        let runID = try stack.requireLastRunID()
        #expect(try stack.run(["logs", runID, "say"]).stdout.contains("runbook-v1"))
        let listed = try stack.run(["runbook", "prod"])
        #expect(listed.status == 0 && listed.stdout.contains("look"), "\(listed.stdout)\(listed.stderr)")
        let unpushed = try stack.run(["runbook", "prod", "look", "--rev", "HEAD"])
        #expect(unpushed.status == 4 && unpushed.stderr.contains("is not on origin/main")
                && unpushed.stderr.contains("deployctl runbook x/prod look --rev \(local.prefix(7))"), "\(unpushed.stdout)\(unpushed.stderr)")
        try Self.push(stack)
        let pushed = try stack.run(["runbook", "prod", "look", "--rev", "HEAD"])
        #expect(pushed.status == 0, "\(pushed.stdout)\(pushed.stderr)")
    }

    /// `rollback --to` a revision no run deployed is a deploy of untried code: before, it skipped
    /// the tracking gate (an unpushed commit ran with prod's secrets); and --to a revision an
    /// earlier rollback marked bad went back to it without a word.
    @Test func aRollbackToARevisionNeverDeployedPassesTheGatesOfUp() throws {
        let (stack, _) = try Self.pushed()
        #expect(try stack.run(["up", "prod"]).status == 0)
        let v2 = try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.stack("v2")])
        try Self.push(stack)
        #expect(try stack.run(["up", "prod"]).status == 0)
        #expect(try stack.run(["rollback", "prod"]).status == 0, "back to v1: v2 is marked bad")
        try stack.git.commit("v3", files: ["stacks/x/prod.yaml": Self.stack("v3")])
        try Self.push(stack)
        #expect(try stack.run(["up", "prod"]).status == 0)

        let bad = try stack.run(["rollback", "prod", "--to", v2])
        #expect(bad.status == 4 && bad.stderr.contains("is marked bad for x/prod")
                && bad.stderr.contains("deployctl rollback x/prod --to \(v2.prefix(7)) --allow-bad-revision"), "\(bad.stdout)\(bad.stderr)")
        #expect(try stack.run(["rollback", "prod", "--to", v2, "--allow-bad-revision"]).status == 0)
        try stack.git.commit("v4", files: ["stacks/x/prod.yaml": Self.stack("v4")])
        try Self.push(stack)
        #expect(try stack.run(["up", "prod"]).status == 0, "v3 is bad now too")

        let local = try stack.git.commit("v0, never pushed", files: ["stacks/x/prod.yaml": Self.stack("v0")])
        let runs = try Self.runs(stack).count
        let refused = try stack.run(["rollback", "prod", "--to", local])
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("is not on origin/main")
                && refused.stderr.contains("deployctl rollback x/prod --to \(local.prefix(7)) --allow-untracked-revision"), "\(refused.stderr)")
        #expect(try Self.runs(stack).count == runs, "a refused rollback journals no run")
        let allowed = try stack.run(["rollback", "prod", "--to", local, "--allow-untracked-revision"])
        #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
        #expect(try Self.events(stack, "untracked_revision_allowed").count == 1)
        #expect(try Self.runs(stack).first?["revision"] as? String == local)
    }

    @Test func anUnpushedCommitIsRefusedAndWhatWasPushedDeploys() throws {
        let (stack, _) = try Self.pushed()
        #expect(try stack.run(["up", "prod"]).status == 0)
        let pushed = try stack.git.git(["rev-parse", "HEAD"])
        let local = try stack.git.commit("v2, not pushed", files: ["stacks/x/prod.yaml": Self.stack("v2")])

        let refused = try stack.run(["up", "prod", "--rev", "HEAD"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("is not on origin/main"))
        #expect(refused.stderr.contains("git push origin"))
        #expect(try Self.runs(stack).count == 1, "a refused up journals no run")

        // Without --rev: the tracked head, not the local HEAD.
        let up = try stack.run(["up", "prod"])
        #expect(up.status == 0)
        #expect(try Self.runs(stack).first?["revision"] as? String == pushed)

        try Self.push(stack)
        #expect(try stack.run(["up", "prod"]).status == 0)
        #expect(try Self.runs(stack).first?["revision"] as? String == local)
        #expect(try String(contentsOfFile: stack.state.path + "/app", encoding: .utf8).contains("v2"))

        // Off the branch on purpose: journaled and in the report.
        let hotfix = try stack.git.commit("v3 hotfix, local", files: ["stacks/x/prod.yaml": Self.stack("v3")])
        let allowed = try stack.run(["up", "prod", "--rev", "HEAD", "--allow-untracked-revision"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let untracked = try Self.events(stack, "untracked_revision_allowed")
        let data = try #require(untracked.count == 1 ? try JSONSerialization.jsonObject(with: Data(untracked[0].utf8)) as? [String: Any] : nil)
        #expect(data["revision"] as? String == hotfix && data["branch"] as? String == "origin/main" && data["head"] as? String == local)
        let runID = try stack.requireLastRunID()
        let report = try String(contentsOfFile: stack.state.path + "/reports/\(runID)/report.json", encoding: .utf8)
        let provenance = try #require((try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])?["provenance"] as? [String: Any])
        #expect((provenance["untracked"] as? [String: Any])?["head"] as? String == local)
        let status = try Self.status(stack)
        #expect((status["tracking"] as? [String: Any])?["deployed_off_branch"] as? Bool == true)
    }

    @Test func aRepositoryWithoutARemoteDeploysHEADAsBefore() throws {
        let stack = try StackFixture(Self.stack("v1"))
        #expect(try stack.run(["up", "prod"]).status == 0)
        let status = try Self.status(stack)
        #expect(status["tracking"] is NSNull)
        #expect(try stack.run(["sync", "--once"]).status == 2)
    }

    /// The tracked branch force-pushed back under a deployed target: before, `sync` said "0
    /// behind" and then deployed the next commit on the rewound branch, and `up` deployed the
    /// older head forward, without a rollback's steps. Both refuse now; a named --rev goes.
    @Test func aBranchRewoundUnderTheTargetIsRefusedUntilAPersonDecides() throws {
        let (stack, _) = try Self.pushed()
        #expect(try stack.run(["up", "prod"]).status == 0)
        let v1 = try stack.git.git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let v2 = try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.stack("v2")])
        try Self.push(stack)
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.git(["reset", "-q", "--hard", v1])
        try stack.git.git(["push", "-q", "-f", "origin", "main"])

        let up = try stack.run(["up", "prod"])
        #expect(up.status == 4, "\(up.stdout)\(up.stderr)")
        #expect(up.stderr.contains("no longer contains \(v2.prefix(10)), the revision x/prod runs") && up.stderr.contains("deployctl rollback x/prod --to \(v1.prefix(7))"),
                "\(up.stderr)")
        let sync = try stack.run(["sync", "--once"])
        #expect(sync.status == 4 && sync.stdout.contains("no longer contains"), "\(sync.stdout)\(sync.stderr)")
        let v3 = try stack.git.commit("v3 on the rewound branch", files: ["stacks/x/prod.yaml": Self.stack("v3")])
        try Self.push(stack)
        #expect(try stack.run(["sync", "--once"]).status == 4, "still a person's call")
        #expect(try Self.runs(stack).count == 2)
        let named = try stack.run(["up", "prod", "--rev", v3])
        #expect(named.status == 0, "\(named.stdout)\(named.stderr)")
        #expect(try stack.run(["sync", "--once"]).stdout.contains("up to date"))
    }

    /// The inbound switch by hand, where the revisions the journal knows declare none: HEAD's
    /// switch runs with the environment's secrets, so an unpushed HEAD is refused (before, it
    /// ran), and once pushed it goes.
    @Test func theInboundSwitchByHandRunsNoUnpushedCommit() throws {
        let (stack, _) = try Self.pushed()
        #expect(try stack.run(["up", "prod"]).status == 0)
        let local = try stack.git.commit("adds an inbound switch", files: ["stacks/x/prod.yaml": Self.stack("v2") + "\n" + FileStandIns.inboundYAML])
        let refused = try stack.run(["inbound", "status", "prod"])
        #expect(refused.status == 4 && refused.stderr.contains("\(local.prefix(7))") && refused.stderr.contains("is not on origin/main")
                && refused.stderr.contains("deployctl inbound status x/prod"), "\(refused.stdout)\(refused.stderr)")
        #expect(!refused.stderr.contains("--allow-untracked-revision"), "inbound has no such flag")
        try Self.push(stack)
        let pushed = try stack.run(["inbound", "status", "prod"])
        #expect(pushed.status != 4 && pushed.stdout.contains("inbound mail processing for x/prod:"), "the switch ran: \(pushed.stdout)\(pushed.stderr)")
    }

    /// A hotfix deployed off the branch on purpose is no sign of a rewound branch, also once a
    /// rollback has gone back to it (that rollback run carries no event of its own).
    @Test func aHotfixOffTheBranchIsNoRewindEvenAfterARollbackBackToIt() throws {
        let (stack, _) = try Self.pushed()
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.git(["checkout", "-q", "-b", "hotfix"])
        let hotfix = try stack.git.commit("hotfix", files: ["stacks/x/prod.yaml": Self.stack("hotfix")])
        #expect(try stack.run(["up", "prod", "--rev", hotfix, "--allow-untracked-revision"]).status == 0)
        try stack.git.git(["checkout", "-q", "main"])
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.stack("v2")])
        try Self.push(stack)
        #expect(try stack.run(["up", "prod"]).status == 0, "the head takes over from the hotfix")
        #expect(try stack.run(["rollback", "prod"]).status == 0, "back to the hotfix")
        try stack.git.commit("v3", files: ["stacks/x/prod.yaml": Self.stack("v3")])
        try Self.push(stack)
        let up = try stack.run(["up", "prod"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
    }

    @Test func statusShowsDriftAndSyncDeploysThenHoldsAfterARollbackUntilAFixOrARelease() throws {
        let (stack, _) = try Self.pushed()
        #expect(try stack.run(["sync", "--once"]).status == 0)
        #expect(try Self.runs(stack).count == 1, "sync deploys a target never deployed")
        #expect(try stack.run(["sync", "--once"]).stdout.contains("up to date"))
        #expect(try Self.runs(stack).count == 1)

        // Two pushes, one of them touching the stack.
        let touching = try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.stack("v2")])
        try stack.git.commit("docs", files: ["README.md": "hello\n"])
        try Self.push(stack)
        let drift = try #require(try StackFixture.json(try stack.run(["status", "prod", "--format", "json", "--fetch"]))["tracking"] as? [String: Any])
        #expect(drift["behind"] as? Int == 2)
        let touched = try #require(drift["touching"] as? [[String: Any]])
        #expect(touched.map { $0["commit"] as? String } == [touching])
        #expect(try stack.run(["status", "prod"]).stdout.contains("2 commits behind, 1 touches the stack"))

        #expect(try stack.run(["sync", "--once"]).status == 0)
        #expect(try Self.runs(stack).count == 2)
        #expect(try String(contentsOfFile: stack.state.path + "/app", encoding: .utf8).contains("v2"))

        // A docs-only push: behind, but nothing to deploy.
        try stack.git.commit("more docs", files: ["README.md": "hello again\n"])
        try Self.push(stack)
        #expect(try stack.run(["sync", "--once"]).stdout.contains("none touches the stack"))
        #expect(try Self.runs(stack).count == 2)

        // A failing head: sync's up rolls back by itself, then sync leaves it alone.
        let broken = try stack.git.commit("v3 breaks", files: ["stacks/x/prod.yaml": Self.stack("v3", fail: true)])
        try Self.push(stack)
        #expect(try stack.run(["sync", "--once"]).status == 1)
        let afterRollback = try Self.runs(stack).count
        #expect(try Self.runs(stack).first?["kind"] as? String == "rollback")
        let again = try stack.run(["sync", "--once"])
        #expect(again.status == 0 && again.stdout.contains("marked bad"), "\(again.stdout)")
        #expect(try Self.runs(stack).count == afterRollback)

        // A push that does not touch the stack does not lift the hold.
        try stack.git.commit("docs 3", files: ["README.md": "third\n"])
        try Self.push(stack)
        let held = try stack.run(["sync", "--once"])
        #expect(held.stdout.contains("held"), "\(held.stdout)")
        #expect(try Self.runs(stack).count == afterRollback)
        let hold = try #require((try Self.status(stack)["tracking"] as? [String: Any])?["hold"] as? [String: Any])
        #expect(hold["from"] as? String == broken)

        // A fix touching the stack lifts it.
        let fix = try stack.git.commit("v4 fixes it", files: ["stacks/x/prod.yaml": Self.stack("v4")])
        try Self.push(stack)
        #expect(try stack.run(["sync", "--once"]).status == 0)
        #expect(try Self.runs(stack).first?["revision"] as? String == fix)
        #expect(try String(contentsOfFile: stack.state.path + "/app", encoding: .utf8).contains("v4"))
    }

    @Test func aManualRollbackHoldsSyncUntilReleaseLiftsItOnTheRecord() throws {
        let (stack, _) = try Self.pushed()
        #expect(try stack.run(["up", "prod"]).status == 0)
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.stack("v2")])
        try Self.push(stack)
        #expect(try stack.run(["up", "prod"]).status == 0)
        #expect(try stack.run(["rollback", "prod"]).status == 0)
        let count = try Self.runs(stack).count

        let held = try stack.run(["sync", "--once"])
        #expect(held.status == 0)
        #expect(held.stdout.contains("marked bad") || held.stdout.contains("held"), "\(held.stdout)")
        #expect(try Self.runs(stack).count == count, "sync does not fight the rollback")
        #expect(try stack.run(["status", "prod"]).stdout.contains("HELD"))

        let release = try stack.run(["release", "prod", "--reason", "the database is fixed"])
        #expect(release.status == 0 && release.stdout.contains("released"))
        let released = try Self.events(stack, "hold_released")
        #expect(released.count == 1 && released[0].contains("the database is fixed"))
        #expect((try Self.status(stack)["tracking"] as? [String: Any])?["hold"] == nil)
        #expect(try stack.run(["release", "prod"]).stdout.contains("not held"))

        // Released, but the head is still marked bad: sync says so and still deploys nothing.
        #expect(try stack.run(["sync", "--once"]).stdout.contains("marked bad"))
        try stack.git.commit("docs", files: ["README.md": "x\n"])
        try Self.push(stack)
        // A new head (not bad) and no hold: sync deploys it.
        #expect(try stack.run(["sync", "--once"]).status == 0)
        #expect(try Self.runs(stack).count == count + 1)
    }

    @Test func aSyncLoopStopsOnSIGTERMAndIsAloneOnItsStore() throws {
        let (stack, _) = try Self.pushed()
        let loop = try BackgroundCLI(["sync", "--interval", "1s"], in: stack.git.path, environment: stack.environment)
        #expect(loop.waitFor("sync round"))
        let second = try stack.run(["sync", "--once"])
        #expect(second.status == 3)
        #expect(second.stderr.contains("a sync loop already runs"))
        kill(loop.pid, SIGTERM)
        #expect(loop.wait() == 143)
        #expect(try stack.run(["sync", "--once"]).status == 0, "the loop's lock went with it")

        // SIGTERM while the loop's up runs a step: the step is stopped as in up, the run recorded.
        try stack.git.commit("v2 is slow", files: ["stacks/x/prod.yaml": Self.stack("v2").replacingOccurrences(of: "echo v2", with: "sleep 30; echo v2")])
        try Self.push(stack)
        let busy = try BackgroundCLI(["sync", "--interval", "1s"], in: stack.git.path, environment: stack.environment)
        #expect(busy.waitFor("▶ deploy/release"))
        kill(busy.pid, SIGTERM)
        #expect(busy.wait() == 143)
        #expect(try Self.runs(stack).first?["status"] as? String == "cancelled")
    }

    @Test func fetchOverSSHWithTheAgentAndKnownHostsOnly() throws {
        let sshd = try SSHDFixture()
        let stack = try StackFixture(Self.stack("v1"))
        let origin = try Self.bareOrigin(stack)
        try stack.git.git(["push", "-q", origin, "main"])
        try stack.git.git(["remote", "add", "origin", sshd.url(origin)])
        var env = ["SSH_AUTH_SOCK": sshd.agentSocket, "DEPLOYCTL_KNOWN_HOSTS": sshd.knownHosts]
        let up = try stack.run(["up", "prod"], environment: env)
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stdout.contains("tracks origin/main (fetched just now)"))

        // A different host key for that address: refused, as ssh would.
        env["DEPLOYCTL_KNOWN_HOSTS"] = sshd.wrongKnownHosts
        let mismatch = try stack.run(["plan", "prod"], environment: env)
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr.contains("does not match"))
        // No known key at all: no trust on first use.
        env["DEPLOYCTL_KNOWN_HOSTS"] = sshd.directory.path + "/none"
        let unknown = try stack.run(["plan", "prod"], environment: env)
        #expect(unknown.status == 1 && unknown.stderr.contains("in no known_hosts file"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("--offline"))
        // The agent gone: authentication fails, clearly.
        let noAgent = try stack.run(["plan", "prod"], environment: ["SSH_AUTH_SOCK": sshd.directory.path + "/no-agent", "DEPLOYCTL_KNOWN_HOSTS": sshd.knownHosts])
        #expect(noAgent.status == 1 && noAgent.stderr.contains("cannot fetch origin"))
        // Offline: what the last fetch left, and how old.
        let offline = try stack.run(["plan", "prod", "--offline"], environment: env)
        #expect(offline.status == 0 && offline.stderr.contains("as of the last fetch"), "\(offline.stderr)")
    }

    @Test func fetchOverHTTPSWithTheCredentialHelperAPrivateCAAndProxies() throws {
        let stack = try StackFixture(Self.stack("v1"))
        let origin = try Self.bareOrigin(stack)
        try stack.git.git(["push", "-q", origin, "main"])
        // A CA of the test's own and a certificate for localhost it signs.
        let tls = try TemporaryDirectory.make(prefix: "tls")
        defer { try? FileManager.default.removeItem(at: tls) }
        let d = tls.path
        try Shell.run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca.key", "-out", d + "/ca.pem", "-days", "2", "-subj", "/CN=Test CA"])
        try Shell.run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/server.key", "-out", d + "/server.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost\n".write(toFile: d + "/ext", atomically: true, encoding: .utf8)
        try Shell.run("openssl", ["x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key", "-CAcreateserial",
                                  "-out", d + "/server.pem", "-days", "2", "-extfile", d + "/ext"])
        let port = ServerProcess.freePort()
        let script = RepositoryFiles.root.appendingPathComponent("Tests/scripts/git-https-server.py").path
        let server = try ServerProcess(["python3", script, "\(port)", d + "/server.pem", d + "/server.key", stack.state.path, "alice", "s3cret"],
                                       name: "git-https-server", log: d + "/server.log")
        try server.wait { (try? Shell.capture("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "https://localhost:\(port)/"]))?.stdout == "401" }
        try stack.git.git(["remote", "add", "origin", "https://localhost:\(port)/origin.git"])
        let credentials = d + "/credentials"
        try "https://alice:s3cret@localhost:\(port)\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        try stack.git.git(["config", "credential.helper", "store --file=\(credentials)"])

        var env = ["GIT_SSL_CAINFO": d + "/ca.pem"]
        let up = try stack.run(["up", "prod"], environment: env)
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stdout.contains("tracks origin/main (fetched just now)"))

        // The system's CAs do not know the test's CA.
        let untrusted = try stack.run(["plan", "prod"], environment: ["GIT_SSL_CAINFO": "", "SSL_CERT_FILE": ""])
        #expect(untrusted.status == 1 && untrusted.stderr.contains("not trusted"), "\(untrusted.stderr)")
        // A wrong password from the helper, then no helper at all: clear, and nothing waits for a prompt.
        try "https://alice:wrong@localhost:\(port)\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        let wrong = try stack.run(["plan", "prod"], environment: env)
        #expect(wrong.status == 1 && wrong.stderr.contains("authentication to https://localhost:\(port)/origin.git failed"), "\(wrong.stderr)")
        try stack.git.git(["config", "--unset", "credential.helper"])
        let none = try stack.run(["plan", "prod"], environment: env)
        #expect(none.status == 1 && none.stderr.contains("configure a git credential helper"), "\(none.stderr)")
        try "https://alice:s3cret@localhost:\(port)\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        try stack.git.git(["config", "credential.helper", "store --file=\(credentials)"])

        // HTTPS_PROXY is honoured (a proxy that is not there fails), and so is NO_PROXY.
        env["HTTPS_PROXY"] = "http://127.0.0.1:\(ServerProcess.freePort())"
        let proxied = try stack.run(["plan", "prod"], environment: env)
        #expect(proxied.status == 1 && proxied.stderr.contains("cannot fetch origin"), "\(proxied.stderr)")
        env["NO_PROXY"] = "localhost"
        #expect(try stack.run(["plan", "prod"], environment: env).status == 0)
        _ = server
    }
}

/// Commits signed with real ssh-keygen and gpg keys, verified against trust roots outside
/// the repository.
@Suite struct SignedCommitTests {
    let keys: URL
    let allowed: String

    init() throws {
        keys = try TemporaryDirectory.make(prefix: "keys")
        for name in ["dev", "stranger"] {
            try Shell.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", keys.path + "/" + name])
        }
        allowed = keys.path + "/allowed_signers"
        let pub = try String(contentsOfFile: keys.path + "/dev.pub", encoding: .utf8).split(separator: " ")
        try "dev@example.test \(pub[0]) \(pub[1])\n".write(toFile: allowed, atomically: true, encoding: .utf8)
    }

    func descriptor(_ version: String, allowedSigners: String? = nil, keyring: String? = nil, everyCommit: Bool = false) -> String {
        var lines = ["signatures:"]
        if let allowedSigners { lines.append("  allowed_signers: \(allowedSigners)") }
        if let keyring { lines.append("  gpg_keyring: \(keyring)") }
        if everyCommit { lines.append("  every_commit: true") }
        return GitOpsTests.stack(version, extra: lines.joined(separator: "\n"))
    }

    /// Commits `files` signed with the SSH key `key` (nil: unsigned).
    @discardableResult
    func commit(_ stack: StackFixture, _ message: String, key: String?, files: [String: String]) throws -> String {
        for (file, contents) in files { try stack.git.write(file, contents) }
        try stack.git.git(["add", "-A"])
        var args = ["-c", "gpg.format=ssh"]
        if let key { args += ["-c", "user.signingkey=\(keys.path)/\(key)", "commit", "-q", "-S", "-m", message] } else { args += ["commit", "-q", "-m", message] }
        try stack.git.git(args, advanceClock: true)
        return try stack.git.git(["rev-parse", "HEAD"])
    }

    /// A pushed stack whose v1 requires SSH signatures, signed by dev and deployed; v1's sha.
    @discardableResult
    func deployedSigned(everyCommit: Bool = false) throws -> (StackFixture, String) {
        let (stack, _) = try GitOpsTests.pushed()
        let v1 = try commit(stack, "require signatures", key: "dev",
                            files: ["stacks/x/prod.yaml": descriptor("v1", allowedSigners: allowed, everyCommit: everyCommit)])
        try GitOpsTests.push(stack)
        #expect(try stack.run(["up", "prod"]).status == 0)
        return (stack, v1)
    }

    @Test func onlyCommitsSignedByAnAllowedSSHKeyDeploy() throws {
        let (stack, _) = try GitOpsTests.pushed()
        try commit(stack, "require signatures", key: "dev", files: ["stacks/x/prod.yaml": descriptor("v1", allowedSigners: allowed)])
        try GitOpsTests.push(stack)
        let signed = try stack.run(["up", "prod"])
        #expect(signed.status == 0, "\(signed.stderr)")
        let runID = try stack.requireLastRunID()
        let verified = try GitOpsTests.events(stack, "signature_verified")
        #expect(verified.count == 1 && verified[0].contains("dev@example.test"))
        let report = try String(contentsOfFile: stack.state.path + "/reports/\(runID)/report.md", encoding: .utf8)
        #expect(report.contains("signed (SSH) by dev@example.test"))

        let unsigned = try commit(stack, "v2 unsigned", key: nil, files: ["stacks/x/prod.yaml": descriptor("v2", allowedSigners: allowed)])
        try GitOpsTests.push(stack)
        let refused = try stack.run(["up", "prod"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains(String(unsigned.prefix(7))) && refused.stderr.contains("it is not signed"))
        #expect(try GitOpsTests.events(stack, "signature_refused").count == 1)

        try stack.git.git(["reset", "-q", "--hard", "HEAD~1"])
        let stranger = try commit(stack, "v2 by a stranger", key: "stranger", files: ["stacks/x/prod.yaml": descriptor("v2", allowedSigners: allowed)])
        try stack.git.git(["push", "-q", "-f", "origin", "main"])
        let unknown = try stack.run(["up", "prod"])
        #expect(unknown.status == 4)
        #expect(unknown.stderr.contains(String(stranger.prefix(7))) && unknown.stderr.contains("does not allow"), "\(unknown.stderr)")
        #expect(try GitOpsTests.runs(stack).count == 1, "refusals journal no run")

        // Signed by the allowed key, then changed after signing (the signature header kept).
        try stack.git.git(["reset", "-q", "--hard", "HEAD~1"])
        try commit(stack, "v2 by dev", key: "dev", files: ["stacks/x/prod.yaml": descriptor("v2", allowedSigners: allowed)])
        let object = try stack.git.git(["cat-file", "commit", "HEAD"]).replacingOccurrences(of: "v2 by dev", with: "v2 by dev, edited")
        let tampered = try stack.git.git(["hash-object", "-t", "commit", "-w", "--stdin"], input: object + "\n")
        try stack.git.git(["update-ref", "refs/heads/main", tampered])
        try stack.git.git(["push", "-q", "-f", "origin", "main"])
        let bad = try stack.run(["up", "prod"])
        #expect(bad.status == 4)
        #expect(bad.stderr.contains(String(tampered.prefix(7))) && bad.stderr.contains("does not verify for dev@example.test"), "\(bad.stderr)")
    }

    /// A failed deploy leaves the environment degraded (nothing "deployed"): the last good
    /// revision's policy still governs, so an unsigned commit that drops `signatures:` is refused.
    @Test func aDegradedEnvironmentIsStillGovernedByTheLastGoodPolicy() throws {
        let (stack, _) = try deployedSigned()
        let failing = GitOpsTests.stack("v2", fail: true, extra: "signatures:\n  allowed_signers: \(allowed)")
        try commit(stack, "v2 fails", key: "dev", files: ["stacks/x/prod.yaml": failing])
        try GitOpsTests.push(stack)
        #expect(try stack.run(["up", "prod", "--no-rollback"]).status == 1)
        let dropped = try commit(stack, "drop signatures", key: nil, files: ["stacks/x/prod.yaml": GitOpsTests.stack("v3")])
        try GitOpsTests.push(stack)
        let refused = try stack.run(["up", "prod"])
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains(String(dropped.prefix(7))) && refused.stderr.contains("it is not signed"), "\(refused.stderr)")
    }

    /// The journal says signatures were checked, and the revision whose policy governs is not
    /// in this clone (history rewritten): refused, not decided by the new commit, which has none.
    @Test func aGoverningRevisionMissingFromTheCloneRefusesWhereSignaturesWereChecked() throws {
        let (stack, _) = try deployedSigned()
        let other = try StackFixture(GitOpsTests.stack("v2"))
        let refused = try other.run(["up", "prod", "--state", stack.state.path])
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("which this clone does not have"), "\(refused.stderr)")
    }

    /// The governing revision's descriptor no longer loads (here a lowered size limit; in life,
    /// a newer deployctl's stricter rules): where signatures were checked, refused. Before, the
    /// new commit's own policy decided, and one that dropped `signatures:` deployed unsigned.
    @Test func aGoverningDescriptorThatNoLongerLoadsRefusesWhereSignaturesWereChecked() throws {
        let (stack, _) = try deployedSigned()
        let v2 = GitOpsTests.stack("v2")
        try #require(v2.utf8.count < descriptor("v1", allowedSigners: allowed).utf8.count)
        try commit(stack, "drop signatures", key: nil, files: ["stacks/x/prod.yaml": v2])
        try GitOpsTests.push(stack)
        let refused = try stack.run(["up", "prod"], environment: ["DEPLOYCTL_MAX_DESCRIPTOR_BYTES": "\(v2.utf8.count)"])
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("the signature policy of x/prod comes from the revision it runs") && refused.stderr.contains("whose descriptor does not load here"),
                "\(refused.stderr)")
    }

    /// `rollback --to REV` to a revision no run deployed passes the same signature gate as
    /// `up`; a revision a run deployed before does not need it again.
    @Test func aRollbackToARevisionNeverDeployedMustBeSigned() throws {
        let (stack, v1) = try deployedSigned()
        try commit(stack, "v2", key: "dev", files: ["stacks/x/prod.yaml": descriptor("v2", allowedSigners: allowed)])
        try GitOpsTests.push(stack)
        #expect(try stack.run(["up", "prod"]).status == 0)
        let unsigned = try commit(stack, "v0 unsigned", key: nil, files: ["stacks/x/prod.yaml": GitOpsTests.stack("v0")])
        try GitOpsTests.push(stack)  // on the branch: the signature gate is what refuses it
        let refused = try stack.run(["rollback", "prod", "--to", unsigned])
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("it is not signed"), "\(refused.stderr)")
        let back = try stack.run(["rollback", "prod", "--to", v1])
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
    }

    /// A message in ISO-8859-1 (git records the encoding and keeps the bytes): what was signed
    /// reaches ssh-keygen byte for byte, and the commit deploys.
    @Test func aSignedCommitWhoseMessageIsNotUTF8Deploys() throws {
        let (stack, _) = try GitOpsTests.pushed()
        try stack.git.write("stacks/x/prod.yaml", descriptor("v1", allowedSigners: allowed))
        try stack.git.git(["add", "-A"])
        let message = stack.state.path + "/../latin1-message"
        FileManager.default.createFile(atPath: message, contents: Data([0x63, 0x61, 0x66, 0xE9, 0x0A]))   // "café" in ISO-8859-1
        try stack.git.git(["-c", "gpg.format=ssh", "-c", "user.signingkey=\(keys.path)/dev", "-c", "i18n.commitEncoding=ISO-8859-1",
                           "commit", "-q", "-S", "-F", message], advanceClock: true)
        try GitOpsTests.push(stack)
        let up = try stack.run(["up", "prod"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
    }

    /// The stranger adds their key to a file in the repository, points the descriptor at it,
    /// signs with that key and pushes.
    func pushSelfTrustingCommit(_ stack: StackFixture, _ version: String) throws {
        let pub = try String(contentsOfFile: keys.path + "/stranger.pub", encoding: .utf8).split(separator: " ")
        try commit(stack, "trust me", key: "stranger", files: [
            "trust/allowed_signers": "stranger@example.test \(pub[0]) \(pub[1])\n",
            "stacks/x/prod.yaml": descriptor(version, allowedSigners: stack.git.path + "/trust/allowed_signers"),
        ])
        try GitOpsTests.push(stack)
    }

    @Test func aCommitCannotTrustItsOwnKey() throws {
        let (stack, _) = try deployedSigned()

        try pushSelfTrustingCommit(stack, "v2")
        let refused = try stack.run(["up", "prod"])
        #expect(refused.status == 4, "the deployed revision's trust root governs: \(refused.stderr)")
        #expect(refused.stderr.contains("does not allow"))

        // A first adoption whose trust root lies inside the repository is refused too.
        let (fresh, _) = try GitOpsTests.pushed()
        try pushSelfTrustingCommit(fresh, "v1")
        let inRepo = try fresh.run(["up", "prod"])
        #expect(inRepo.status == 4 && inRepo.stderr.contains("inside the stacks repository"), "\(inRepo.stderr)")
    }

    @Test func everyCommitSinceTheDeployedOneMustBeSigned() throws {
        let (stack, _) = try deployedSigned(everyCommit: true)
        let middle = try commit(stack, "unsigned in the middle", key: nil, files: ["README.md": "x\n"])
        try commit(stack, "signed head", key: "dev", files: ["stacks/x/prod.yaml": descriptor("v2", allowedSigners: allowed, everyCommit: true)])
        try GitOpsTests.push(stack)
        let refused = try stack.run(["up", "prod"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains(String(middle.prefix(10))) && refused.stderr.contains("between the deployed"), "\(refused.stderr)")

        // More commits than it checks: refused, not checked in part (fast-import makes them).
        var stream = ""
        for i in 1...1_001 {
            stream += "commit refs/heads/main\ncommitter T <t@example.test> \(1_800_000_000 + i) +0000\ndata 2\nc\n"
            stream += i == 1 ? "from refs/heads/main^0\n" : ""
            stream += "M 644 inline notes.txt\ndata \(String(i).utf8.count + 1)\n\(i)\n\n"
        }
        _ = try stack.git.git(["fast-import", "--quiet"], input: stream)
        try GitOpsTests.push(stack)
        let many = try stack.run(["up", "prod"])
        #expect(many.status == 4, "\(many.stdout)\(many.stderr)")
        #expect(many.stderr.contains("more than 1000 lie between the deployed"), "\(many.stderr)")
    }

    /// A new OpenPGP key in `home` for `uid`; its fingerprint.
    func gpgKey(_ home: String, _ uid: String) throws -> String {
        try Shell.run("gpg", ["--homedir", home, "--batch", "--passphrase", "", "--pinentry-mode", "loopback",
                              "--quick-gen-key", uid, "ed25519", "sign", "never"])
        let line = try Shell.run("gpg", ["--homedir", home, "--with-colons", "--list-secret-keys", uid])
            .split(separator: "\n").first { $0.hasPrefix("fpr:") }
        return String(try #require(line).split(separator: ":", omittingEmptySubsequences: false)[9])
    }

    /// Commits the descriptor signed with the OpenPGP key `fingerprint` (through `wrapper`) and pushes.
    func gpgCommit(_ stack: StackFixture, _ descriptor: String, key fingerprint: String, wrapper: String) throws {
        try stack.git.write("stacks/x/prod.yaml", descriptor)
        try stack.git.git(["add", "-A"])
        try stack.git.git(["-c", "gpg.format=openpgp", "-c", "gpg.program=\(wrapper)", "-c", "user.signingkey=\(fingerprint)",
                           "commit", "-q", "-S", "-m", "OpenPGP-signed"], advanceClock: true)
        try GitOpsTests.push(stack)
    }

    @Test func anOpenPGPSignatureIsCheckedAgainstTheKeyring() throws {
        let home = keys.path + "/gnupg"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // gpg starts an agent for the home directory that outlives the test otherwise.
        defer { _ = try? Shell.capture("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]) }
        let dev = try gpgKey(home, "Dev <dev@example.test>")
        let keyring = keys.path + "/trusted.gpg"
        try Shell.run("gpg", ["--homedir", home, "--output", keyring, "--export", dev])
        let wrapper = keys.path + "/gpg-wrapper"
        try Shell.writeExecutable(wrapper, "#!/bin/sh\nexec gpg --homedir \(home) --batch --pinentry-mode loopback --passphrase '' \"$@\"\n")

        let (stack, _) = try GitOpsTests.pushed()
        try gpgCommit(stack, descriptor("v1", keyring: keyring), key: dev, wrapper: wrapper)
        let up = try stack.run(["up", "prod"])
        #expect(up.status == 0, "\(up.stderr)")
        let verified = try GitOpsTests.events(stack, "signature_verified")
        #expect(verified.count == 1 && verified[0].contains("openpgp") && verified[0].contains("Dev <dev@example.test>"), "\(verified)")

        // Signed, but with a key the keyring does not hold.
        let other = try gpgKey(home, "Other <other@example.test>")
        try gpgCommit(stack, descriptor("v2", keyring: keyring), key: other, wrapper: wrapper)
        let refused = try stack.run(["up", "prod"])
        #expect(refused.status == 4 && refused.stderr.contains("does not hold"), "\(refused.stderr)")
    }
}
