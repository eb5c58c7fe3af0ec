import Foundation

/// `deployctl runbook TARGET NAME`: runs one of the descriptor's read-only procedures, every
/// check in order, and reports what it found. It takes no deploy lock (it may run during a
/// deploy, which is when it is needed) and is journaled like any run, as kind `runbook`.
public struct RunbookAction {
    public struct Result: Sendable {
        public let run: RunRecord
        public let outcome: RunOutcome
        public let runbook: PlanRunbook
        /// Each check's last attempt, in order.
        public let findings: [StepRecord]
        public let reportPath: String?
        public var exitStatus: ExitStatus {
            outcome.status == .succeeded ? .ok : outcome.status == .cancelled ? .interrupted : .failed
        }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// The runbooks a target's descriptor defines (for listing and suggestions).
    public func list(target: String, revision: String, supply: InputSupply) throws -> (String, [PlanRunbook]) {
        let plan = try PlanAction(workspace: workspace).run(target: target, revision: revision, supply: supply)
        return (plan.target, plan.runbooks)
    }

    public func run(target: String, name: String, revision: String, supply: InputSupply, options: RunOptions,
                    observer: RunObserver, cancellation: Cancellation) async throws -> Result {
        let pinned = try workspace.stacks.pin(revision)
        let entry = try workspace.stacks.entry(for: target, at: pinned)
        let descriptor = try workspace.load(entry, at: pinned)
        guard descriptor.runbooks.contains(where: { $0.name == name }) else {
            let names = descriptor.runbooks.map(\.name)
            throw DeployError(.usage, "\(entry.target) has no runbook '\(name)'\(Suggestion.hint(for: name, in: names))"
                              + (names.isEmpty ? "; its descriptor defines none" : "; it has: \(names.joined(separator: ", "))"),
                              next: ["deployctl runbook \(entry.target)   (lists them)"])
        }
        let (inputs, inputProblems) = InputResolver(descriptor: descriptor).resolve(supply)
        let (secrets, secretProblems) = SecretResolver(descriptor: descriptor) { try? String(contentsOfFile: $0, encoding: .utf8) }
            .resolve(environment: workspace.environment)
        if (inputProblems + secretProblems).hasErrors {
            throw DeployError(.usage, "cannot run runbook \(name) of \(entry.target): inputs or secrets are missing or unacceptable; nothing was run",
                              diagnostics: inputProblems + secretProblems, next: ["deployctl plan \(entry.target) --input NAME=VALUE … to check them"])
        }
        let runID = Journal.newRunID()
        var context = PlanContext(
            revision: pinned.sha, revisionSubject: pinned.commit.subject, revisionAuthor: pinned.commit.authorName,
            descriptorBlob: try workspace.stacks.blobID(entry.path, at: pinned), inputs: inputs, secrets: secrets,
            environment: workspace.environment, stateDirectory: workspace.stateDirectory, runID: runID,
            operatorName: workspace.operatorName)
        context.runKind = "runbook"
        let (masked, revealed) = try RunSession.plans(descriptor, context, target: entry.target)
        let session = try RunSession(workspace: workspace)
        let me = ProcessIdentity.current
        let run = RunRecord(
            id: runID, kind: "runbook", stack: entry.stack, environment: entry.environment, target: entry.target,
            revision: pinned.sha, revisionSubject: pinned.commit.subject, descriptorBlob: masked.descriptorBlob,
            inputs: Dictionary(inputs.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
            operatorName: workspace.operatorName, host: me.host, pid: me.pid, pidStart: me.start,
            startedAt: Date(), endedAt: nil, status: .running, message: nil, relatedRun: nil)
        try session.journal.createRun(run)
        try session.journal.event("runbook_started", target: entry.target, runID: runID, data: ["runbook": name, "by": workspace.operatorName])
        let tree = try session.tree(for: pinned)
        let steps = RunnableSteps(descriptor: descriptor, masked: masked, revealed: revealed, tree: tree)
        let engine = RunEngine(
            journal: session.journal, run: run, steps: steps, options: options, observer: observer, cancellation: cancellation,
            baseEnvironment: session.baseEnvironment(run: run, tree: tree), secretValues: secrets.compactMap(\.value),
            logDirectory: try session.logDirectory(runID: runID))
        var outcome: RunOutcome
        do {
            outcome = try await engine.runPhase(steps.runbook(name)) ?? RunOutcome(status: .succeeded, message: "")
        } catch {
            try? session.journal.finishRun(runID, status: .failed, message: "deployctl itself failed during the runbook: \(error)")
            throw DeployError(.failed, "deployctl itself failed during the runbook: \(error)", next: ["deployctl show \(runID)"])
        }
        var last: [String: StepRecord] = [:], order: [String] = []
        for step in try session.journal.steps(runID: runID) {
            if last[step.name] == nil { order.append(step.name) }
            last[step.name] = step
        }
        let findings = order.compactMap { last[$0] }
        let failed = findings.filter { $0.status != .succeeded && $0.status != .skipped }
        if outcome.status != .cancelled {
            outcome = failed.isEmpty
                ? RunOutcome(status: .succeeded, message: "all \(findings.count) checks passed")
                : RunOutcome(status: .failed, message: "\(failed.count) of \(findings.count) checks found something: \(failed.map(\.name).joined(separator: ", "))")
        }
        try session.journal.finishRun(runID, status: outcome.status, message: outcome.message)
        let reportPath = await RunEpilogue(workspace: workspace, journal: session.journal, observer: observer)
            .finish(runID: runID, masked: masked, revealed: revealed, secretValues: secrets.compactMap(\.value), notify: false)
        let book = masked.runbooks.first { $0.name == name }!
        return Result(run: run, outcome: outcome, runbook: book, findings: findings, reportPath: reportPath)
    }
}
