/// `deployctl validate [TARGET…]`: every named target (all when none) checked at one revision.
public struct ValidateAction {
    public struct TargetResult: Sendable {
        public let target: String
        public let files: [String]
        public let diagnostics: [Diagnostic]
        public let stepCount: Int
        public var isValid: Bool { !diagnostics.hasErrors }
    }

    public struct Report: Sendable {
        public let revision: PinnedRevision
        public let results: [TargetResult]
        public var isValid: Bool { results.allSatisfy(\.isValid) }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Static checks; inputs are checked too when `supply` names any (flags or a file).
    public func run(targets: [String], revision: String, supply: InputSupply?) throws -> Report {
        let pinned = try workspace.stacks.pin(revision)
        let catalog = try workspace.stacks.catalog(at: pinned)
        let entries: [StackCatalog.Entry]
        if targets.isEmpty {
            guard !catalog.entries.isEmpty else {
                throw DeployError(.usage, "no stacks at \(pinned.short): expected files like stacks/<stack>/<environment>.yaml",
                                  next: ["see README.md, \"Writing your own stack\""])
            }
            entries = catalog.entries
        } else {
            entries = try targets.map { try workspace.stacks.entry(for: $0, at: pinned) }
        }
        let loader = workspace.stacks.loader(at: pinned)
        let results = entries.map { entry -> TargetResult in
            let result = loader.load(stack: entry.stack, environment: entry.environment)
            var diagnostics = result.diagnostics
            if let descriptor = result.descriptor, let supply {
                diagnostics += InputResolver(descriptor: descriptor).resolve(supply).diagnostics
            }
            return TargetResult(target: entry.target, files: result.descriptor?.files ?? [entry.path],
                                diagnostics: diagnostics, stepCount: result.descriptor?.allSteps.count ?? 0)
        }
        return Report(revision: pinned, results: results)
    }
}
