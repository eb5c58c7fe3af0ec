import Foundation
import Testing
import TestSupport

/// A secret in an argv is readable by every user of the machine while the process runs. validate
/// warns (refuses under --strict) unless the step says why; `stdin:` and `env:` carry a secret
/// instead; and the process list, sampled while steps run, shows which way a run went.
@Suite struct SecretsInArgvTests {
    static let descriptor = """
        secrets:
          TOKEN: {env: X_TOKEN}
        phases:
          deploy:
            - name: leaky
              run: [sh, -c, "sleep 0.3", sh, "--token=${secrets.TOKEN}"]
            - name: scripted
              shell: "echo ${secrets.TOKEN} | wc -c"
        backup:
          path: /tmp/none
          take: [pg_dump, --dbname, "${secrets.TOKEN}"]
          verify: [true]
          restore: [true]
        """

    @Test func validateWarnsWithTheLocationAndStrictRefuses() throws {
        let stack = try StackFixture(Self.descriptor)
        let relaxed = try stack.run(["validate"])
        #expect(relaxed.status == 0, "\(relaxed.stdout)\(relaxed.stderr)")
        #expect(relaxed.stdout.contains("3 warning(s)"), "\(relaxed.stdout)")
        #expect(relaxed.stderr.contains("stacks/x/prod.yaml:6:38: warning: secret 'TOKEN' in the argv of step 'leaky' is readable by every user of this machine"), "\(relaxed.stderr)")
        #expect(relaxed.stderr.contains("pass it in 'env:' (e.g. PGPASSWORD: \"${secrets.TOKEN}\") or 'stdin:'"))
        #expect(relaxed.stderr.contains("stacks/x/prod.yaml:8:14: warning: secret 'TOKEN' in the 'shell:' script of step 'scripted', which is an argument of sh,"), "\(relaxed.stderr)")
        #expect(relaxed.stderr.contains("warning: secret 'TOKEN' in the argv of backup.take"), "\(relaxed.stderr)")

        let strict = try stack.run(["validate", "--strict"])
        #expect(strict.status == 2, "\(strict.stdout)\(strict.stderr)")
        #expect(strict.stderr.contains("stacks/x/prod.yaml:6:38: error: secret 'TOKEN' in the argv of step 'leaky'"), "\(strict.stderr)")
        #expect(strict.stdout.contains("✗ x/prod  3 error(s)"), "\(strict.stdout)")

        // plan shows the same warnings, located; the plan itself still works.
        let plan = try stack.run(["plan", "prod"], environment: ["X_TOKEN": "t0ken-value"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("warning: stacks/x/prod.yaml:6:38: secret 'TOKEN' in the argv of step 'leaky'"), "\(plan.stdout)")
    }

    /// One step that passes the secret in its argv, allowed with `allowance`.
    static func vendor(allowance: String) -> String {
        """
        secrets:
          TOKEN: {env: X_TOKEN}
        phases:
          deploy:
            - name: vendor
              run: [sh, -c, "exit 0", sh, "${secrets.TOKEN}"]
              secret_in_argv: \(allowance)
        """
    }

    @Test func anAllowanceNeedsAReasonAndIsShownInThePlanAndTheReport() throws {
        let bare = try StackFixture(Self.vendor(allowance: "true"))
        let refused = try bare.run(["validate"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("stacks/x/prod.yaml:7:23: error: 'secret_in_argv' of step 'vendor' must say why"), "\(refused.stderr)")

        let reason = "the vendor CLI reads the token only from its argv"
        let stack = try StackFixture(Self.vendor(allowance: reason))
        stack.environment["X_TOKEN"] = "t0ken-\(UUID().uuidString.prefix(8))"
        let strict = try stack.run(["validate", "--strict"])
        #expect(strict.status == 0, "\(strict.stdout)\(strict.stderr)")
        #expect(!strict.stderr.contains("warning"))
        let plan = try stack.run(["plan", "prod"])
        #expect(plan.stdout.contains("secret in argv, allowed: \(reason)"), "\(plan.stdout)")
        let json = try stack.run(["plan", "prod", "--format", "json"])
        #expect(json.stdout.contains("\"secret_in_argv\" : \"\(reason)\"") || json.stdout.contains("\"secret_in_argv\":\"\(reason)\""), "\(json.stdout)")
        let up = try stack.run(["up", "prod"])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let id = try stack.requireLastRunID()
        let report = try String(contentsOfFile: "\(stack.state.path)/reports/\(id)/report.md", encoding: .utf8)
        #expect(report.contains("(secret in argv, allowed: \(reason))"), "\(report)")
    }

    @Test func stdinAndEnvCarryASecretThatNoProcessListHolds() throws {
        let canary = "canary-\(UUID().uuidString.prefix(12))"
        // The program proves it read the secret on stdin (compared with the env copy), and
        // stays alive long enough for the sampler to see its argv many times.
        let safe = try StackFixture("""
            secrets:
              TOKEN: {env: X_TOKEN}
            phases:
              deploy:
                - name: reads-stdin
                  run: [sh, -c, 'test "$(cat)" = "$EXPECTED" && sleep 0.3 && echo read it']
                  stdin: "${secrets.TOKEN}"
                  env: {EXPECTED: "${secrets.TOKEN}"}
            """)
        safe.environment["X_TOKEN"] = canary
        let watching = ProcessListSampler()
        let up = try safe.run(["up", "prod"])
        let seen = watching.stop()
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        #expect(up.stdout.contains("reads-stdin │ read it"), "\(up.stdout)")
        #expect(seen.contains { $0.contains("sleep 0.3") }, "the sampler saw the step (\(watching.sweeps) sweeps)")
        #expect(!seen.contains { $0.contains(canary) }, "\(seen.filter { $0.contains(canary) })")
        #expect(try safe.stateFiles(containing: canary).isEmpty)

        // The same sampler catches a secret that does stand in an argv (allowed, with a reason).
        let leaky = try StackFixture("""
            secrets:
              TOKEN: {env: X_TOKEN}
            phases:
              deploy:
                - name: leaks
                  run: [sh, -c, "sleep 0.3; :", sh, "--token=${secrets.TOKEN}"]  # `; :`: no shell may exec sleep in its place
                  secret_in_argv: a test that the process list is watched
            """)
        leaky.environment["X_TOKEN"] = canary
        let watchingLeak = ProcessListSampler()
        let leak = try leaky.run(["up", "prod"])
        let seenLeak = watchingLeak.stop()
        #expect(leak.status == 0, "\(leak.stdout)\(leak.stderr)")
        #expect(seenLeak.contains { $0.contains("--token=\(canary)") }, "the sampler sees an argv secret")
    }
}
