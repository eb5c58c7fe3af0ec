import Arguments
import DeployKit

struct PlanCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the exact steps `up` would run for a target, secrets masked.")

    var workspace = WorkspaceOptions()
    var source = SourceOptions()
    var inputs = InputOptions()
    var format: OutputFormat = .text
    var against: String?
    var fetch = FetchOptions()
    var target = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.source),
            .group(\.inputs),
            .option(\.format, "--format", help: "text or json"),
            .option(\.against, "--against", help: Help("Also list the step changes since this revision, and the files under the descriptor and its paths: that changed.", valueName: "rev")),
            .group(\.fetch),
            .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        let ws = try workspace.open()
        // Without --rev (and not --worktree): the head `up` would deploy.
        var revision: String? = nil
        if !source.worktree {
            let (rev, tracked) = try ws.trackedRevision(target: target, requested: source.revision.given, fetch: fetch.mode)
            revision = rev
            if let tracked, source.revision.given == nil, format == .text {
                Terminal.error("\(target) tracks \(tracked.name) (\(Tracker.freshness(tracked))): planning its head \(tracked.head.prefix(10))")
            }
        }
        let plan = try PlanAction(workspace: ws).run(target: target, source: try source.source(ws, labelling: format == .text, revision: revision),
                                                     supply: try inputs.supply(environment: ws.environment), against: against)
        switch format {
        case .json: Terminal.out(try PlanRenderer.json(plan))
        case .text: Terminal.out(PlanRenderer.text(plan))
        }
    }
}
