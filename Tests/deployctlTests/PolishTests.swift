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
        // What the scripts run on Tab: the words after the program, the last one being typed.
        func complete(_ words: String...) throws -> [Substring] {
            try stack.run(["__complete"] + words).stdout.split(separator: "\n")
        }
        #expect(try complete("sta") == ["status", "stacks", "state"])
        #expect(try complete("status", "") == ["prod", "staging", "x/prod", "y/staging"])
        #expect(try complete("up", "x") == ["x/prod"])
        #expect(try complete("show", "") == [Substring(runID)])
        #expect(try complete("review", "") == ["show", "tick", "score", "sign", "note", Substring(runID)], "the default subcommand's run ids too")
        #expect(try complete("up", "--dry") == ["--dry-run"])
        #expect(try complete("status", "--format", "") == ["text", "json"])
        #expect(try complete("status", "--format=j") == ["--format=json"])
        #expect(try complete("status", "--state", "") == [":files"], "a path: the shell's own file completion")
        #expect(try complete("help", "inb") == ["inbound"])
        // A --state still being typed names no directory yet: completing makes none there.
        let half = stack.state.path + "-half"
        #expect(try complete("status", "--state", half, "").contains("x/prod"))
        #expect(!FileManager.default.fileExists(atPath: half))
        #expect(try stack.run(["completion", "tcsh"]).status == 2)
    }

    /// Each script as its shell runs it on Tab: the real bash, zsh and fish, calling the
    /// binary back (on PATH) from the stack's repository.
    @Test func completionScriptsWorkInTheirShells() throws {
        let stack = try StackFixture("phases:\n  deploy:\n    - {name: a, run: [\"true\"]}\n")
        var environment = stack.environment
        environment["PATH"] = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let directory = try TemporaryDirectory.make(prefix: "completion")
        defer { try? FileManager.default.removeItem(at: directory) }
        func script(_ shell: String) throws -> String {
            let path = directory.appendingPathComponent(shell).path
            try stack.run(["completion", shell]).stdout.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        func lines(_ shell: String, _ program: String) throws -> [Substring] {
            let result = try Shell.capture(shell, ["-c", program], environment: environment, directory: stack.git.path)
            #expect(result.status == 0, "\(shell): \(result.stderr)")
            return result.stdout.split(separator: "\n")
        }
        func installed(_ program: String) -> Bool {
            (try? Shell.capture("sh", ["-c", "command -v \(program)"]).status) == 0
        }
        // bash: COMP_WORDS and COMP_CWORD as readline sets them (it splits at '='), COMPREPLY read back.
        let bash = try script("bash")
        func bashComplete(_ words: String) throws -> [Substring] {
            try lines("bash", "source \(bash); COMP_WORDS=(\(words)); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _deployctl; printf '%s\\n' \"${COMPREPLY[@]}\"")
        }
        #expect(try bashComplete("deployctl sta") == ["status", "stacks", "state"])
        #expect(try bashComplete("deployctl status ''") == ["prod", "x/prod"])
        #expect(try bashComplete("deployctl status --format = j") == ["json"])
        #expect(try bashComplete("deployctl status --format =") == ["text", "json"])
        #expect(try bashComplete("deployctl up --input tag = v1 ''") == ["prod", "x/prod"])
        #expect(try bashComplete("deployctl status --state = st").contains("stacks"), "file names after --state=")
        #expect(try bashComplete("deployctl up --input tag =") == [], "a KEY=VALUE still being typed is not the target")
        #expect(try bashComplete("deployctl up --input url = http : //x ''") == ["prod", "x/prod"], "split at ':' too, and joined back")
        let file = try bashComplete("deployctl up prod --input-file st")
        #expect(file.contains("stacks"), "file names for a path option: \(file)")

        if installed("zsh") {
            // zsh: its completion builtins stubbed to print what they are given.
            let zsh = try script("zsh")
            let stubs = "compadd() { while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break }; shift; done; print -l -- \"$@\" }; _files() { print -- FILES }; compset() { : }"
            #expect(try lines("zsh", "\(stubs); source \(zsh); words=(deployctl status ''); CURRENT=3; _deployctl") == ["prod", "x/prod"])
            #expect(try lines("zsh", "\(stubs); source \(zsh); words=(deployctl sta); CURRENT=2; _deployctl") == ["status", "stacks", "state"])
            #expect(try lines("zsh", "\(stubs); source \(zsh); words=(deployctl plan --repo ''); CURRENT=4; _deployctl") == ["FILES"])
            #expect(try lines("zsh", "\(stubs); source \(zsh); words=(deployctl plan --repo=st); CURRENT=3; _deployctl") == ["FILES"])
        } else {
            Issue.record("zsh is not installed: make test installs it")
        }
        if installed("fish") {
            // fish answers `complete -C LINE` without a terminal.
            let fish = try script("fish")
            #expect(try lines("fish", "source \(fish); complete -C 'deployctl sta'") == ["stacks", "state", "status"])
            #expect(try lines("fish", "source \(fish); complete -C 'deployctl status x/'") == ["x/prod"])
            #expect(try lines("fish", "source \(fish); complete -C 'deployctl plan --repo=sta'").contains("--repo=stacks/"), "file names after --repo=")
            #expect(try lines("fish", "source \(fish); complete -C 'deployctl plan --repo sta'").contains("stacks/"), "and after --repo and a space")
        } else {
            Issue.record("fish is not installed: make test installs it")
        }
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
