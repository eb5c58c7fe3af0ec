import Foundation
import Testing
import TestSupport

/// The executable end to end: real git repositories, the real binary, exit codes and output.
@Suite struct CLITests {
    static let valid = """
        description: the x stack
        inputs:
          tenant: {required: true, description: Tenant slug}
        secrets:
          TOKEN: {env: X_TOKEN, reject: [changeme]}
        phases:
          deploy:
            - name: release
              run: [tool, release, "${inputs.tenant}", "--token=${secrets.TOKEN}"]
          verify:
            - name: health
              run: [curl, -fsS, http://127.0.0.1/health]
        """

    func repo(_ files: [String: String] = ["stacks/x/prod.yaml": valid]) throws -> GitFixture {
        let fixture = try GitFixture()
        try fixture.commit("Add x/prod", files: files)
        return fixture
    }

    @Test func validatePassesAValidStackAndReadsTheCommitNotTheWorkTree() throws {
        let fixture = try repo()
        try fixture.write("stacks/x/prod.yaml", "this: [is not valid\n")
        let result = try CLI.run(["validate"], in: fixture.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("✓ x/prod  stacks/x/prod.yaml (2 steps)"))
        #expect(result.stdout.contains("all valid"))
    }

    @Test func validateListsEveryErrorWithItsLocationAndExits2() throws {
        let fixture = try repo()
        let good = try fixture.git(["rev-parse", "HEAD"])
        try fixture.commit("Break it", files: ["stacks/x/prod.yaml": """
            phases:
              deploy:
                - name: release
                  run: [tool]
                  timout: 5m
                - name: release
                  run: deploy now
            """])
        let result = try CLI.run(["validate", "prod"], in: fixture.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("stacks/x/prod.yaml:5:7: error: unknown key 'timout' in step 'release' (did you mean 'timeout'?)"))
        #expect(result.stderr.contains("stacks/x/prod.yaml:7:12: error: 'run' of step 'release' must be a list of arguments"))
        #expect(result.stderr.contains("1 invalid; nothing was run"))
        #expect(try CLI.run(["validate", "--rev", good], in: fixture.path).status == 0)

        let json = try CLI.run(["validate", "--format", "json"], in: fixture.path)
        #expect(json.status == 2)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["valid"] as? Bool == false)
        let targets = object?["targets"] as? [[String: Any]]
        let problems = targets?.first?["problems"] as? [[String: Any]]
        #expect(problems?.first?["line"] as? Int == 5)
        #expect(problems?.first?["column"] as? Int == 7)
    }

