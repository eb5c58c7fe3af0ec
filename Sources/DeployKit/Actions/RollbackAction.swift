import Foundation

/// `deployctl rollback TARGET [--to REV|RUN]`: back to the last good revision, driven by the
/// descriptor read at that revision. Everything that could refuse (the target, a rollback to
/// what is live, a missing backup or program) is settled before the lock is taken and before
/// inbound mail goes off (only a deploy that started or ended meanwhile refuses after the
/// lock); then `RollbackSequence` runs the `RollbackPlan` a dry run prints.
public struct RollbackAction {
    public struct Request: Sendable {
        public var target: String
        public var to: String?
        public var options: RunOptions
        public var dryRun: Bool
        /// `--db-restore`: overrides `backup.on_rollback` for this run.
        public var restore: RestorePolicy?
        public var keepInboundDisabled: Bool
        /// The automatic rollback of a failed `up`: that run's lock passes to the rollback, so
        /// nothing can start in between, and that run is the one rolled back.
        public var takeOverFrom: String? = nil
        /// `--to` a revision an earlier rollback marked bad.
        public var allowBadRevision = false
        /// `--to` a revision no run deployed that the tracked branch lacks (journaled).
        public var allowUntrackedRevision = false
        /// How `--to` a revision no run deployed reads the tracked branch.
        public var fetch: FetchMode = .fetch

        /// This rollback as a command to run again, with the choices that change what it does
        /// (a re-run without `--db-restore keep` could restore what this one kept).
        func again(_ target: String, to revision: String) -> String {
            var words = ["deployctl", "rollback", target, "--to", revision]
            if let restore { words += ["--db-restore", restore.rawValue] }
            if keepInboundDisabled { words.append("--keep-inbound-disabled") }
            if allowBadRevision { words.append("--allow-bad-revision") }
            if allowUntrackedRevision { words.append("--allow-untracked-revision") }
            if fetch == .offline { words.append("--offline") }
            return words.joined(separator: " ")
        }

        public init(target: String, to: String? = nil, options: RunOptions, dryRun: Bool = false,
                    restore: RestorePolicy? = nil, keepInboundDisabled: Bool = false) {
            self.target = target
            self.to = to
            self.options = options
            self.dryRun = dryRun
            self.restore = restore
            self.keepInboundDisabled = keepInboundDisabled
        }
    }

    /// What `--dry-run` shows (and `--format json` prints).
    public struct Preview: Codable, Sendable {
        public struct Line: Codable, Sendable {
            public let number: Int
            public let step: String
            public let command: String?
            public let note: String?
        }
        public let target: String
        public let fromRun: String
        public let fromRevision: String
        public let toRevision: String
        public let toRevisionSubject: String
        public let steps: [Line]
        /// Why the real run would refuse before changing anything; empty when it would start.
        public let problems: [String]
        public let next: [String]
    }

