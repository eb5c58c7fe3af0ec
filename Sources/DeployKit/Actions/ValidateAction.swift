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
        public let source: DescriptorSource
        public let results: [TargetResult]
        public var isValid: Bool { results.allSatisfy(\.isValid) }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Static checks, and the inputs from every place validate can see (defaults, the
    /// environment, `--input`, `--input-file`): a required input with no value there is a note
    /// (CI may give it at deploy time), or an error with `requireInputs`. `strict`: every
    /// warning is an error (a CI gate).
    public func run(targets: [String], source: DescriptorSource, supply: InputSupply, requireInputs: Bool = false,
                    strict: Bool = false) throws -> Report {
        let catalog = try workspace.stacks.catalog(at: source)
        let entries: [StackCatalog.Entry]
        if targets.isEmpty {
            guard !catalog.entries.isEmpty else {
                throw DeployError(.usage, "no stacks at \(source.label): expected files like stacks/<stack>/<environment>.yaml",
                                  next: ["see README.md, \"Writing your own stack\""])
            }
            entries = catalog.entries
        } else {
            entries = try targets.map { try workspace.stacks.entry(for: $0, at: source) }
        }
        // Every target on every core, each shared file read once (a repository of hundreds of
        // stacks validates in CI on every proposal).
        let loaded = SourceFiles(stacks: workspace.stacks, source: source, catalog: catalog).load(entries)
        let results = zip(entries, loaded).map { entry, loaded -> TargetResult in
            let result = loaded.result
            var diagnostics = result.diagnostics
            if let descriptor = result.descriptor {
                let resolved = InputResolver(descriptor: descriptor).resolveLeavingMissing(supply)
                diagnostics += resolved.diagnostics
                diagnostics += resolved.missing.map { spec in
                    let where_ = "--input \(spec.name)=VALUE, an --input-file line, or \(spec.env ?? inputEnvironmentVariable(spec.name))"
                    return Diagnostic(requireInputs ? .error : .note,
                                      "required input '\(spec.name)' has no value here (no default, not in the environment, not given): \(requireInputs ? "give" : "up will need") \(where_)",
                                      at: spec.location)
                }
            }
            if strict {
                diagnostics = diagnostics.map { $0.severity == .warning ? Diagnostic(.error, $0.message + " [--strict]", at: $0.location) : $0 }
            }
            return TargetResult(target: entry.target, files: result.descriptor?.files ?? [entry.path],
                                diagnostics: diagnostics, stepCount: result.descriptor?.allSteps.count ?? 0)
        }
        return Report(source: source, results: results)
    }
}