    @Test func planJSONHasTheDocumentedShapeAndNoSecret() throws {
        let fixture = try repo()
        let sha = try fixture.git(["rev-parse", "HEAD"])
        let result = try CLI.run(["plan", "prod", "--input", "tenant=acme", "--format", "json"], in: fixture.path,
                                 environment: ["X_TOKEN": "canary-5b1e9"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("canary-5b1e9") && !result.stderr.contains("canary-5b1e9"))
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(plan["stack"] as? String == "x")
        #expect(plan["environment"] as? String == "prod")
        #expect(plan["revision"] as? String == sha)
        let phases = try #require(plan["phases"] as? [[String: Any]])
        #expect(phases.map { $0["name"] as? String } == ["preflight", "migrate", "deploy", "verify", "postdeploy"])
        let deploy = try #require(phases[2]["steps"] as? [[String: Any]])
        #expect(deploy.first?["name"] as? String == "release")
        #expect(deploy.first?["argv"] as? [String] == ["tool", "release", "acme", "--token=••••"])
    }

    @Test func planNamesEveryMissingInputAndExits2() throws {
        let fixture = try repo()
        let result = try CLI.run(["plan", "x/prod"], in: fixture.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("stacks/x/prod.yaml:3:3: error: required input 'tenant' (Tenant slug) is missing; give --input tenant=VALUE"))
        #expect(result.stderr.contains("nothing was run"))
        #expect(result.stderr.contains("next: deployctl plan x/prod --input NAME=VALUE"))
    }

    @Test func planAgainstAnotherRevisionShowsStepChanges() throws {
        let fixture = try repo()
        let first = try fixture.git(["rev-parse", "HEAD"])
        try fixture.commit("Deploy with a canary", files: ["stacks/x/prod.yaml": Self.valid.replacingOccurrences(
            of: "run: [tool, release, \"${inputs.tenant}\", \"--token=${secrets.TOKEN}\"]",
            with: "run: [tool, release, --canary, \"${inputs.tenant}\"]\n      timeout: 30m")])
        let result = try CLI.run(["plan", "prod", "--input", "tenant=acme", "--against", first], in: fixture.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("changes since \(first.prefix(10)) \"Add x/prod\":"))
        #expect(result.stdout.contains("~ deploy/release"))
        #expect(result.stdout.contains("argv: tool release acme --token=•••• → tool release --canary acme"))
        #expect(result.stdout.contains("timeout: 10m → 30m"))
    }

    @Test func anAmbiguousTargetListsTheCandidates() throws {
        let fixture = try repo(["stacks/x/prod.yaml": Self.valid, "stacks/y/prod.yaml": "description: y\n"])
        let result = try CLI.run(["plan", "prod"], in: fixture.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("error: 'prod' is an environment of several stacks: x/prod, y/prod. Name one as STACK/ENV."))
        let stacks = try CLI.run(["stacks"], in: fixture.path)
        #expect(stacks.stdout.contains("x/prod  the x stack"))
        #expect(stacks.stdout.contains("y/prod  y"))
    }

    /// `stacks` keeps what it showed by the blob ids of every file each target was read from:
    /// a repository of hundreds of stacks is listed without parsing what did not change.
    @Test func stacksReadsAgainOnlyWhatChangedSinceTheLastListing() throws {
        let base = "description: one\nphases:\n  deploy:\n    - {name: a, run: [echo, ok]}\n"
        let fixture = try repo(["stacks/x/prod.yaml": "extends: _base.yaml\n", "stacks/x/_base.yaml": base, "stacks/y/prod.yaml": "description: y\n"])
        let first = try CLI.run(["stacks"], in: fixture.path)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("  x/prod  one") && first.stdout.contains("  y/prod  y"), "\(first.stdout)")
        let cacheFile = fixture.path + "/.deployctl/cache/stacks.tsv"
        let cached = try String(contentsOfFile: cacheFile, encoding: .utf8)
        #expect(cached.contains("_base.yaml"), "x/prod's record names the file it extends: \(cached)")

        // A hit really is a hit: a record whose files are unchanged is shown as recorded.
        #expect(cached.contains("stacks/y/prod.yaml\t1\ty\t"), "\(cached)")
        try cached.replacingOccurrences(of: "stacks/y/prod.yaml\t1\ty\t", with: "stacks/y/prod.yaml\t1\tfrom the cache\t")
            .write(toFile: cacheFile, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["stacks"], in: fixture.path).stdout.contains("  y/prod  from the cache"))

        // Only the shared part changes (and breaks): x/prod is read again, y/prod is not.
        try fixture.commit("Break the base", files: ["stacks/x/_base.yaml": "description: two\nphases: [broken\n"])
        let second = try CLI.run(["stacks"], in: fixture.path)
        #expect(second.stdout.contains("✗ x/prod") && second.stdout.contains("(invalid: deployctl validate x/prod)"), "\(second.stdout)")
        #expect(second.stdout.contains("  y/prod  from the cache"), "\(second.stdout)")