    public enum Result: Sendable {
        case preview(Preview)
        case finished(FinishedRun)
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(_ request: Request, observer: RunObserver, cancellation: Cancellation) async throws -> Result {
        let session = try RunSession(workspace: workspace)
        let head = try workspace.stacks.pin("HEAD")
        let entry = try workspace.stacks.entry(for: request.target, at: head)
        // A `--to` that names nothing is a usage error before anything is locked or journaled.
        let requested = try request.to.map { try destination(named: $0, target: entry.target, journal: session.journal) }
        try session.sweepInterrupted(target: entry.target)
        if request.takeOverFrom == nil { try session.refuseWhileLocked(target: entry.target) }
        let history = try session.journal.runs(target: entry.target, limit: 10_000)
        let choice = try choose(history: history, target: entry.target, handedOver: request.takeOverFrom, journal: session.journal)
        let current = choice.undo
        guard let (toRevision, toInputs) = try requested ?? choice.target.map({ (try workspace.stacks.pin($0.revision), $0.inputs) }) else {
            throw DeployError(.refused, "no earlier good revision of \(entry.target): no run before \(current.id) succeeded at another revision; nothing was changed",
                              next: ["name one: deployctl rollback \(entry.target) --to REV (a branch, tag or SHA) or --to RUN (a run id from deployctl runs)"])
        }
        guard toRevision.sha != current.revision else {
            throw DeployError(.refused, "\(entry.target) is already at \(toRevision.short): run \(current.id) deployed it, and a rollback to it would undo that very deploy; nothing was changed",
                              next: ["to run that revision's steps again: deployctl up \(entry.target) --rev \(toRevision.short)",
                                     "to go further back: deployctl rollback \(entry.target) --to REV (deployctl revisions \(entry.target) lists them)"])
        }

        // A revision no run of this target deployed has passed no gate: it passes those of `up`
        // (its steps run with the environment's secrets). One marked bad needs saying so.
        let retry = request.again(entry.target, to: toRevision.short)
        if request.to != nil {
            try RevisionAdmission.refuseBad(toRevision, target: entry.target, journal: session.journal, allow: request.allowBadRevision, retry: retry)
        }
        var admitted: RevisionAdmission?
        if !history.contains(where: { $0.kind.deploys && $0.status == .succeeded && $0.revision == toRevision.sha }) {
            let gate = TrackingGate(workspace: workspace, mode: request.fetch)
            let tracked = try gate.tracker.tracked(target: entry.target)
            let offBranch = try gate.admit(toRevision, tracked: tracked, target: entry.target, allow: request.allowUntrackedRevision, retry: retry)
            let descriptor = try workspace.load(entry, at: toRevision)
            if request.dryRun {
                _ = try SignatureGate(workspace: workspace, journal: session.journal, record: false)
                    .check(target: entry.target, entry: entry, deploying: toRevision, descriptor: descriptor)
                _ = try PromotionGate(workspace: workspace, journal: session.journal)
                    .check(target: entry.target, entry: entry, deploying: toRevision, descriptor: descriptor)
            } else {
                admitted = try RevisionAdmission.check(toRevision, entry: entry, descriptor: descriptor, offBranch: offBranch ? tracked : nil,
                                                       workspace: workspace, journal: session.journal)
            }
        }

        let runID = Journal.newRunID()
        let prepared = try prepare(entry: entry, current: current, history: history, toRevision: toRevision, toInputs: toInputs, runID: runID,
                                   request: request, session: session)
        let plan = prepared.plan
        if request.dryRun {
            let problems = RollbackPreflight.problems(plan, restoring: plan.decide { nil }?.restore == true,
                                                      environment: workspace.environment, backupPath: prepared.backupPath, takenOn: current.host)
            let lines = plan.lines().enumerated().map { Preview.Line(number: $0.offset + 1, step: $0.element.step, command: $0.element.command, note: $0.element.note) }
            return .preview(Preview(target: entry.target, fromRun: current.id, fromRevision: current.revision, toRevision: toRevision.sha,
                                    toRevisionSubject: toRevision.commit.subject, steps: lines, problems: problems,
                                    next: [request.again(entry.target, to: toRevision.short)]))
        }

        // Asked before inbound goes off: nobody should sit at a prompt while mail is stopped.
        let decision = plan.decide {
            let path = plan.backup?.data["path"]?.description ?? "the backup"
            let when = plan.backup.map { " at \(Timestamp.human($0.at))" } ?? ""
            return observer.confirm("Restore the database from \(path) (taken by run \(current.id)\(when), before its migrations)? Writes since then are lost. Answer no to keep the database as it is.",
                                    step: StepRef(phase: StepRef.Section.rollback, name: "backup.restore"))
        }
        let restoring = decision?.restore == true
        var backupProblems = RollbackPreflight.backupProblems(plan, restoring: restoring, backupPath: prepared.backupPath, takenOn: current.host)
        // A backup kept in shared storage comes here first, and is looked at again.
        var fetched = false
        if !backupProblems.isEmpty {
            fetched = try await fetchBackup(prepared, current: current, entry: entry, runID: runID, request: request, session: session,
                                            observer: observer, cancellation: cancellation)
        }
        if fetched {
            backupProblems = RollbackPreflight.backupProblems(plan, restoring: restoring, backupPath: prepared.backupPath, takenOn: current.host)
        }
        let problems = backupProblems + RollbackPreflight.programProblems(plan, restoring: restoring, environment: workspace.environment)
        guard problems.isEmpty else {
            throw DeployError(.refused, "the rollback of \(entry.target) to \(toRevision.short) could not finish, so it did not start; nothing was changed and inbound mail was not touched:\n  - "
                              + problems.joined(separator: "\n  - "),
                              next: ["fix what is listed, then: " + request.again(entry.target, to: toRevision.short),
                                     "see the whole sequence: " + request.again(entry.target, to: toRevision.short) + " --dry-run"])
        }

        // The lock, then a second look: a deploy or rollback that started or ended meanwhile
        // means this rollback was planned against a past that is gone (runbooks and checks
        // change nothing deployed and do not count).
        if let from = request.takeOverFrom {
            try session.journal.handOverLock(target: entry.target, from: from, to: runID)
        } else {
            try session.lock(target: entry.target, runID: runID, command: .rollback, observer: observer, cancellation: cancellation)
        }
        defer { try? session.journal.releaseLock(target: entry.target, runID: runID) }
        let deploys = { (runs: [RunRecord]) in runs.filter(\.kind.deploys).map { "\($0.id) \($0.status.rawValue)" } }
        if request.takeOverFrom == nil, deploys(try session.journal.runs(target: entry.target, limit: 10_000)) != deploys(history) {
            throw DeployError(.locked, "\(entry.target) changed while this rollback was being prepared (another deploy or rollback started or ended); nothing was changed",
                              next: ["look again: deployctl status \(entry.target)", "then: deployctl rollback \(entry.target)"])
        }

        let run = RunRecord.starting(id: runID, kind: .rollback, entry: entry, revision: toRevision,
                                     descriptorBlob: prepared.destination.masked.descriptorBlob, inputs: toInputs ?? current.inputs,
                                     operatorName: workspace.operatorName, relatedRun: current.id)
        try session.journal.createRun(run)
        try admitted?.record(toRevision, target: entry.target, runID: runID, in: session.journal)
        if let planned = ReleaseLayout.planned(prepared.destination.descriptor) {
            try session.journal.event(.releasePlanned, target: entry.target, runID: runID, data: planned)
        }
        observer.runStarted(run)
        var outcome: RunOutcome
        do {
            // From here on the run exists: whatever fails ends it as a finished, reported run.
            if plan.guardBorrowed {
                try session.journal.event(.inboundGuardBorrowed, target: entry.target, runID: runID,
                                          data: ["from_revision": .string(current.revision)])
                observer.note("\(toRevision.short) declares no inbound: block; using the guard of \(current.revision.prefix(10)), the revision being undone")
            }
            if fetched, let path = plan.backup?.data["path"] {
                try session.journal.event(.backupFetched, target: entry.target, runID: runID,
                                          data: ["path": path, "taken_on": .string(current.host), "backup_of_run": .string(current.id)])
            }
            if let decision {
                try session.journal.event(.restoreDecided, target: entry.target, runID: runID, data: decision.eventData)
                observer.note("database: \(decision.sentence)")
            }
            let engine = RunEngine(
                journal: session.journal, run: run, steps: prepared.destinationSteps, options: request.options,
                observer: observer, cancellation: cancellation, baseEnvironment: session.baseEnvironment(run: run, tree: prepared.destinationSteps.tree),
                secretValues: prepared.secretValues, logDirectory: try session.logDirectory(runID: runID))
            outcome = try await RollbackSequence(engine: engine, plan: plan, restore: decision, from: current).execute()
        } catch {
            outcome = RunOutcome(status: .failed, message: "deployctl itself failed during the rollback: \(Redactor(secrets: prepared.secretValues).redact("\(error)"))")
        }
        try session.journal.finishRun(runID, status: outcome.status, message: outcome.message)
        if outcome.rolledBack {
            try session.journal.finishRun(current.id, status: .rolledBack, message: "rolled back by run \(runID) to \(toRevision.short)")
            try session.journal.event(.revisionMarkedBad, target: entry.target, runID: current.id,
                                      data: ["revision": .string(current.revision), "by_run": .string(runID), "by": .string(workspace.operatorName)])
        }
        let next: [String] = outcome.status == .succeeded
            ? ["deployctl show \(runID)", "deployctl status \(entry.target)"]
            : outcome.rolledBack
            ? ["everything was rolled back but inbound mail is still off: deployctl inbound enable \(entry.target)"]
            : ["read what happened: deployctl show \(runID)",
               "after fixing the cause, run it again: " + request.again(entry.target, to: toRevision.short),
               "or roll back further: deployctl rollback \(entry.target) --to REV (deployctl revisions \(entry.target) lists them)"]
        let report = await RunEpilogue(workspace: workspace, journal: session.journal, observer: observer)
            .finish(runID: runID, masked: prepared.destination.masked, revealed: prepared.destination.revealed, secretValues: prepared.secretValues)
        return .finished(FinishedRun(run: try session.journal.run(runID) ?? run, outcome: outcome, next: next, reportPath: report))
    }

