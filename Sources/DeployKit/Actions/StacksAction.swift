/// `deployctl stacks`: what stacks and environments a revision holds.
public struct StacksAction {
    public struct Summary: Codable, Sendable {
        public let target: String
        public let stack: String
        public let environment: String
        public let path: String
        public let description: String?
        public let valid: Bool
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(revision: String) throws -> (revision: PinnedRevision, stacks: [Summary]) {
        let pinned = try workspace.stacks.pin(revision)
        let loader = workspace.stacks.loader(at: pinned)
        let summaries = try workspace.stacks.catalog(at: pinned).entries.map { entry in
            let result = loader.load(stack: entry.stack, environment: entry.environment)
            return Summary(target: entry.target, stack: entry.stack, environment: entry.environment, path: entry.path,
                           description: result.descriptor?.description, valid: result.isValid)
        }
        return (pinned, summaries)
    }
}