        // A cache that cannot be read is only a miss.
        try "not a cache".write(toFile: cacheFile, atomically: true, encoding: .utf8)
        let third = try CLI.run(["stacks"], in: fixture.path)
        #expect(third.status == 0 && third.stdout.contains("✗ x/prod") && third.stdout.contains("  y/prod  y"), "\(third.stdout)")
    }

    /// The targets of a revision are kept by the id of its `stacks/` tree: `status` of every
    /// target (and completion) reads the root's tree and no stack directory while that tree is
    /// unchanged. `validate` (a CI gate) never trusts a file of the state directory.
    @Test func theCatalogIsKeptByTheStacksTreeAndReadAgainWhenItChanges() throws {
        let fixture = try repo(["stacks/x/prod.yaml": "description: x\n", "README.md": "one\n"])
        let cacheFile = fixture.path + "/.deployctl/cache/catalog.tsv"
        #expect(try CLI.run(["stacks"], in: fixture.path).status == 0)
        #expect(try CLI.run(["status"], in: fixture.path).status == 0)
        let tree = try fixture.git(["rev-parse", "HEAD:stacks"])
        let cached = try String(contentsOfFile: cacheFile, encoding: .utf8)
        #expect(cached.hasPrefix("deployctl catalog cache 1\t") && cached.contains("\t\(tree)\n"), "\(cached)")
        #expect(cached.contains("stacks/x/prod.yaml\t\(try fixture.git(["rev-parse", "HEAD:stacks/x/prod.yaml"]))\nend\t1\n"), "\(cached)")

        // A hit really is a hit: a file only the cache names is listed.
        let ghost = cached.replacingOccurrences(of: "end\t1\n", with: "stacks/ghost/prod.yaml\t\(String(repeating: "0", count: 40))\nend\t2\n")
        try ghost.write(toFile: cacheFile, atomically: true, encoding: .utf8)
        let hit = try CLI.run(["status"], in: fixture.path)
        #expect(hit.stdout.contains("ghost/prod") && hit.stdout.contains("x/prod"), "\(hit.stdout)")
        let validate = try CLI.run(["validate"], in: fixture.path)
        #expect(validate.status == 0 && !validate.stdout.contains("ghost"), "validate lists from git: \(validate.stdout)")

        // A file cut short (its end line missing or miscounted) is a miss.
        try ghost.replacingOccurrences(of: "end\t2\n", with: "").write(toFile: cacheFile, atomically: true, encoding: .utf8)
        #expect(!(try CLI.run(["status"], in: fixture.path).stdout.contains("ghost")))
        try ghost.replacingOccurrences(of: "end\t2\n", with: "end\t3\n").write(toFile: cacheFile, atomically: true, encoding: .utf8)
        #expect(!(try CLI.run(["status"], in: fixture.path).stdout.contains("ghost")))
        try ghost.write(toFile: cacheFile, atomically: true, encoding: .utf8)

        // A commit outside stacks/ keeps the tree (still a hit); one inside it is read again.
        try fixture.commit("Outside", files: ["README.md": "two\n"])
        #expect(try CLI.run(["status"], in: fixture.path).stdout.contains("ghost/prod"))
        try fixture.commit("Add y", files: ["stacks/y/prod.yaml": "description: y\n"])
        let changed = try CLI.run(["status"], in: fixture.path)
        #expect(!changed.stdout.contains("ghost") && changed.stdout.contains("y/prod"), "\(changed.stdout)")

        // A cache that cannot be read is only a miss.
        try "not a cache".write(toFile: cacheFile, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["status"], in: fixture.path).stdout.contains("y/prod"))
    }

    /// While the `stacks/` tree is the one listed last, `stacks` shows its records as they are,
    /// but a file a target extends from outside stacks/ is still looked up.
    @Test func anUnchangedStacksTreeStillRereadsWhatATargetExtendsFromOutsideIt() throws {
        let fixture = try repo(["stacks/x/prod.yaml": "extends: ../../common.yaml\n", "common.yaml": "description: one\n"])
        #expect(try CLI.run(["stacks"], in: fixture.path).stdout.contains("  x/prod  one"))
        let cacheFile = fixture.path + "/.deployctl/cache/stacks.tsv"
        let cached = try String(contentsOfFile: cacheFile, encoding: .utf8)
        #expect(cached.contains("\t\(try fixture.git(["rev-parse", "HEAD:stacks"]))\n") && cached.hasSuffix("end\t1\n"), "\(cached)")

        // The same tree: the listing is the cache's, a record only it holds included ...
        let ghost = cached.replacingOccurrences(of: "end\t1\n", with: "stacks/ghost/prod.yaml\t1\tonly in the cache\nend\t2\n")
        try ghost.write(toFile: cacheFile, atomically: true, encoding: .utf8)
        let hit = try CLI.run(["stacks"], in: fixture.path)
        #expect(hit.stdout.contains("  ghost/prod  only in the cache") && hit.stdout.contains("  x/prod      one"), "\(hit.stdout)")
        // ... unless the file was cut short.
        try ghost.replacingOccurrences(of: "end\t2\n", with: "").write(toFile: cacheFile, atomically: true, encoding: .utf8)
        #expect(!(try CLI.run(["stacks"], in: fixture.path).stdout.contains("ghost")))
        try ghost.write(toFile: cacheFile, atomically: true, encoding: .utf8)

        // A file extended from outside stacks/ changes: that target is read again.
        try fixture.commit("Change the shared part", files: ["common.yaml": "description: two\n"])
        let listed = try CLI.run(["stacks"], in: fixture.path)
        #expect(listed.stdout.contains("  x/prod  two") && !listed.stdout.contains("ghost"), "\(listed.stdout)\(listed.stderr)")
        // And one that was missing appears.
        try fixture.commit("Point at a file to come", files: ["stacks/x/prod.yaml": "extends: ../../later.yaml\n"])
        #expect(try CLI.run(["stacks"], in: fixture.path).stdout.contains("✗ x/prod"))
        try fixture.commit("Add it", files: ["later.yaml": "description: later\n"])
        #expect(try CLI.run(["stacks"], in: fixture.path).stdout.contains("  x/prod  later"))
    }

    /// `status` of every target asks the journal only about targets it has records of; the
    /// others read exactly as `status TARGET` says of them.
    @Test func statusOfATargetNeverDeployedIsTheSameAloneAndInTheList() throws {
        let fixture = try repo(["stacks/x/prod.yaml": Self.valid, "stacks/y/prod.yaml": "description: y\nphases:\n  deploy:\n    - {name: a, run: [echo, ok]}\n"])
        #expect(try CLI.run(["up", "y/prod"], in: fixture.path).status == 0)
        let all = try #require(try JSONSerialization.jsonObject(with: Data(try CLI.run(["status", "--format", "json"], in: fixture.path).stdout.utf8)) as? [[String: Any]])
        let alone = try #require(try JSONSerialization.jsonObject(with: Data(try CLI.run(["status", "x/prod", "--format", "json"], in: fixture.path).stdout.utf8)) as? [String: Any])
        let listed = try #require(all.first { $0["target"] as? String == "x/prod" })
        #expect(NSDictionary(dictionary: listed) == NSDictionary(dictionary: alone), "\(listed) vs \(alone)")
        #expect(all.first { $0["target"] as? String == "y/prod" }?["state"] as? String == "deployed")
    }

    /// The heavy system libraries load on first use, as the dynamic loader itself reports
    /// (LD_DEBUG): `--version`, a usage error, `status`, `plan`, `stacks` and `validate` on an
    /// ordinary repository and the SQLite store load none of libgit2, libcurl and libpq (GitKit
    /// reads the repository natively); a command that needs libgit2 (`revisions` walks history)
    /// loads it, and libgit2 still binds its CA-bundle read to deployctl's stand-in
    /// (no_ca_bundle.c), so loading it later did not bring back the bundle parse.
    @Test func libraryLoadsFollowWhatACommandNeeds() throws {
        let fixture = try repo()
        let loaded: ([String], Int32) throws -> String = { arguments, status in
            let result = try CLI.run(arguments, in: fixture.path, environment: ["LD_DEBUG": "files,bindings", "X_TOKEN": "a-token"])
            #expect(result.status == status, "\(arguments): \(result.stdout)")
            return result.stderr
        }
        for arguments in [["--version"], ["no-such-verb"], ["status", "x/prod"], ["status"], ["plan", "x/prod", "--input", "tenant=acme"], ["stacks"], ["validate"]] {
            let output = try loaded(arguments, arguments == ["no-such-verb"] ? 2 : 0)
            for library in ["libgit2.so", "libcurl.so", "libpq.so"] {
                #expect(!output.contains("file=\(library)"), "\(arguments) loaded \(library)")
            }
        }
        let revisions = try loaded(["revisions", "x/prod"], 0)
        #expect(revisions.contains("file=libgit2.so"))
        #expect(!revisions.contains("file=libcurl.so") && !revisions.contains("file=libpq.so"))
        let binding = revisions.split(separator: "\n").first { $0.contains("binding file") && $0.contains("libgit2.so") && $0.contains("`mbedtls_x509_crt_parse_file'") }
        #expect(binding?.contains("to \(CLI.binary) [0]") == true, "\(binding ?? "libgit2 binds no mbedtls_x509_crt_parse_file")")
    }

    /// The read-only commands run on the main thread from start to exit: the concurrency
    /// runtime's pool (a dispatch worker and its manager, ~0.14 of `status`'s time) starts only for
    /// work that runs beside other work. A cold listing and `validate` of two targets, read on
    /// both cores, show the trace sees the threads it should.
    @Test func readOnlyCommandsStartNoThread() throws {
        let fixture = try repo(["stacks/x/prod.yaml": Self.valid, "stacks/y/prod.yaml": "description: y\n"])
        let trace = try TemporaryDirectory.file(prefix: "clones").path
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let threads: ([String]) throws -> [Substring] = { arguments in
            let result = try Shell.capture("strace", ["-f", "-qq", "-e", "trace=clone,clone3,fork,vfork", "-e", "signal=none", "-o", trace, CLI.binary] + arguments,
                                           environment: ["DEPLOYCTL_REPO": "", "DEPLOYCTL_STATE": "", "X_TOKEN": "a-token"],
                                           directory: fixture.path, closedStdin: true)
            #expect(result.status == 0, "\(arguments) under strace (can it trace here?): \(result.stderr.suffix(400))")
            return try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").filter { $0.contains("clone") || $0.contains("fork") }
        }
        // A listing with its cache cold reads the targets on both cores, as validate does.
        #expect(try !threads(["stacks"]).isEmpty == (ProcessInfo.processInfo.activeProcessorCount > 1))
        for arguments in [["--version"], ["status", "x/prod"], ["status"], ["plan", "x/prod", "--input", "tenant=acme"], ["stacks"], ["runs"]] {
            #expect(try threads(arguments).isEmpty, "\(arguments)")
        }
        if ProcessInfo.processInfo.activeProcessorCount > 1 {
            #expect(try threads(["validate"]).contains { $0.contains("clone") }, "validate read two targets on one thread")
        }
    }

    /// A linked worktree is a shape GitKit leaves to libgit2: the same commands work there,
    /// reading the worktree's own HEAD.
    @Test func aLinkedWorktreeIsReadThroughLibgit2() throws {
        let fixture = try repo()
        let scratch = try TemporaryDirectory.make(prefix: "worktree")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try fixture.commit("Another stack", files: ["stacks/y/prod.yaml": "description: y\n"])
        try fixture.git(["worktree", "add", "-q", "--detach", scratch.path + "/tree", "HEAD~1"])
        let stacks = try CLI.run(["stacks"], in: scratch.path + "/tree", environment: ["LD_DEBUG": "files"])
        #expect(stacks.status == 0, "\(stacks.stderr.suffix(400))")
        #expect(stacks.stdout.contains("x/prod") && !stacks.stdout.contains("y/prod"), "\(stacks.stdout)")
        #expect(stacks.stderr.contains("file=libgit2.so"))
    }

    @Test func revisionsMatchGitLogAndFollowTheExtendsChain() throws {
        let fixture = try repo(["stacks/x/prod.yaml": "extends: _base.yaml\n", "stacks/x/_base.yaml": "description: one\n"])
        try fixture.commit("Unrelated", files: ["README": "r\n"])
        try fixture.commit("Change the base", files: ["stacks/x/_base.yaml": "description: two\n"])
        try fixture.commit("Another stack", files: ["stacks/y/prod.yaml": "description: y\n"])
        let result = try CLI.run(["revisions", "x/prod", "--format", "json"], in: fixture.path)
        #expect(result.status == 0, "\(result.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["commit"] as? String } == (try fixture.logHashes(paths: ["stacks/x/prod.yaml", "stacks/x/_base.yaml"])))
        #expect(entries.map { $0["subject"] as? String } == ["Change the base", "Add x/prod"])
        #expect(entries.first?["author"] as? String == "Ada Lovelace <ada@example.test>")
        #expect((entries.first?["time"] as? String)?.hasSuffix("Z") == true, "UTC, as every JSON time")
        #expect((entries.first?["author_time"] as? String)?.hasSuffix("+00:00") == true, "the author's own clock, as git's %aI")
        #expect(entries.first?["marks"] as? [String] == [])
    }

    @Test func aBareRepositoryThroughRepoOrTheEnvironment() throws {
        let source = try repo()
        let bare = try GitFixture(bare: true)
        try source.git(["push", "-q", bare.path, "main"])
        let elsewhere = try TemporaryDirectory.make(prefix: "cwd")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let byFlag = try CLI.run(["validate", "--repo", bare.path], in: elsewhere.path)
        #expect(byFlag.status == 0, "\(byFlag.stderr)")
        let byEnv = try CLI.run(["stacks"], in: elsewhere.path, environment: ["DEPLOYCTL_REPO": bare.path])
        #expect(byEnv.stdout.contains("x/prod"))
    }

    @Test func usageMistakesExit2WithTheNextCommand() throws {
        let fixture = try repo()
        let badRev = try CLI.run(["validate", "--rev", "no-such-tag"], in: fixture.path)
        #expect(badRev.status == 2)
        #expect(badRev.stderr.contains("unknown revision 'no-such-tag'"))
        #expect(badRev.stderr.contains("next:"))

        let noRepo = try TemporaryDirectory.make(prefix: "norepo")
        defer { try? FileManager.default.removeItem(at: noRepo) }
        let outside = try CLI.run(["stacks"], in: noRepo.path)
        #expect(outside.status == 2)
        #expect(outside.stderr.contains("no git repository at or above"))
        #expect(outside.stderr.contains("--repo PATH"))

        #expect(try CLI.run(["plan", "--no-such-flag", "prod"], in: fixture.path).status == 2)
        #expect(try CLI.run(["plan", "lcoal"], in: fixture.path).status == 2)
        #expect(try CLI.run(["--help"], in: fixture.path).stdout.contains("Exit codes: 0 ok"))
    }
}