    // MARK: - Choosing what to undo and where to go

    /// `--to REV|RUN`: a run of this target (its revision and inputs), else a revision.
    private func destination(named to: String, target: String, journal: Journal) throws -> (PinnedRevision, [String: String]?) {
        var run: RunRecord? = nil
        do {
            run = try journal.resolveRun(to)
        } catch JournalError.ambiguousRun(let prefix, let candidates) {
            throw DeployError(.usage, "--to \(prefix) is the start of several run ids: \(candidates.joined(separator: ", ")); nothing was changed",
                              next: ["give more of it (deployctl runs \(target) lists them)"])
        } catch {}
        if let run {
            guard run.target == target, run.kind.deploys else {
                throw DeployError(.usage, "run \(run.id) is a \(run.kind.rawValue) run of \(run.target), not a deploy of \(target)",
                                  next: ["deployctl runs \(target)"])
            }
            return (try workspace.stacks.pin(run.revision), run.inputs)
        }
        do {
            return (try workspace.stacks.pin(to), nil)
        } catch let error as DeployError {
            throw DeployError(.usage, "--to \(to) is neither a run id of \(target) nor a revision: \(error.message); nothing was changed",
                              next: ["deployctl runs \(target)   (run ids)", "deployctl revisions \(target)   (revisions)"])
        }
    }

