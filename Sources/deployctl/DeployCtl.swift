import Arguments
import DeployKit
import Foundation

/// The root command. Argument parsing and terminal output live in this target; every verb's
/// work is an action in DeployKit.
struct DeployCtl: CommandGroup {
    static let version = "0.3.0"

    // One paragraph per line: help wraps them to the terminal's width.
    static let configuration = CommandConfiguration(
        commandName: "deployctl",
        abstract: "GitOps deploys and rollbacks from versioned stack descriptors.",
        discussion: """
            Descriptors live at stacks/<stack>/<environment>.yaml in a git repository and are read from commits through libgit2, never from the work tree (validate, plan and doctor also take --worktree to check files not yet committed). A TARGET is ENV when exactly one stack has that environment, else STACK/ENV. A RUN is a run id or any unique prefix of one.

            Unattended (CI): nothing waits for an answer. --yes answers confirm: gates; --db-restore restore|keep|ask decides a rollback's database restore (default: the descriptor's backup.on_rollback; ask with no terminal restores); resume --rerun-interrupted re-runs a step stopped part-way. --format json prints machine-readable output (RFC 3339 UTC times; schemas in Sources/DeployKit/Output/Schemas).

            Exit codes: 0 ok; 1 a step or check failed; 2 usage error or invalid descriptor (nothing was run); 3 the environment is locked by another run; 4 refused by a safety rule (nothing was changed); 129, 130, 143 stopped by SIGHUP (a closed SSH session), SIGINT, SIGTERM (running steps were stopped and the run recorded as cancelled).

            Shell completion (targets and run ids included): deployctl completion bash|zsh|fish.
            """,
        version: DeployCtl.version,
        subcommands: [
            ValidateCommand.self, PlanCommand.self, UpCommand.self, ResumeCommand.self, RollbackCommand.self,
            StatusCommand.self, CheckCommand.self, RunsCommand.self, ShowCommand.self, LogsCommand.self,
            ReportCommand.self, DoctorCommand.self, RunbookCommand.self,
            ReviewCommand.self, UnlockCommand.self, InboundCommand.self, StacksCommand.self, RevisionsCommand.self, SyncCommand.self, ReleaseCommand.self,
            StateCommand.self, CompletionCommand.self,
        ]
    )
}

struct CompletionCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "completion",
        abstract: "Print the shell completion script for bash, zsh or fish.",
        discussion: """
            bash: add `source <(deployctl completion bash)` to ~/.bashrc. zsh: `deployctl completion zsh > "${fpath[1]}/_deployctl"`. fish: `deployctl completion fish > ~/.config/fish/completions/deployctl.fish`.

            Targets complete from the stacks at HEAD and run ids from the journal, each time you press Tab.
            """)

    var shell = ShellCompletion.Shell.bash

    static var parameters: [Parameter<Self>] {
        [.argument(\.shell, "shell", help: "bash, zsh or fish.")]
    }

    func run() throws {
        Terminal.out(ShellCompletion.script(for: shell, program: DeployCtl.configuration.name))
    }
}

/// Thrown by a command that printed its own result (validate, doctor) and has only an exit
/// status to give.
struct ExitCode: Error {
    let rawValue: Int32
    init(_ rawValue: Int32) { self.rawValue = rawValue }
}

/// What a command asked for `--format json` prints on stdout when it fails before its output:
/// the same facts as the text on stderr, as one line (so an event stream stays one object a line).
struct ErrorJSON: Encodable {
    let event = "error"
    let error: String
    let exitCode: Int32
    let next: [String]
    let problems: [ProblemJSON]

    init(_ failure: DeployError) {
        error = failure.message
        exitCode = failure.status.rawValue
        next = failure.next
        problems = failure.diagnostics.map(ProblemJSON.init)
    }
}

/// `--format json` (or `--format=json`) anywhere on the command line.
func wantsJSON(_ arguments: [String]) -> Bool {
    arguments.contains("--format=json") || zip(arguments, arguments.dropFirst()).contains { $0 == "--format" && $1 == "json" }
}

@main
enum Main {
    static func main() async {
        // A reader that goes away (`| head`) is not a reason to die mid-run; steps get the
        // default disposition back when they start.
        signal(SIGPIPE, SIG_IGN)
        // Started with stdin (or stdout, stderr) closed, as CI sometimes does: hold the number
        // with /dev/null, or the journal's file would become "standard input" and steps would read it.
        for fd in Int32(0)...2 where fcntl(fd, F_GETFD) == -1 {
            _ = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Tab in a shell: candidates for the word being typed, one a line, nothing on a problem.
        if arguments.first == ShellCompletion.request {
            for candidate in ShellCompletion.candidates(DeployCtl.self, Array(arguments.dropFirst())) { print(candidate) }
            end(0)
        }
        // What completion scripts written before 0.3.0 (by ArgumentParser) call on Tab: no answer
        // rather than a usage error in the middle of the line (README: regenerate the script).
        if arguments.first == "---completion" { end(0) }
        do {
            try await Parser.parse(DeployCtl.self, arguments).run()
        } catch let request as HelpRequest {
            Terminal.out(HelpText.render(request.path))
        } catch let request as VersionRequest {
            print(request.version)
        } catch let mistake as UsageError {
            fail(usage(mistake), arguments)
        } catch let mistake as ValidationError {
            fail(DeployError(.usage, mistake.message), arguments)
        } catch let error as DeployError {
            fail(error, arguments)
        } catch let failure as StoreFailure {
            fail(DeployError.store(failure), arguments)
        } catch let error as ExitCode {
            // Thrown after the command printed its own result (doctor, validate): nothing to add.
            end(error.rawValue)
        } catch {
            fail(DeployError(.failed, "\(error)"), arguments)
        }
        end(0)
    }

    /// A usage mistake (exit 2): what is wrong, a did-you-mean, the usage line, where help is.
    private static func usage(_ mistake: UsageError) -> DeployError {
        var message = mistake.message
        if let (word, candidates) = mistake.misspelled, let closest = Suggestion.closest(to: word, in: candidates) {
            message += ". Did you mean '\(closest)'?"
        }
        if let note = mistake.note { message += "\n" + note }
        return DeployError(.usage, message + "\nusage: " + HelpText.usage(mistake.path),
                           next: ["\(Parser.commandLine(mistake.path)) --help"])
    }

    /// The one way out of the process.
    static func end(_ status: Int32) -> Never {
        exit(status)
    }

    private static func fail(_ error: DeployError, _ arguments: [String]) -> Never {
        Terminal.report(error)
        if wantsJSON(arguments) { Terminal.out((try? JSONOutput.line(ErrorJSON(error))) ?? "") }
        end(error.status.rawValue)
    }
}
