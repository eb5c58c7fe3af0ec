import Foundation
import Testing
import TestSupport

/// Help that reads well, exit codes in it, did-you-mean, completion that knows the targets and
/// the runs, and doctor without false passes.
@Suite struct PolishTests {
    @Test func helpWrapsToTheTerminalAndListsEveryExitCode() throws {
        let fixture = try GitFixture()
        let help = try CLI.run(["--help"], in: fixture.path, environment: ["COLUMNS": "60"])
        #expect(help.status == 0)
        let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 60 || $0.contains("  ") }, "paragraphs wrap to COLUMNS: \(help.stdout)")
        let text = help.stdout.replacingOccurrences(of: "\n", with: " ")
        for code in ["0 ok", "1 a step or check failed", "2 usage error", "3 the environment is locked", "4 refused by a safety rule", "129, 130, 143"] {
            #expect(text.contains(code), "\(code) in --help")
        }
        #expect(text.contains("deployctl completion bash|zsh|fish"))
    }

    @Test func aMistypedCommandOrOptionGetsADidYouMean() throws {
        let fixture = try GitFixture()
        let command = try CLI.run(["stauts"], in: fixture.path)
        #expect(command.status == 2)
        #expect(command.stderr.contains("Did you mean 'status'?"))
        let nested = try CLI.run(["inbound", "enabel", "prod"], in: fixture.path)
        #expect(nested.stderr.contains("Did you mean 'enable'?"))
        let option = try CLI.run(["up", "prod", "--dryrun"], in: fixture.path)
        #expect(option.status == 2)
        #expect(option.stderr.contains("Did you mean '--dry-run'?"))
    }

    @Test func completionScriptsCallBackForTargetsAndRunIDs() throws {
        let stack = try StackFixture("phases:\n  deploy:\n    - {name: a, run: [\"true\"]}\n", files: ["stacks/y/staging.yaml": "phases: {}\n"])
        #expect(try stack.run(["up", "prod"]).status == 0)
        let runID = try stack.requireLastRunID()
        for shell in ["bash", "zsh", "fish"] {
            let script = try stack.run(["completion", shell])
            #expect(script.status == 0)
            #expect(script.stdout.contains("---completion"), "\(shell) completes dynamically")
        }
        // What the scripts run on Tab: the words so far, and the word being completed.
        let targets = try stack.run(["---completion", "status", "--", "positional@0", "2", "0", "deployctl", "status", ""])
        #expect(targets.stdout.split(separator: "\n") == ["prod", "staging", "x/prod", "y/staging"], "\(targets.stdout)\(targets.stderr)")
        let prefixed = try stack.run(["---completion", "up", "--", "positional@0", "2", "1", "deployctl", "up", "x"])
        #expect(prefixed.stdout.split(separator: "\n") == ["x/prod"])
        let runs = try stack.run(["---completion", "show", "--", "positional@0", "2", "0", "deployctl", "show", ""])
        #expect(runs.stdout.split(separator: "\n") == [Substring(runID)])
        // A --state still being typed names no directory yet: completing makes none there.
        let half = stack.state.path + "-half"
        let elsewhere = try stack.run(["---completion", "status", "--", "positional@0", "4", "0", "deployctl", "status", "--state", half, ""])
        #expect(elsewhere.stdout.contains("x/prod") && !FileManager.default.fileExists(atPath: half), "\(elsewhere.stdout)\(elsewhere.stderr)")
        #expect(try stack.run(["completion", "tcsh"]).status == 2)
    }

    @Test func runsHasAHeaderRowAndEveryCommandTakesARunIDPrefix() throws {
        let stack = try StackFixture("phases:\n  deploy:\n    - {name: a, run: [echo, hello]}\n")
        #expect(try stack.run(["up", "prod"]).status == 0)
        let runID = try stack.requireLastRunID()
        let runs = try stack.run(["runs"])
        #expect(runs.stdout.hasPrefix("RUN "), "\(runs.stdout)")
        #expect(runs.stdout.contains("KIND") && runs.stdout.contains("STATUS") && runs.stdout.contains("REVISION"))
        let prefix = String(runID.prefix(18))
        #expect(try stack.run(["show", prefix]).stdout.contains("run \(runID)"))
        #expect(try stack.run(["logs", prefix, "a"]).stdout.contains("hello"))
        #expect(try stack.run(["report", prefix]).stdout.contains(runID))
        let resume = try stack.run(["resume", prefix])
        #expect(resume.status == 4)
        #expect(resume.stderr.contains("run \(runID) succeeded; there is nothing to resume"))
        let none = try stack.run(["show", "1999"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("no run 1999"))
    }

    @Test func doctorPassesAProgramOnlyWhenItsVersionCommandExitsZero() throws {
        let bin = try TemporaryDirectory.make(prefix: "bin")
        defer { try? FileManager.default.removeItem(at: bin) }
        let programs = [
            // An nginx: `--version` is an invalid option, `-v` answers (and nothing else is tried).
            "nginx": "#!/bin/sh\n[ \"$1\" = -v ] && { echo 'nginx version: nginx/1.22.1' >&2; exit 0; }\necho 'nginx: invalid option: \"-\"' >&2\nexit 1\n",
            // A CLI that is installed but broken.
            "broken-cli": "#!/bin/sh\necho 'error while loading shared libraries: libfoo.so.1' >&2\nexit 127\n",
            "psql-like": "#!/bin/sh\necho 'psql (PostgreSQL) 15.18'\n",
        ]
        for (name, text) in programs {
            try Shell.writeExecutable(bin.path + "/" + name, text)
        }
        let stack = try StackFixture("""
            secrets:
              API_TOKEN: {env: DOCTOR_TOKEN, reject: [changeme]}
              DB_PASSWORD: {env: DOCTOR_DB_PASSWORD}
            phases:
              deploy:
                - name: proxy
                  run: [nginx, -s, reload]
                - name: tool
                  run: [broken-cli, go]
                - name: smoke
                  shell: |
                    set -e
                    PGAPPNAME=doctor psql-like -c 'select 1' | grep -q 1 && no-such-tool-\(UUID().uuidString.prefix(6)) --check
                    echo "$HOME" > /dev/null
              verify:
                - name: hook
                  run: [echo, "${env.DOCTOR_HOOK}"]
            """)
        let env = ["PATH": bin.path + ":/usr/bin:/bin", "DOCTOR_TOKEN": "changeme"]
        let result = try stack.run(["doctor", "prod", "--format", "json"], environment: env)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let checks = try #require((try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])?["checks"] as? [[String: Any]])
        func check(_ name: String) -> [String: Any]? { checks.first { $0["name"] as? String == name } }
        #expect(check("nginx")?["status"] as? String == "ok", "\(checks)")
        #expect((check("nginx")?["detail"] as? String)?.contains("nginx version: nginx/1.22.1") == true)
        #expect(check("broken-cli")?["status"] as? String == "problem")
        #expect((check("broken-cli")?["detail"] as? String)?.contains("is there but does not run") == true)
        #expect(check("psql-like")?["status"] as? String == "ok", "the first program of a shell: script")
        #expect(check("grep")?["status"] as? String == "ok")
        #expect(checks.contains { ($0["name"] as? String ?? "").hasPrefix("no-such-tool-") && $0["status"] as? String == "problem" })
        #expect(check("set") == nil && check("echo") != nil && check("PGAPPNAME=doctor") == nil, "builtins and assignments are not programs")
        #expect(check("API_TOKEN")?["kind"] as? String == "secret" && check("API_TOKEN")?["status"] as? String == "problem", "a rejected default")
        #expect((check("DB_PASSWORD")?["fix"] as? String)?.hasPrefix("export DOCTOR_DB_PASSWORD=") == true, "a missing secret")
        #expect(check("DOCTOR_HOOK")?["kind"] as? String == "env")
        #expect(check("DOCTOR_HOOK")?["fix"] as? String == "export DOCTOR_HOOK=… in the environment deployctl runs in")

        let fixed = try stack.run(["doctor", "prod"], environment: env.merging(["DOCTOR_TOKEN": "a-real-token", "DOCTOR_DB_PASSWORD": "pw",
                                                                                  "DOCTOR_HOOK": "https://hooks.example.test"]) { _, new in new })
        #expect(fixed.status == 1, "the two broken programs remain")
        #expect(!fixed.stdout.contains("✗ secret") && !fixed.stdout.contains("✗ env"))
    }
}