    /// What to undo and where to go back to (see `RollbackChoice`), as the errors a person reads.
    private func choose(history: [RunRecord], target: String, handedOver: String?, journal: Journal) throws -> RollbackChoice {
        let state = try journal.environmentState(runs: history)
        let bad = try journal.badRevisions(target: target)
        switch RollbackChoice.make(history: history, state: state, bad: bad, handedOver: handedOver) {
        case .success(let choice):
            return choice
        case .failure(.nothingToUndo):
            throw DeployError(.refused, "nothing to roll back: \(target) has no finished deploy", next: ["deployctl runs \(target)"])
        case .failure(.reachedByRollback(let run)):
            throw DeployError(.refused, "\(target) runs \(run.revision.prefix(10)), which rollback run \(run.id) went back to and no up deployed: there are no deploy steps to undo; nothing was changed",
                              next: ["deploy the revision you want instead: deployctl up \(target) --rev REV (deployctl revisions \(target) lists them)"])
        }
    }

    // MARK: - The plan

    private struct Prepared {
        let plan: RollbackPlan
        let destination: ResolvedRevision
        let destinationSteps: RunnableSteps
        let secretValues: [String]
        /// Where the undone run's backup is on disk (secrets filled in).
        let backupPath: String?
        /// The undone revision's steps (its `backup.fetch`).
        let sourceSteps: RunnableSteps
    }

