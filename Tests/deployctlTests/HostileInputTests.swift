import Foundation
import Testing
import TestSupport

/// A descriptor is code anyone can propose, and CI validates every proposal: whatever a file
/// holds, validate ends with a verdict, and a refusal is a diagnostic with file:line:column.
@Suite struct HostileInputTests {
    static let head = "phases:\n  deploy:\n    - name: a\n      run: [echo, ok]\n"

    /// Nine aliases of nine aliases of …: `levels` lines stand for 9^levels strings.
    static func laughs(levels: Int) -> String {
        var lines = [head + "lol:", #"  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for level in 1..<levels {
            lines.append("  l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ",") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Validates under a memory ceiling (as a guard: a regression fails instead of taking the
    /// machine down) and returns the result with the peak RSS in KB.
    static func validate(_ descriptor: String) throws -> (Shell.Result, Int) {
        let fixture = try GitFixture()
        try fixture.commit("hostile", files: ["stacks/x/prod.yaml": descriptor])
        let result = try Shell.capture("/bin/bash", ["-c", "ulimit -v 4000000; exec /usr/bin/time -f maxrss_kb=%M timeout 60 \"$0\" validate", CLI.binary],
                                       environment: ["DEPLOYCTL_REPO": "", "DEPLOYCTL_STATE": ""], directory: fixture.path, closedStdin: true)
        let line = result.stderr.split(separator: "\n").last { $0.hasPrefix("maxrss_kb=") }
        return (result, line.flatMap { Int($0.dropFirst("maxrss_kb=".count)) } ?? .max)
    }

    @Test(arguments: [8, 40]) func aliasesThatExpandToBillionsAreRefusedNotExpanded(levels: Int) throws {
        let (result, kilobytes) = try Self.validate(Self.laughs(levels: levels))
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("stacks/x/prod.yaml:6:") && result.stderr.contains("expands to more than 100000 YAML nodes"), "\(result.stderr)")
        #expect(kilobytes < 100 * 1024, "peak RSS \(kilobytes) KB")
    }

    @Test func oneLongValueAliasedManyTimesIsRefused() throws {
        let descriptor = Self.head + "big: &b " + String(repeating: "x", count: 1_000_000) + "\ncopies: [" + Array(repeating: "*b", count: 20).joined(separator: ",") + "]\n"
        let (result, kilobytes) = try Self.validate(descriptor)
        #expect(result.status == 2 && result.stderr.contains("more than 16 MiB once YAML aliases are expanded"), "\(result.stderr)")
        #expect(kilobytes < 100 * 1024, "peak RSS \(kilobytes) KB")
    }

    @Test func aFewAliasesStillWork() throws {
        let descriptor = """
            defaults:
              env: &common {REGION: eu}
            phases:
              deploy:
                - {name: a, run: [echo, ok], env: *common}
            """
        let (result, _) = try Self.validate(descriptor)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    /// Found by `make fuzz`: a duration past Int.max trapped (arithmetic overflow) instead of
    /// being refused.
    @Test func aDurationTooLargeToCountIsRefusedNotATrap() throws {
        let descriptor = Self.head + "      timeout: 8888888888888888888\n    - name: b\n      run: [echo, ok]\n      timeout: 9999999999999999d\n"
        let (result, _) = try Self.validate(descriptor)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("stacks/x/prod.yaml:5:16: error: 'timeout' of step 'a' is not a duration: \"8888888888888888888\""), "\(result.stderr)")
        #expect(result.stderr.contains("stacks/x/prod.yaml:8:16: error: 'timeout' of step 'b' is not a duration"), "\(result.stderr)")
    }

    @Test func tooManyStepsAreRefusedAtTheFirstOneOverTheLimitWhichCanBeRaised() throws {
        let steps = (1...5_001).map { "    - {name: s\($0), run: [echo, \($0)]}" }.joined(separator: "\n")
        let descriptor = "phases:\n  deploy:\n" + steps + "\n"
        let (result, kilobytes) = try Self.validate(descriptor)
        #expect(result.status == 2, "\(result.stdout)")
        #expect(result.stderr.contains("stacks/x/prod.yaml:5003:") && result.stderr.contains("5001 steps, more than the 5000")
                && result.stderr.contains("DEPLOYCTL_MAX_STEPS"), "\(result.stderr)")
        #expect(kilobytes < 100 * 1024, "peak RSS \(kilobytes) KB")

        let fixture = try GitFixture()
        try fixture.commit("big", files: ["stacks/x/prod.yaml": descriptor])
        let raised = try CLI.run(["validate"], in: fixture.path, environment: ["DEPLOYCTL_MAX_STEPS": "6000", "DEPLOYCTL_STATE": ""])
        #expect(raised.status == 0, "\(raised.stderr)")
    }

    /// `command` (validate, plan, …) in `directory` under the same ceiling as `validate` above.
    static func bounded(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> (Shell.Result, Int) {
        let result = try Shell.capture("/bin/bash", ["-c", "ulimit -v 4000000; exec /usr/bin/time -f maxrss_kb=%M timeout 60 \"$@\"", "-", CLI.binary] + arguments,
                                       environment: ["DEPLOYCTL_REPO": "", "DEPLOYCTL_STATE": ""].merging(environment) { $1 },
                                       directory: directory, closedStdin: true)
        let line = result.stderr.split(separator: "\n").last { $0.hasPrefix("maxrss_kb=") }
        return (result, line.flatMap { Int($0.dropFirst("maxrss_kb=".count)) } ?? .max)
    }

    /// A 64 MiB descriptor is ~70 KB in git: before, validate inflated it, parsed it (3.3 s, 350 MB
    /// for 100 MiB) and would take the machine for a 1 GiB one. Refused from the object's header,
    /// whether it is loose, whole in a pack or a delta there, read natively or through libgit2
    /// (a linked worktree), by validate (every target) and by plan (one).
    @Test func aDescriptorOverTheSizeLimitIsRefusedBeforeItIsRead() throws {
        let fixture = try GitFixture()
        let filler = String(repeating: "# padding padding padding padding padding padding padding\n", count: (64 << 20) / 58)
        try fixture.commit("big", files: ["stacks/x/prod.yaml": Self.head + filler])
        try fixture.commit("bigger", files: ["stacks/x/prod.yaml": Self.head + "# changed\n" + filler])
        let expected = "stacks/x/prod.yaml:1:1: error: this file is "
        func check(_ arguments: [String], in directory: String, _ shape: String) throws {
            let (result, kilobytes) = try Self.bounded(arguments, in: directory)
            #expect(result.status == 2, "\(shape): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains(expected) && result.stderr.contains("more than the 1 MiB a descriptor may be")
                    && result.stderr.contains("DEPLOYCTL_MAX_DESCRIPTOR_BYTES"), "\(shape): \(result.stderr.prefix(600))")
            #expect(kilobytes < 100 * 1024, "\(shape): peak RSS \(kilobytes) KB")
        }
        try check(["validate"], in: fixture.path, "loose")
        try check(["plan", "x/prod"], in: fixture.path, "loose, plan")
        _ = try fixture.git(["gc", "-q", "--aggressive"])
        let objects = try fixture.git(["count-objects", "-v"])
        #expect(objects.contains("count: 0"), "everything packed: \(objects)")
        // The newer version whole in the pack, the older one a delta against it.
        try check(["validate", "--rev", "HEAD"], in: fixture.path, "packed")
        try check(["validate", "--rev", "HEAD~1"], in: fixture.path, "a delta")
        try check(["plan", "x/prod", "--rev", "HEAD~1"], in: fixture.path, "a delta, plan")
        _ = try fixture.git(["worktree", "add", "-q", "--detach", fixture.path + "-linked", "HEAD"])
        defer { try? FileManager.default.removeItem(atPath: fixture.path + "-linked") }
        try check(["validate"], in: fixture.path + "-linked", "libgit2")
    }

    @Test func theDescriptorSizeLimitCanBeRaised() throws {
        let fixture = try GitFixture()
        try fixture.commit("big", files: ["stacks/x/prod.yaml": Self.head + "description: " + String(repeating: "x", count: 2 << 20) + "\n"])
        let (refused, _) = try Self.bounded(["validate"], in: fixture.path)
        #expect(refused.status == 2 && refused.stderr.contains("stacks/x/prod.yaml:1:1: error: this file is \(Self.head.utf8.count + (2 << 20) + 14) bytes"), "\(refused.stderr.prefix(400))")
        let (raised, _) = try Self.bounded(["validate"], in: fixture.path, environment: ["DEPLOYCTL_MAX_DESCRIPTOR_BYTES": "\(4 << 20)"])
        #expect(raised.status == 0, "\(raised.stderr.prefix(400))")
    }

    /// A commit whose `stacks/` holds `count` directories, each with the same one-step prod
    /// descriptor: the tree object written whole (`git mktree` takes 9 s for 500,000 entries,
    /// committing files minutes), never checked out.
    static func manyStacks(_ count: Int) throws -> GitFixture {
        let fixture = try GitFixture()
        let blob = try fixture.git(["hash-object", "-w", "--stdin"], input: head).trimmingCharacters(in: .whitespacesAndNewlines)
        let stack = try fixture.git(["mktree"], input: "100644 blob \(blob)\tprod.yaml\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let raw = stride(from: 0, to: 40, by: 2).map { UInt8(stack.dropFirst($0).prefix(2), radix: 16)! }
        var tree: [UInt8] = []
        tree.reserveCapacity(count * 35)
        for index in 1...count {
            let name = String(index)
            tree += Array("40000 s".utf8) + Array(repeating: UInt8(ascii: "0"), count: max(0, 7 - name.utf8.count)) + Array(name.utf8) + [0] + raw
        }
        let file = fixture.path + "/.git/stacks-tree"
        try Data(tree).write(to: URL(fileURLWithPath: file))
        let stacks = try fixture.git(["hash-object", "-t", "tree", "-w", "--literally", file]).trimmingCharacters(in: .whitespacesAndNewlines)
        let root = try fixture.git(["mktree"], input: "040000 tree \(stacks)\tstacks\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try fixture.git(["commit-tree", root, "-m", "many"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try fixture.git(["update-ref", "HEAD", commit])  // no checkout: 500,000 directories
        return fixture
    }

    /// 200,000 stacks took `stacks` 28 s and 1.9 GB. Past 10,000 the listing is refused (the
    /// limit can be raised); a tree past 16 MiB (~460,000 entries) is refused from its header.
    @Test func aRepositoryOfTooManyStacksIsRefusedNotListed() throws {
        let fixture = try Self.manyStacks(10_001)
        let (listed, kilobytes) = try Self.bounded(["stacks"], in: fixture.path)
        #expect(listed.status == 2, "\(listed.stdout.suffix(300))")
        #expect(listed.stderr.contains("stacks/ at ") && listed.stderr.contains("holds 10001 directories, more than the 10000 deployctl lists")
                && listed.stderr.contains("DEPLOYCTL_MAX_STACKS"), "\(listed.stderr.prefix(400))")
        #expect(kilobytes < 100 * 1024, "peak RSS \(kilobytes) KB")
        let (validated, _) = try Self.bounded(["validate"], in: fixture.path)
        #expect(validated.status == 2 && validated.stderr.contains("holds 10001 directories"), "\(validated.stderr.prefix(400))")
        let (raised, _) = try Self.bounded(["stacks"], in: fixture.path, environment: ["DEPLOYCTL_MAX_STACKS": "10001"])
        #expect(raised.status == 0 && raised.stdout.contains("s0010001/prod"), "\(raised.stderr.prefix(400))")

        let huge = try Self.manyStacks(500_000)
        let (planned, plannedKilobytes) = try Self.bounded(["plan", "s0000001/prod"], in: huge.path)
        #expect(planned.status != 0 && planned.stderr.contains("bytes, more than the 16777216 bytes deployctl reads of one"), "\(planned.stderr.prefix(400))")
        #expect(plannedKilobytes < 100 * 1024, "peak RSS \(plannedKilobytes) KB")
    }

    /// Files a pull request or a descriptor names, read from disk: a descriptor that is a link
    /// to /dev/zero (`validate --worktree` in CI) and a secret `file: /dev/zero` read forever
    /// before; refused now, each naming the file.
    @Test func filesThatNeverEndAreRefusedNotRead() throws {
        let fixture = try GitFixture()
        let secret = Self.head.replacingOccurrences(of: "phases:", with: "secrets:\n  TOKEN: {file: /dev/zero}\nphases:")
        try fixture.commit("ok", files: ["stacks/x/prod.yaml": Self.head, "stacks/y/prod.yaml": secret])
        try FileManager.default.removeItem(atPath: fixture.path + "/stacks/x/prod.yaml")
        try FileManager.default.createSymbolicLink(atPath: fixture.path + "/stacks/x/prod.yaml", withDestinationPath: "/dev/zero")
        let (worktree, kilobytes) = try Self.bounded(["validate", "--worktree"], in: fixture.path)
        #expect(worktree.status == 2, "\(worktree.stdout)\(worktree.stderr)")
        #expect(worktree.stderr.contains("stacks/x/prod.yaml:1:1: error: cannot read stacks/x/prod.yaml:") && worktree.stderr.contains("is a symbolic link"),
                "\(worktree.stderr.prefix(600))")
        #expect(kilobytes < 100 * 1024, "peak RSS \(kilobytes) KB")
        let (plan, _) = try Self.bounded(["plan", "y/prod"], in: fixture.path)
        #expect(plan.status == 0 && plan.stdout.contains("TOKEN from file /dev/zero: unreadable"), "\(plan.stdout)\(plan.stderr)")
        let (up, _) = try Self.bounded(["up", "y/prod"], in: fixture.path)
        #expect(up.status == 2, "\(up.stdout)\(up.stderr)")
        #expect(up.stderr.contains("secret 'TOKEN' cannot be read from file /dev/zero: /dev/zero is not a regular file"), "\(up.stderr.prefix(600))")
        let (input, _) = try Self.bounded(["plan", "x/prod", "--input-file", "/dev/zero"], in: fixture.path)
        #expect(input.status == 2 && input.stderr.contains("cannot read --input-file: /dev/zero is not a regular file"), "\(input.stderr.prefix(400))")
        // A pipe the operator gives (process substitution) is read, to its end: here it sets an
        // input the descriptor does not declare, and the refusal quotes the pipe's line.
        let piped = try Shell.capture("/bin/bash", ["-c", "exec \"$0\" plan y/prod --input-file <(printf 'REGION=eu\\n')", CLI.binary],
                                      environment: ["DEPLOYCTL_REPO": "", "DEPLOYCTL_STATE": ""], directory: fixture.path, closedStdin: true)
        #expect(piped.status == 2 && piped.stderr.contains("/dev/fd/") && piped.stderr.contains("input file sets 'REGION'"), "\(piped.stdout)\(piped.stderr)")
    }

    @Test func valuesThatCouldNeverBeAnArgumentAreRefusedWhereTheyStand() throws {
        let long = String(repeating: "x", count: 200_000)
        let many = Array(repeating: "a", count: 5_000).joined(separator: ", ")
        let name = String(repeating: "n", count: 300)
        let descriptor = """
            phases:
              deploy:
                - name: long
                  run: [echo, "\(long)"]
                - name: many
                  run: [echo, \(many)]
                - name: \(name)
                  run: [echo, ok]
                - name: script
                  shell: "\(long)"
            """
        let (result, kilobytes) = try Self.validate(descriptor)
        #expect(result.status == 2, "\(result.stdout)")
        let errors = result.stderr.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors.count == 4, "\(errors.map { $0.prefix(160) })")
        #expect(result.stderr.contains("stacks/x/prod.yaml:4:19: error: each argument of 'run' of step 'long' is 200000 bytes, over 128 KiB"), "\(result.stderr.prefix(600))")
        #expect(result.stderr.contains("MAX_ARG_STRLEN"))
        #expect(result.stderr.contains("'run' of step 'many' has 5001 arguments, more than 4096"))
        #expect(result.stderr.contains("stacks/x/prod.yaml:7:13: error: step name 'nnnn"), "\(result.stderr.prefix(900))")
        #expect(result.stderr.contains("'shell' of step 'script' is 200000 bytes"))
        #expect(kilobytes < 100 * 1024, "peak RSS \(kilobytes) KB")
    }
}

/// What `make fuzz` found stays found: every input in Tests/Fuzz/Regressions, and every seed
/// stack as a descriptor, replayed through the fuzz target's parsers (a crash fails the test).
@Suite struct FuzzRegressionTests {
    @Test func everyRegressionAndSeedStackReplaysWithoutACrash() throws {
        let replay = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("deployctl-fuzz").path
        let inputs = try TemporaryDirectory.make(prefix: "fuzz-inputs")
        defer { try? FileManager.default.removeItem(at: inputs) }
        let stacks = try RepositoryFiles.files(under: "stacks")
        for (index, (_, text)) in stacks.sorted(by: { $0.key < $1.key }).enumerated() {
            try (Data([0]) + Data(text.utf8)).write(to: inputs.appendingPathComponent("stack-\(index)"))
        }
        let regressions = RepositoryFiles.root.appendingPathComponent("Tests/Fuzz/Regressions").path
        let result = try Shell.capture(replay, [inputs.path, regressions], closedStdin: true)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let regressionCount = (try? FileManager.default.contentsOfDirectory(atPath: regressions).count) ?? 0
        #expect(result.stdout.contains("replayed \(stacks.count + regressionCount) input(s)"), "\(result.stdout)")
    }
}
