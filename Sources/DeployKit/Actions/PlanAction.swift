import Foundation

/// `deployctl plan TARGET`: the descriptor at a revision, resolved against the inputs given,
/// as the exact sequence `up` would run. Optionally diffed against another revision.
public struct PlanAction {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(target: String, revision: String, supply: InputSupply, against: String? = nil) throws -> Plan {
        let pinned = try workspace.stacks.pin(revision)
        let entry = try workspace.stacks.entry(for: target, at: pinned)
        var plan = try makePlan(entry, at: pinned, supply: supply)
        if let against {
            let other = try workspace.stacks.pin(against)
            do {
                let otherEntry = try workspace.stacks.entry(for: entry.target, at: other)
                let old = try makePlan(otherEntry, at: other, supply: supply)
                plan.diff = PlanDiff.between(old: old, new: plan)
            } catch let error as DeployError {
                plan.warnings.append("no step diff against \(other.short): \(error.message)")
            }
        }
        return plan
    }

    /// Loads, resolves inputs and secrets, and plans; any error throws with every diagnostic.
    func makePlan(_ entry: StackCatalog.Entry, at pinned: PinnedRevision, supply: InputSupply) throws -> Plan {
        let descriptor = try workspace.load(entry, at: pinned)
        let (inputs, inputProblems) = InputResolver(descriptor: descriptor).resolve(supply)
        let (secrets, secretProblems) = SecretResolver(descriptor: descriptor) { path in
            try? String(contentsOfFile: path, encoding: .utf8)
        }.resolve(environment: workspace.environment)
        let context = PlanContext(
            revision: pinned.sha, revisionSubject: pinned.commit.subject, revisionAuthor: pinned.commit.authorName,
            descriptorBlob: try workspace.stacks.blobID(entry.path, at: pinned),
            inputs: inputs, secrets: secrets, environment: workspace.environment,
            stateDirectory: workspace.stateDirectory, runID: "<run-id>", operatorName: workspace.operatorName)
        var (plan, planProblems) = Planner.plan(descriptor, context)
        let errors = (inputProblems + planProblems).sortedByLocation()
        if errors.hasErrors {
            throw DeployError(.usage, "cannot plan \(entry.target) at \(pinned.short): \(errors.errors.count) problem(s) with the inputs; nothing was run",
                              diagnostics: errors, next: ["deployctl plan \(entry.target) --input NAME=VALUE …"])
        }
        // A plan is a preview: secrets that `up` would refuse are warnings here.
        plan.warnings += secretProblems.map { "\($0.message) (up will refuse to start)" }
        return plan
    }
}
