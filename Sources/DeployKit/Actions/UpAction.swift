import Foundation

/// `deployctl up TARGET`: pins the revision, plans, takes the environment's lock, runs the
/// phases and journals everything. The whole run reads the descriptor (and runs the steps in
/// the files) of the pinned commit, never the work tree.
public struct UpAction {
    public struct Request: Sendable {
        public var target: String
        /// Nil: the tracked branch's head (or HEAD when the repository has no remote).
        public var revision: String?
        public var supply: InputSupply
        public var options: RunOptions
        public var dryRun: Bool
        /// Roll back automatically when deploy or verify fails (`--no-rollback` turns it off).
        public var autoRollback: Bool
        /// `--db-restore` for the automatic rollback (else the descriptor's `backup.on_rollback`).
        public var restore: RestorePolicy?
        /// Deploy a revision an earlier rollback marked bad.
        public var allowBadRevision: Bool
        /// When inbound mail is still owed from an earlier rollback, re-enable it first.
        public var reenableInbound: Bool = false
        /// Fetch the remote first, or `--offline`.
        public var fetch: FetchMode = .fetch
        /// Deploy a commit the tracked branch does not contain (journaled, reported).
        public var allowUntrackedRevision = false
        /// The revision is the tracked head because nothing else was named (`sync` names the
        /// head it examined): a branch rewound under the target is refused. Nil: no `--rev`.
        public var followsBranch: Bool? = nil

        public init(target: String, revision: String?, supply: InputSupply, options: RunOptions, dryRun: Bool,
                    autoRollback: Bool = true, restore: RestorePolicy? = nil, allowBadRevision: Bool = false) {
            self.target = target
            self.revision = revision
            self.supply = supply
            self.options = options
            self.dryRun = dryRun
            self.autoRollback = autoRollback
            self.restore = restore
            self.allowBadRevision = allowBadRevision
        }
    }

    public struct Result: Sendable {
        public let plan: Plan
        /// The up, then its automatic rollback when one ran; empty for a dry run.
        public var runs: [FinishedRun]
        /// For a dry run: the command that would run it.
        public var next: [String]
        public var exitStatus: ExitStatus { ExitStatus.of(runs) }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(_ request: Request, observer: RunObserver, cancellation: Cancellation) async throws -> Result {
        let gate = TrackingGate(workspace: workspace, mode: request.fetch)
        let (revision, tracked) = try gate.revision(for: request.target, requested: request.revision)
        let prepared = try PreparedRun(workspace: workspace, target: request.target, revision: revision,
                                       supply: request.supply, kind: "up")
        let (pinned, entry, runID) = (prepared.pinned, prepared.entry, prepared.runID)
        let offBranch = try gate.admit(pinned, tracked: tracked, target: entry.target, allow: request.allowUntrackedRevision)
        if let tracked { observer.note("\(entry.target) tracks \(tracked.name) (\(Tracker.freshness(tracked))): deploying \(pinned.short)\(offBranch ? ", which is NOT on it (--allow-untracked-revision)" : "")") }
        if request.dryRun {
            _ = try SignatureGate(workspace: workspace, journal: workspace.existingJournal(), record: false)
                .check(target: entry.target, entry: entry, deploying: pinned, descriptor: prepared.descriptor)
            return Result(plan: prepared.masked, runs: [], next: ["deployctl up \(entry.target) --rev \(pinned.short)" + (offBranch ? " --allow-untracked-revision" : "")])
        }

        let session = try RunSession(workspace: workspace)
        for run in try session.sweepInterrupted(target: entry.target) {
            observer.note("run \(run.id) of \(run.target) was interrupted (its process is gone); it is kept as such: deployctl show \(run.id)")
        }
        // What the gates below are judged against: looked at again under the lock.
        let judged = try Self.deploys(of: entry.target, in: session.journal)
        // Every gate before anything changes (re-enabling inbound mail included).
        if request.followsBranch ?? (request.revision == nil), let tracked {
            try gate.refuseRewound(pinned, tracked: tracked, target: entry.target, journal: session.journal)
        }
        try RevisionAdmission.refuseBad(pinned, target: entry.target, journal: session.journal, allow: request.allowBadRevision,
                                        retry: "deployctl up \(entry.target) --rev \(pinned.short)")
        let admitted = try RevisionAdmission.check(pinned, entry: entry, descriptor: prepared.descriptor, offBranch: offBranch ? tracked : nil,
                                                   workspace: workspace, journal: session.journal)
        if request.reenableInbound, try session.journal.inboundOwed(target: entry.target) != nil {
            observer.note("inbound mail processing for \(entry.target) is owed: re-enabling it first (--reenable-inbound)")
            let (_, confirmed) = try await InboundAction(workspace: workspace).set(enabled: true, target: entry.target, observer: observer, cancellation: cancellation)
            if !confirmed {
                throw DeployError(.refused, "inbound mail processing for \(entry.target) could not be confirmed enabled; nothing was deployed",
                                  next: ["deployctl inbound status \(entry.target)"])
            }
        }
        try session.refuseWhileInboundOwed(target: entry.target, command: "deployctl up \(entry.target)", allowReenable: true)
        try session.lock(target: entry.target, runID: runID, command: .up, observer: observer, cancellation: cancellation)
        let run = prepared.record(kind: .up, workspace: workspace)
        defer { try? session.journal.releaseLock(target: entry.target, runID: runID) }
        // A deploy or rollback that started or ended while the gates were judged (every_commit's
        // thousand signatures, inbound mail re-enabled) changed the past they were judged on.
        guard try Self.deploys(of: entry.target, in: session.journal) == judged else {
            throw DeployError(.locked, "\(entry.target) changed while this up was being admitted (another deploy or rollback started or ended); nothing was run",
                              next: ["look again: deployctl status \(entry.target)", "then: deployctl up \(entry.target)"])
        }
        try session.journal.createRun(run)
        try admitted.record(pinned, target: entry.target, runID: runID, in: session.journal)
        if let planned = ReleaseLayout.planned(prepared.descriptor) {
            try session.journal.event(.releasePlanned, target: entry.target, runID: runID, data: planned)
        }
        observer.runStarted(run)
        let outcome = try await Self.execute(session: session, run: run, resolved: prepared.resolved, options: request.options,
                                             observer: observer, cancellation: cancellation)
        let up = FinishedRun(run: run, outcome: outcome, next: Self.next(after: outcome, run: run))
        let rollback = AutomaticRollback(workspace: workspace, enabled: request.autoRollback, restore: request.restore, options: request.options)
        var runs = await rollback.follow(up, descriptor: prepared.descriptor, observer: observer, cancellation: cancellation)
        runs[0] = try await Self.epilogue(runs[0], session: session, resolved: prepared.resolved, observer: observer)
        return Result(plan: prepared.masked, runs: runs, next: [])
    }

