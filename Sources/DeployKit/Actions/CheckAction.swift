import Foundation

/// `deployctl check TARGET`: is the environment still what the journal says? Runs the verify
/// phase of the revision whose steps last ran there (the deployed one, or the one a degraded
/// run left behind), with that run's inputs; read-only, so no lock is taken. Journaled as a
/// `check` run, which `status` shows as the last confirmation.
public struct CheckAction {
    public struct Result: Sendable {
        public let finished: FinishedRun
        /// Each verify step's last attempt, in order.
        public let findings: [StepRecord]
        public var exitStatus: ExitStatus { ExitStatus.of([finished]) }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(target: String, options: RunOptions, observer: RunObserver, cancellation: Cancellation) async throws -> Result {
        let session = try RunSession(workspace: workspace)
        let entry = try workspace.stacks.entry(for: target, at: workspace.stacks.pin("HEAD"))
        try session.sweepInterrupted(target: entry.target)
        let (runs, state) = try session.journal.recentHistory(target: entry.target)
        guard let liveRun = state.deployed?.run ?? state.degraded?.run, let deployed = try session.journal.run(liveRun) else {
            throw DeployError(.usage, "nothing to check: \(entry.target) has no deploy in \(session.journal.path)",
                              next: ["deployctl up \(entry.target)"])
        }
        let runID = Journal.newRunID()
        let pinned = try workspace.stacks.pin(deployed.revision)
        let resolved = try ResolvedRevision(workspace: workspace, entry: entry, revision: pinned, inputs: deployed.inputs, runID: runID, kind: "check")
        let run = RunRecord.starting(id: runID, kind: .check, entry: entry, revision: pinned, descriptorBlob: resolved.masked.descriptorBlob,
                                     inputs: deployed.inputs, operatorName: workspace.operatorName, relatedRun: deployed.id)
        try session.journal.createRun(run)
        try session.journal.event(.checkStarted, target: entry.target, runID: runID,
                                  data: ["of_run": .string(deployed.id), "state": .string(state.condition.rawValue), "by": .string(workspace.operatorName)])
        observer.runStarted(run)
        if state.condition == .degraded {
            observer.note("\(entry.target) is degraded (run \(deployed.id)); checking \(pinned.short), whose steps last ran")
        }
        let tree = try session.tree(for: pinned)
        let engine = RunEngine(journal: session.journal, run: run, steps: resolved.steps(tree: tree), options: options, observer: observer,
                               cancellation: cancellation, baseEnvironment: session.baseEnvironment(run: run, tree: tree),
                               secretValues: resolved.secretValues, logDirectory: try session.logDirectory(runID: runID))
        let verify = resolved.steps(tree: tree).phase(.verify)
        var outcome: RunOutcome
        do {
            outcome = try await engine.runPhase(verify) ?? RunOutcome(status: .succeeded, message: "")
        } catch {
            try? session.journal.finishRun(runID, status: .failed, message: "deployctl itself failed during the check: \(error)")
            throw DeployError(.failed, "deployctl itself failed during the check: \(error)", next: ["deployctl show \(runID)"])
        }
        let findings = StepRecord.lastAttempts(try session.journal.steps(runID: runID))
        if outcome.status == .succeeded {
            outcome.message = verify.isEmpty ? "\(pinned.short) declares no verify steps: nothing to confirm"
                : "\(pinned.short) verified: all \(findings.count) verify steps passed"
        }
        try session.journal.finishRun(runID, status: outcome.status, message: outcome.message)
        let report = await RunEpilogue(workspace: workspace, journal: session.journal, observer: observer)
            .finish(runID: runID, masked: resolved.masked, revealed: resolved.revealed, secretValues: resolved.secretValues, notify: false)
        let next = outcome.status == .succeeded ? ["deployctl status \(entry.target)"]
            : ["read what failed: deployctl show \(runID)"]
            + StatusAction.next(state, target: entry.target, owed: nil,
                                back: try StatusAction.rollbackTarget(entry.target, runs: runs, state: state, journal: session.journal))
            + (state.condition == .deployed ? ["if it stays broken, go back: deployctl rollback \(entry.target)"] : [])
        return Result(finished: FinishedRun(run: try session.journal.run(runID) ?? run, outcome: outcome, next: next, reportPath: report),
                      findings: findings)
    }
}
