import Foundation
import GitKit

/// `deployctl plan TARGET`: the descriptor at a revision, resolved against the inputs given,
/// as the exact sequence `up` would run. Optionally diffed against another revision.
public struct PlanAction {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// `against`: also the step changes since that revision, and the files under the
    /// descriptor and its `paths:` that changed.
    public func run(target: String, source: DescriptorSource, supply: InputSupply, against: String? = nil) throws -> Plan {
        let entry = try workspace.stacks.entry(for: target, at: source)
        var plan = try makePlan(entry, at: source, supply: supply)
        if let against {
            let other = try workspace.stacks.pin(against)
            do {
                let otherEntry = try workspace.stacks.entry(for: entry.target, at: other)
                let old = try makePlan(otherEntry, at: .commit(other), supply: supply)
                plan.diff = PlanDiff.between(old: old, new: plan)
                let patterns = (plan.descriptorFiles + plan.paths).compactMap(PathPattern.init)
                plan.diff?.files = try workspace.stacks.changedFiles(from: other, to: source, matching: patterns)
            } catch let error as DeployError {
                plan.warnings.append("no step diff against \(other.short): \(error.message)")
            }
        }
        return plan
    }

    /// Loads, resolves inputs and secrets, and plans; any error throws with every diagnostic.
    func makePlan(_ entry: StackCatalog.Entry, at source: DescriptorSource, supply: InputSupply) throws -> Plan {
        let descriptor = try workspace.load(entry, at: source)
        let (inputs, inputProblems) = InputResolver(descriptor: descriptor).resolve(supply)
        let (secrets, secretProblems) = SecretResolver(descriptor: descriptor).resolve(environment: workspace.environment)
        let context = PlanContext(
            revision: source.sha, revisionSubject: source.isWorktree ? source.label : source.revision?.commit.subject ?? "",
            revisionAuthor: source.isWorktree ? workspace.operatorName : source.revision?.commit.authorName ?? "",
            descriptorBlob: try workspace.stacks.blobID(entry.path, at: source),
            inputs: inputs, secrets: secrets, environment: workspace.environment,
            stateDirectory: workspace.stateDirectory, runID: "<run-id>", operatorName: workspace.operatorName)
        var (plan, planProblems) = Planner.plan(descriptor, context)
        plan.uncommitted = source.isWorktree
        let errors = (inputProblems + planProblems).sortedByLocation()
        if errors.hasErrors {
            throw DeployError(.usage, "cannot plan \(entry.target) at \(source.label): \(errors.errors.count) problem(s) with the inputs; nothing was run",
                              diagnostics: errors, next: ["deployctl plan \(entry.target) --input NAME=VALUE …"])
        }
        plan.warnings += descriptor.warnings.map { ($0.location.map { "\($0): " } ?? "") + $0.message }
        // A plan is a preview: secrets that `up` would refuse are warnings here.
        plan.warnings += secretProblems.map { "\($0.message) (up will refuse to start)" }
        return plan
    }
}
