import Arguments
import DeployKit

struct StacksCommand: Command {
    static let configuration = CommandConfiguration(commandName: "stacks", abstract: "List the stacks and environments at a revision.")

    var workspace = WorkspaceOptions()
    var revision = RevisionOption()
    var format: OutputFormat = .text

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.revision),
            .option(\.format, "--format", help: "text or json"),
        ]
    }

    func run() async throws {
        let (pinned, stacks) = try StacksAction(workspace: try workspace.open()).run(revision: revision.rev)
        switch format {
        case .json:
            Terminal.out(try JSONOutput.encode(stacks))
        case .text:
            if stacks.isEmpty {
                Terminal.line("no stacks at \(pinned.short): add stacks/<stack>/<environment>.yaml and commit it")
                return
            }
            // One write for the whole list (hundreds of stacks).
            let width = stacks.map(\.target.count).max() ?? 0
            Terminal.out(stacks.map { stack in
                let padded = stack.target + String(repeating: " ", count: width - stack.target.count)
                return "\(stack.valid ? " " : "✗") \(padded)  \(stack.description ?? "")"
                    + (stack.valid ? "" : "  (invalid: deployctl validate \(stack.target))") + "\n"
            }.joined())
        }
    }
}