    /// The target's deploys and rollbacks as they stand (id and status, newest first): what
    /// must not change between judging an `up`'s gates and taking its lock.
    private static func deploys(of target: String, in journal: Journal) throws -> [String] {
        try journal.runs(RunQuery(target: target, kinds: [.up, .rollback], limit: 50)).map { "\($0.id) \($0.status.rawValue)" }
    }

    /// The revision a rollback of `run` would go back to, which its kept releases must keep (see
    /// `RunnableSteps.rollbackTarget`): read as the rollback reads it when the recent runs hold no
    /// answer (64 newer runs without another good revision).
    private static func rollbackTarget(of run: RunRecord, journal: Journal) throws -> String? {
        let bad = try journal.badRevisions(target: run.target)
        return try (RollbackChoice.target(undoing: run, history: journal.recentHistory(target: run.target).runs, bad: bad)
            ?? RollbackChoice.target(undoing: run, history: journal.runs(target: run.target, limit: 10_000), bad: bad))?.revision
    }

    /// Runs the engine and writes the run's final status, whatever happens in between: a
    /// failure of deployctl itself ends the run as failed (and reported), not as a throw.
    static func execute(session: RunSession, run: RunRecord, resolved: ResolvedRevision, options: RunOptions, observer: RunObserver,
                        cancellation: Cancellation, done: Set<StepRef> = [], attempts: [StepRef: Int] = [:]) async throws -> RunOutcome {
        let outcome: RunOutcome
        do {
            let tree = try session.tree(for: resolved.revision)
            let rollbackTarget = resolved.descriptor.release == nil ? nil : try Self.rollbackTarget(of: run, journal: session.journal)
            let engine = RunEngine(
                journal: session.journal, run: run, steps: resolved.steps(tree: tree, rollbackTarget: rollbackTarget),
                options: options, observer: observer, cancellation: cancellation,
                baseEnvironment: session.baseEnvironment(run: run, tree: tree),
                secretValues: resolved.secrets.compactMap(\.value), logDirectory: try session.logDirectory(runID: run.id),
                done: done, attempts: attempts)
            outcome = try await engine.execute()
        } catch {
            outcome = RunOutcome(status: .failed, message: "deployctl itself failed during the run: \(Redactor(secrets: resolved.secretValues).redact("\(error)"))")
        }
        do {
            try session.journal.finishRun(run.id, status: outcome.status, message: outcome.message)
        } catch let failure as StoreFailure {
            throw DeployError.store(failure, run: run)
        }
        return outcome
    }

    /// Notifications and reports, once the run (and any rollback of it) has ended.
    static func epilogue(_ finished: FinishedRun, session: RunSession, resolved: ResolvedRevision, observer: RunObserver) async throws -> FinishedRun {
        var finished = finished
        finished.reportPath = await RunEpilogue(workspace: session.workspace, journal: session.journal, observer: observer)
            .finish(runID: finished.run.id, masked: resolved.masked, revealed: resolved.revealed, secretValues: resolved.secrets.compactMap(\.value))
        // The record as it ended (a rollback may have marked it rolled back since).
        return FinishedRun(run: try session.journal.run(finished.run.id) ?? finished.run, outcome: finished.outcome,
                           next: finished.next, reportPath: finished.reportPath)
    }

    /// The exact next commands for the person at the terminal.
    static func next(after outcome: RunOutcome, run: RunRecord) -> [String] {
        switch outcome.status {
        case .succeeded:
            return ["deployctl show \(run.id)"]
        case .cancelled where outcome.signal != nil:
            return ["see what ran: deployctl show \(run.id)", "continue it: deployctl resume \(run.id)"]
        default:
            var next: [String] = []
            if let step = outcome.failedStep { next.append("read the output: deployctl logs \(run.id) \(step.name)") }
            if outcome.needsConfirmation {
                next.append("answer the gate: deployctl resume \(run.id) --yes (or run it from a terminal)")
            } else {
                next.append("after fixing the cause: deployctl resume \(run.id)")
                if let phase = outcome.failedStep?.phase, [Phase.deploy.rawValue, Phase.verify.rawValue, Phase.postdeploy.rawValue].contains(phase) {
                    next.append("or go back to what ran before: deployctl rollback \(run.target)")
                }
            }
            return next
        }
    }
}
