import ArgumentParser
import DeployKit

struct StacksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stacks", abstract: "List the stacks and environments at a revision.")

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var revision: RevisionOption
    @Option(help: "text or json") var format: OutputFormat = .text

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
            let width = stacks.map(\.target.count).max() ?? 0
            for stack in stacks {
                let status = stack.valid ? " " : "✗"
                Terminal.line("\(status) \(stack.target.padding(toLength: width, withPad: " ", startingAt: 0))  \(stack.description ?? "")"
                              + (stack.valid ? "" : "  (invalid: deployctl validate \(stack.target))"))
            }
        }
    }
}
