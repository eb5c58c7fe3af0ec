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
