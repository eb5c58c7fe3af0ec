import Foundation

/// A target at a pinned revision with the person's inputs and the environment's secrets
/// resolved, and planned twice (secrets masked for showing, revealed for running): what `up`
/// and `runbook` start from. Every problem throws before anything runs or is journaled.
struct PreparedRun {
    let pinned: PinnedRevision
    let entry: StackCatalog.Entry
    let descriptor: StackDescriptor
    let inputs: [ResolvedInput]
    let secrets: [ResolvedSecret]
    let runID: String
    let masked: Plan
    let revealed: Plan

    /// `check` sees the descriptor before inputs are resolved (a runbook that does not exist
    /// is the first thing to say).
    init(workspace: Workspace, target: String, revision: String, supply: InputSupply, kind: String,
         check: (StackDescriptor, StackCatalog.Entry) throws -> Void = { _, _ in }) throws {
        pinned = try workspace.stacks.pin(revision)
        entry = try workspace.stacks.entry(for: target, at: pinned)
        descriptor = try workspace.load(entry, at: pinned)
        try check(descriptor, entry)
        let (inputs, inputProblems) = InputResolver(descriptor: descriptor).resolve(supply)
        if inputProblems.hasErrors {
            throw DeployError(.usage, "cannot run \(entry.target): \(inputProblems.errors.count) problem(s) with the inputs; nothing was run",
                              diagnostics: inputProblems, next: ["deployctl plan \(entry.target) --input NAME=VALUE … to check them"])
        }
        let (secrets, secretProblems) = SecretResolver(descriptor: descriptor) { try? String(contentsOfFile: $0, encoding: .utf8) }
            .resolve(environment: workspace.environment)
        if secretProblems.hasErrors {
            throw DeployError(.usage, "cannot run \(entry.target): \(secretProblems.errors.count) secret(s) missing or unacceptable; nothing was run",
                              diagnostics: secretProblems, next: ["set them in the environment, then run the same command again"])
        }
        self.inputs = inputs
        self.secrets = secrets
        runID = Journal.newRunID()
        var context = PlanContext(
            revision: pinned.sha, revisionSubject: pinned.commit.subject, revisionAuthor: pinned.commit.authorName,
            descriptorBlob: try workspace.stacks.blobID(entry.path, at: pinned), inputs: inputs, secrets: secrets,
            environment: workspace.environment, stateDirectory: workspace.stateDirectory, runID: runID,
            operatorName: workspace.operatorName)
        context.runKind = kind
        (masked, revealed) = try RunSession.plans(descriptor, context, target: entry.target)
    }

    /// The run's record as it starts: `running`, owned by this process.
    func record(kind: String, workspace: Workspace) -> RunRecord {
        let me = ProcessIdentity.current
        return RunRecord(
            id: runID, kind: kind, stack: entry.stack, environment: entry.environment, target: entry.target,
            revision: pinned.sha, revisionSubject: pinned.commit.subject, descriptorBlob: masked.descriptorBlob,
            inputs: Dictionary(inputs.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
            operatorName: workspace.operatorName, host: me.host, pid: me.pid, pidStart: me.start,
            startedAt: Date(), endedAt: nil, status: .running, message: nil, relatedRun: nil)
    }
}
