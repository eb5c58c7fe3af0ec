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
        public var exitStatus: ExitStatus { ExitStatus.of([FinishedRun(run: run, outcome: outcome, next: [])]) }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// The runbooks a target's descriptor defines (for listing and suggestions), at the
    /// revision `run` would read.
    public func list(target: String, revision: String?, supply: InputSupply) throws -> (String, [PlanRunbook]) {
        let (chosen, _) = try self.revision(for: target, requested: revision, journal: workspace.existingJournal())
        let plan = try PlanAction(workspace: workspace).run(target: target, source: .commit(try workspace.stacks.pin(chosen)), supply: supply)
        return (plan.target, plan.runbooks)
    }

    /// The revision a runbook reads: the one named, else the one the target runs (or, degraded,
    /// its last good one: the live system's own checks, admitted when it deployed), else HEAD.
    /// `deployed`: the revisions runs of the target deployed, which passed `up`'s gates.
    private func revision(for target: String, requested: String?, journal: Journal?) throws -> (String, deployed: Set<String>) {
        guard let journal, let head = try? workspace.stacks.pin("HEAD"),
              let entry = try? workspace.stacks.entry(for: target, at: head) else { return (requested ?? "HEAD", []) }
        let history = try journal.runs(target: entry.target, limit: 10_000)
        let deployed = Set(history.filter { $0.kind.deploys && $0.status == .succeeded }.map(\.revision))
        let state = try journal.environmentState(runs: history)
        if requested == nil, let live = state.deployed ?? state.lastGood, (try? workspace.stacks.pin(live.revision)) == nil {
            // Another machine deployed it and this clone has not fetched it yet.
            throw DeployError(.usage, "\(entry.target) runs \(live.revision.prefix(10)) (run \(live.run)), which this clone does not have; its runbooks are read at the revision it runs",
                              next: ["git fetch in \(workspace.stacks.root), then again", "or read another revision's: deployctl runbook \(entry.target) --rev REV"])
        }
        return (requested ?? state.deployed?.revision ?? state.lastGood?.revision ?? "HEAD", deployed)
    }

    public func run(target: String, name: String, revision requested: String?, supply: InputSupply, options: RunOptions,
                    fetch: FetchMode = .fetch, observer: RunObserver, cancellation: Cancellation) async throws -> Result {
        let session = try RunSession(workspace: workspace)
        let (revision, deployed) = try self.revision(for: target, requested: requested, journal: session.journal)
        let prepared = try PreparedRun(workspace: workspace, target: target, revision: revision, supply: supply, kind: "runbook") { descriptor, entry in
            guard descriptor.runbooks.contains(where: { $0.name == name }) else {
                let names = descriptor.runbooks.map(\.name)
                throw DeployError(.usage, "\(entry.target) has no runbook '\(name)'\(Suggestion.hint(for: name, in: names))"
                                  + (names.isEmpty ? "; its descriptor defines none" : "; it has: \(names.joined(separator: ", "))"),
                                  next: ["deployctl runbook \(entry.target)   (lists them)"])
            }
        }
        let (pinned, entry, resolved, runID) = (prepared.pinned, prepared.entry, prepared.resolved, prepared.runID)
        // A revision no run of the target deployed (HEAD on a laptop, a --rev) has passed no gate,
        // and its checks run with the environment's secrets: only what was pushed, signed where
        // the governing descriptor asks (a runbook changes nothing: no promotion).
        let admitted = deployed.contains(pinned.sha) ? RevisionAdmission()
            : try RevisionAdmission.checkUndeployed(pinned, entry: entry, descriptor: prepared.descriptor, workspace: workspace, journal: session.journal,
                                                    retry: "deployctl runbook \(entry.target) \(name) --rev \(pinned.short)", fetch: fetch)
        let run = prepared.record(kind: .runbook, workspace: workspace)
        try session.journal.createRun(run)
        try admitted.record(pinned, target: entry.target, runID: runID, in: session.journal)
        try session.journal.event(.runbookStarted, target: entry.target, runID: runID, data: ["runbook": .string(name), "by": .string(workspace.operatorName)])
        observer.runStarted(run)
        let tree = try session.tree(for: pinned)
        let steps = resolved.steps(tree: tree)
        let engine = RunEngine(
            journal: session.journal, run: run, steps: steps, options: options, observer: observer, cancellation: cancellation,
            baseEnvironment: session.baseEnvironment(run: run, tree: tree), secretValues: resolved.secretValues,
            logDirectory: try session.logDirectory(runID: runID))
        var outcome: RunOutcome
        do {
            outcome = try await engine.runPhase(steps.runbook(name)) ?? RunOutcome(status: .succeeded, message: "")
        } catch {
            try? session.journal.finishRun(runID, status: .failed, message: "deployctl itself failed during the runbook: \(error)")
            throw DeployError(.failed, "deployctl itself failed during the runbook: \(error)", next: ["deployctl show \(runID)"])
        }
        let findings = StepRecord.lastAttempts(try session.journal.steps(runID: runID))
        let failed = findings.filter { $0.status != .succeeded && $0.status != .skipped }
        if outcome.status != .cancelled {
            outcome = failed.isEmpty
                ? RunOutcome(status: .succeeded, message: "all \(findings.count) checks passed")
                : RunOutcome(status: .failed, message: "\(failed.count) of \(findings.count) checks found something: \(failed.map(\.name).joined(separator: ", "))")
        }
        try session.journal.finishRun(runID, status: outcome.status, message: outcome.message)
        let reportPath = await RunEpilogue(workspace: workspace, journal: session.journal, observer: observer)
            .finish(runID: runID, masked: resolved.masked, revealed: resolved.revealed, secretValues: resolved.secretValues, notify: false)
        let book = resolved.masked.runbooks.first { $0.name == name }!
        return Result(run: run, outcome: outcome, runbook: book, findings: findings, reportPath: reportPath)
    }
}