    /// A backup that is not here (or not the same bytes) comes from shared storage when the
    /// undone revision declares `backup.fetch`, before anything has changed. Not a step of the
    /// run, which does not exist yet: journaled as `backup_fetched` once it does. False when
    /// there is no `fetch` or it failed.
    private func fetchBackup(_ prepared: Prepared, current: RunRecord, entry: StackCatalog.Entry, runID: String,
                             request: Request, session: RunSession, observer: RunObserver, cancellation: Cancellation) async throws -> Bool {
        guard let path = prepared.backupPath, let fetch = prepared.plan.fetch else { return false }
        observer.note("the backup of run \(current.id) is not on this machine: fetching it from shared storage (backup.fetch) before anything changes")
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let record = RunRecord.starting(id: runID, kind: .rollback, entry: entry, revision: try workspace.stacks.pin(current.revision),
                                        descriptorBlob: current.descriptorBlob, inputs: current.inputs, operatorName: workspace.operatorName)
        let engine = RunEngine(journal: session.journal, run: record, steps: prepared.sourceSteps, options: request.options, observer: observer,
                               cancellation: cancellation, baseEnvironment: session.baseEnvironment(run: record, tree: prepared.sourceSteps.tree),
                               secretValues: prepared.secretValues, logDirectory: "", journaled: false)
        return try await engine.attemptAll(fetch) == .succeeded
    }

    /// Both descriptors read and planned, both trees exported, the sequence built.
    private func prepare(entry: StackCatalog.Entry, current: RunRecord, history: [RunRecord], toRevision: PinnedRevision, toInputs: [String: String]?,
                         runID: String, request: Request, session: RunSession) throws -> Prepared {
        let source = try ResolvedRevision(workspace: workspace, entry: entry, revision: try workspace.stacks.pin(current.revision),
                                          inputs: current.inputs, runID: current.id, kind: "up")
        let destination = try ResolvedRevision(workspace: workspace, entry: entry, revision: toRevision, inputs: toInputs ?? current.inputs,
                                               runID: runID, kind: "rollback")
        let sourceSteps = source.steps(tree: try session.tree(for: source.revision))
        let destinationSteps = destination.steps(tree: try session.tree(for: toRevision))
        // The undone run's completed steps, newest first: their `rollback:` commands undo them.
        let completed = try session.journal.steps(runID: current.id).filter { $0.status == .succeeded && $0.attempt > 0 }.reversed()
        var stages: [RollbackPlan.Stage] = completed.compactMap { step in
            Phase(rawValue: step.phase).flatMap { sourceSteps.undo($0, name: step.name) }.map { .undo($0) }
        }
        stages.append(.stackRollback(destinationSteps.stackRollback()))
        let taken = try session.journal.events(runID: current.id).last { $0.kind == .backupTaken }
        if taken != nil, let restore = sourceSteps.backup(.restore, phase: StepRef.Section.rollback) {
            stages.append(.database(restore: restore, check: sourceSteps.backup(.check, phase: StepRef.Section.rollback)))
        }
        stages.append(.verify(destinationSteps.phase(.verify)))
        // A target without the guard must not run the undo with mail on: borrow the undone one's.
        let borrowed = destination.descriptor.inbound == nil && source.descriptor.inbound != nil
        // Restored by an earlier attempt at the same rollback? Mail has been on since.
        let restoredBefore = try history
            .filter { $0.kind == .rollback && $0.relatedRun == current.id }
            .contains { try session.journal.events(runID: $0.id).contains { $0.kind == .backupRestored } }
        var plan = RollbackPlan(prepare: destinationSteps.rollbackPrepare(), inbound: borrowed ? sourceSteps : destination.descriptor.inbound == nil ? nil : destinationSteps,
                                guardBorrowed: borrowed, stages: stages, backup: taken,
                                declaredRestore: source.descriptor.backup?.onRollback ?? .ask, requestedRestore: request.restore,
                                restoredBefore: restoredBefore, keepInboundDisabled: request.keepInboundDisabled)
        if taken != nil { plan.fetch = sourceSteps.backup(.fetch, phase: StepRef.Section.rollback) }
        return Prepared(plan: plan, destination: destination, destinationSteps: destinationSteps,
                        secretValues: (destination.secrets + source.secrets).compactMap(\.value),
                        backupPath: source.revealed.phase(.migrate).backup?.path, sourceSteps: sourceSteps)
    }
}
