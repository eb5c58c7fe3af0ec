import Foundation
import Testing
import TestSupport

/// Before a commit: --worktree for validate, plan and doctor, never for a run; a repository
/// with no commits; inputs validate cannot see; what a stack depends on besides its descriptor.
@Suite struct EditLoopTests {
    static let stack = """
        inputs:
          tenant: {required: true}
        paths: [db/migrations, "scripts/*.sh"]
        phases:
          deploy:
            - name: release
              run: [./scripts/release.sh, "${inputs.tenant}"]
        """

    @Test func aRepositoryWithNoCommitsGetsOneClearMessageWhoseNextStepsWork() throws {
        let fixture = try GitFixture()
        try fixture.write("stacks/x/prod.yaml", Self.stack)
        for command in [["validate"], ["plan", "prod"], ["up", "prod"], ["status", "prod"], ["revisions", "prod"]] {
            let result = try CLI.run(command, in: fixture.path)
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("has no commits yet, and deployctl reads descriptors only from commits"), "\(command): \(result.stderr)")
            #expect(result.stderr.contains("next: check the files as they are on disk: deployctl validate --worktree"))
            #expect(!result.stderr.contains("unknown revision"))
        }
        // The next step it names works.
        let worktree = try CLI.run(["validate", "--worktree"], in: fixture.path)
        #expect(worktree.status == 0, "\(worktree.stdout)\(worktree.stderr)")
        #expect(worktree.stdout.contains("[uncommitted] validated 1 target(s) at uncommitted files (no commits yet): all valid"))
    }

    @Test func worktreeReadsTheDiskLabelsEveryLineAndRunsNeverDo() throws {
        let fixture = try GitFixture()
        try fixture.commit("Add x/prod", files: ["stacks/x/prod.yaml": Self.stack, "scripts/release.sh": "#!/bin/sh\necho released\n"])
        try fixture.write("stacks/x/prod.yaml", Self.stack.replacingOccurrences(of: "  deploy:", with: "  deploy:\n    - {name: announce, run: [echo, hi]}"))

        let committed = try CLI.run(["plan", "prod", "--input", "tenant=acme"], in: fixture.path)
        #expect(!committed.stdout.contains("announce"), "plan reads the commit unless told otherwise")
        let plan = try CLI.run(["plan", "prod", "--worktree", "--input", "tenant=acme"], in: fixture.path)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("announce"))
        let lines = plan.stdout.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("[uncommitted] ") }, "every line: \(plan.stdout)")
        let json = try CLI.run(["plan", "prod", "--worktree", "--input", "tenant=acme", "--format", "json"], in: fixture.path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["uncommitted"] as? Bool == true)
        #expect(object["revision"] as? String == (try fixture.git(["rev-parse", "HEAD"])), "the commit the files sit on")

        // A broken file on disk: diagnostics keep FILE:LINE:COL first, and say uncommitted too.
        try fixture.write("stacks/x/prod.yaml", "phases:\n  deploy:\n    - name: release\n      timout: 5m\n      run: [true]\n")
        let broken = try CLI.run(["validate", "--worktree"], in: fixture.path)
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("stacks/x/prod.yaml:4:7: error: unknown key 'timout' in step 'release' (did you mean 'timeout'?) [uncommitted]"), "\(broken.stderr)")
        #expect(try CLI.run(["validate"], in: fixture.path).status == 0, "the commit is still valid")

        let up = try CLI.run(["up", "prod", "--worktree"], in: fixture.path)
        #expect(up.status == 2)
        #expect(up.stderr.contains("up never runs the work tree: what ran must be a commit"))
        for command in [["rollback", "prod", "--worktree"], ["resume", "x", "--worktree"]] {
            #expect(try CLI.run(command, in: fixture.path).status == 2)
        }
        #expect(try CLI.run(["plan", "prod", "--worktree", "--rev", "HEAD~0"], in: fixture.path).stderr.contains("give one of them"))
    }

    @Test func requiredInputsWithoutAValueAreNotesOrWithRequireInputsErrors() throws {
        let fixture = try GitFixture()
        try fixture.commit("Add x/prod", files: ["stacks/x/prod.yaml": Self.stack])
        let note = try CLI.run(["validate"], in: fixture.path)
        #expect(note.status == 0)
        #expect(note.stdout.contains("1 note(s)"))
        #expect(note.stderr.contains("stacks/x/prod.yaml:2:3: note: required input 'tenant' has no value here"))
        #expect(note.stderr.contains("DEPLOYCTL_INPUT_TENANT"))
        let strict = try CLI.run(["validate", "--require-inputs"], in: fixture.path)
        #expect(strict.status == 2)
        #expect(strict.stderr.contains("error: required input 'tenant' has no value here"))
        // The places validate can see: the environment, an input file.
        #expect(try CLI.run(["validate", "--require-inputs"], in: fixture.path, environment: ["DEPLOYCTL_INPUT_TENANT": "acme"]).status == 0)
        try fixture.write("inputs.env", "tenant=acme\n")
        #expect(try CLI.run(["validate", "--require-inputs", "--input-file", "inputs.env"], in: fixture.path).status == 0)
    }

    @Test func revisionsAndPlanAgainstSeeThePathsAStackUses() throws {
        let stack = try StackFixture(Self.stack, files: ["scripts/release.sh": "#!/bin/sh\necho released\n", "db/migrations/001.sql": "create table a();\n"])
        #expect(try stack.run(["up", "prod", "--input", "tenant=acme"]).status == 0)
        let deployed = try stack.git.git(["rev-parse", "HEAD"])
        let migration = try stack.git.commit("Migration only", files: ["db/migrations/002.sql": "create table b();\n"])
        let script = try stack.git.commit("Script only", files: ["scripts/release.sh": "#!/bin/sh\necho released twice\n"])
        _ = try stack.git.commit("Neither (a note and a text file next to the scripts)", files: ["NOTES": "x\n", "scripts/README.txt": "x\n"])

        let revisions = try stack.run(["revisions", "prod", "--format", "json"])
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(revisions.stdout.utf8)) as? [[String: Any]])
        let commits = listed.compactMap { $0["commit"] as? String }
        #expect(commits.prefix(3) == [script, migration, deployed], "\(revisions.stdout)")
        #expect(listed.first { $0["commit"] as? String == deployed }?["marks"] as? [String] == ["deployed", "live"])
        // git agrees, with the same glob meaning (`*` within one directory).
        let git = try stack.git.git(["log", "--format=%H", "--", "stacks/x/prod.yaml", "db/migrations", ":(glob)scripts/*.sh"])
        let logged: [String] = git.split(separator: "\n").map { String($0) }
        #expect(commits == logged)

        let plan = try stack.run(["plan", "prod", "--input", "tenant=acme", "--against", deployed])
        #expect(plan.stdout.contains("none: the plans are the same"))
        #expect(plan.stdout.contains("files under the descriptor and its paths: 2 changed"))
        #expect(plan.stdout.contains("  A db/migrations/002.sql"))
        #expect(plan.stdout.contains("  M scripts/release.sh"))
        #expect(!plan.stdout.contains("README.txt"))
        // On disk, what git ignores is not a change.
        try stack.git.write(".gitignore", "__pycache__/\n")
        try stack.git.write("db/migrations/__pycache__/env.cpython-311.pyc", "bytes\n")
        try stack.git.write("db/migrations/003.sql", "create table c();\n")
        let disk = try stack.run(["plan", "prod", "--worktree", "--input", "tenant=acme", "--against", deployed])
        #expect(disk.stdout.contains("A db/migrations/003.sql"))
        #expect(!disk.stdout.contains("pycache"), "\(disk.stdout)")
        let json = try stack.run(["plan", "prod", "--input", "tenant=acme", "--against", deployed, "--format", "json"])
        let diff = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["diff"] as? [String: Any])
        #expect((diff["files"] as? [[String: String]])?.map { $0["path"] ?? "" } == ["db/migrations/002.sql", "scripts/release.sh"])

        #expect(try stack.run(["validate"]).status == 0)
        try stack.git.commit("A path that climbs out", files: ["stacks/x/prod.yaml": Self.stack.replacingOccurrences(of: "db/migrations", with: "../elsewhere")])
        let climbs = try stack.run(["validate"])
        #expect(climbs.status == 2)
        #expect(climbs.stderr.contains("stacks/x/prod.yaml:3:9: error: 'paths' entry \"../elsewhere\" must be relative to the repository root, without '..'"), "\(climbs.stderr)")
    }
}
