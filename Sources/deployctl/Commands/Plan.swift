import ArgumentParser
import DeployKit

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the exact steps `up` would run for a target, secrets masked.")

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var source: SourceOptions
    @OptionGroup var inputs: InputOptions
    @Option(help: "text or json") var format: OutputFormat = .text
    @Option(help: ArgumentHelp("Also list the step changes since this revision, and the files under the descriptor and its paths: that changed.", valueName: "rev"))
    var against: String?
    @Argument(help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)) var target: String

    func run() async throws {
        let ws = try workspace.open()
        let plan = try PlanAction(workspace: ws).run(target: target, source: try source.source(ws, labelling: format == .text),
                                                     supply: try inputs.supply(environment: ws.environment), against: against)
        switch format {
        case .json: Terminal.out(try PlanRenderer.json(plan))
        case .text: Terminal.out(PlanRenderer.text(plan))
        }
    }
}
