/// A target's descriptor at one revision, its inputs and the environment's secrets resolved,
/// planned twice (secrets masked for showing, revealed for running): what every run starts
/// from. Every problem throws (exit 2) before anything runs or is journaled.
struct ResolvedRevision {
    let revision: PinnedRevision
    let descriptor: StackDescriptor
    let inputs: [ResolvedInput]
    let secrets: [ResolvedSecret]
    let masked: Plan
    let revealed: Plan

    /// With a run's journaled inputs (resume, rollback, check, the inbound commands).
    init(workspace: Workspace, entry: StackCatalog.Entry, revision: PinnedRevision, inputs: [String: String], runID: String, kind: String) throws {
        let flags = inputs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        try self.init(workspace: workspace, entry: entry, revision: revision, descriptor: try workspace.load(entry, at: revision),
                      supply: InputSupply(flags: flags, environment: workspace.environment), runID: runID, kind: kind)
    }

    /// With what the person supplied (`up`, `runbook`).
    init(workspace: Workspace, entry: StackCatalog.Entry, revision: PinnedRevision, descriptor: StackDescriptor,
         supply: InputSupply, runID: String, kind: String) throws {
        self.revision = revision
        self.descriptor = descriptor
        let (inputs, inputProblems) = InputResolver(descriptor: descriptor).resolve(supply)
        let (secrets, secretProblems) = SecretResolver(descriptor: descriptor).resolve(environment: workspace.environment)
        if inputProblems.hasErrors {
            throw DeployError(.usage, "cannot run \(entry.target) at \(revision.short): \(inputProblems.errors.count) problem(s) with the inputs; nothing was run",
                              diagnostics: inputProblems, next: ["deployctl plan \(entry.target) --input NAME=VALUE … to check them"])
        }
        if secretProblems.hasErrors {
            throw DeployError(.usage, "cannot run \(entry.target) at \(revision.short): \(secretProblems.errors.count) secret(s) missing or unacceptable; nothing was run",
                              diagnostics: secretProblems, next: ["set them in the environment, then run the same command again"])
        }
        self.inputs = inputs
        self.secrets = secrets
        var context = PlanContext(revision: revision.sha, revisionSubject: revision.commit.subject, revisionAuthor: revision.commit.authorName,
                                  descriptorBlob: try workspace.stacks.blobID(entry.path, at: revision), inputs: inputs, secrets: secrets,
                                  environment: workspace.environment, stateDirectory: workspace.stateDirectory, runID: runID,
                                  operatorName: workspace.operatorName)
        context.runKind = kind
        (masked, revealed) = try RunSession.plans(descriptor, context, target: entry.target)
    }

    var secretValues: [String] { secrets.compactMap(\.value) }

    /// `rollbackTarget`: the revision a rollback of the run would go back to (see `RunnableSteps`).
    func steps(tree: String, rollbackTarget: String? = nil) -> RunnableSteps {
        RunnableSteps(descriptor: descriptor, masked: masked, revealed: revealed, tree: tree, rollbackTarget: rollbackTarget)
    }
}
