import ArgumentParser
import DeployKit
import Foundation

/// The root command. Argument parsing and terminal output live in this target; every verb's
/// work is an action in DeployKit.
struct DeployCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployctl",
        abstract: "GitOps deploys and rollbacks from versioned stack descriptors.",
        discussion: """
            Descriptors live at stacks/<stack>/<environment>.yaml in a git repository and are read
            from commits through libgit2, never from the work tree. A TARGET is ENV when exactly one
            stack has that environment, else STACK/ENV.

            Exit codes: 0 ok, 1 a step or check failed, 2 usage or invalid descriptor,
            3 environment locked, 4 refused by a safety rule, 130/143 interrupted.
            """,
        version: "0.1.0",
        subcommands: [
            ValidateCommand.self, PlanCommand.self, UpCommand.self, ResumeCommand.self, RollbackCommand.self,
            StatusCommand.self, RunsCommand.self, ShowCommand.self, LogsCommand.self,
            ReportCommand.self, DoctorCommand.self, RunbookCommand.self,
            UnlockCommand.self, InboundCommand.self, StacksCommand.self, RevisionsCommand.self,
        ]
    )
}

@main
enum Main {
    static func main() async {
        // A reader that goes away (`| head`) is not a reason to die mid-run; steps get the
        // default disposition back when they start.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try DeployCtl.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as DeployError {
            Terminal.report(error)
            exit(error.status.rawValue)
        } catch {
            let code = DeployCtl.exitCode(for: error)
            let message = DeployCtl.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(0)
            }
            Terminal.error(message)
            // Usage mistakes are exit code 2, as README documents (ArgumentParser would say 64).
            exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}
