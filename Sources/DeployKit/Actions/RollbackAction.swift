import Foundation

/// `deployctl rollback TARGET [--to REV|RUN]`: back to the last good revision, driven by the
/// descriptor read at that revision. Inbound mail is disabled (and confirmed) first and
/// re-enabled (and confirmed) last on every exit path; the step rollbacks of the run being
/// undone run in reverse, then the stack's rollback steps, the database restore, and verify.
public struct RollbackAction {
    public struct Request: Sendable {
        public var target: String
        public var to: String?
        public var options: RunOptions
        public var dryRun: Bool
        public var skipDatabaseRestore: Bool
        public var keepInboundDisabled: Bool
        /// The automatic rollback of a failed `up`: that run's lock passes to the rollback, so
        /// nothing can start in between, and that run is the one rolled back.
        public var takeOverFrom: String? = nil

        public init(target: String, to: String? = nil, options: RunOptions, dryRun: Bool = false,
                    skipDatabaseRestore: Bool = false, keepInboundDisabled: Bool = false) {
            self.target = target
            self.to = to
            self.options = options
            self.dryRun = dryRun
            self.skipDatabaseRestore = skipDatabaseRestore
            self.keepInboundDisabled = keepInboundDisabled
        }
    }

    public struct Result: Sendable {
        public let run: RunRecord?
        public let from: RunRecord
        public let toRevision: String
        /// The exact sequence, in order (what `--dry-run` prints).
        public let sequence: [String]
        public let outcome: RunOutcome?
        public let next: [String]
        /// The rollback's HTML report (Markdown, JSON and JUnit lie beside it).
        public var reportPath: String? = nil
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(_ request: Request, observer: RunObserver, cancellation: Cancellation) async throws -> Result {
        let session = try RunSession(workspace: workspace)
        let head = try workspace.stacks.pin("HEAD")
        let entry = try workspace.stacks.entry(for: request.target, at: head)
        try session.sweepInterrupted(target: entry.target)
        let runID = Journal.newRunID()
        // The lock before the history: a run that ends meanwhile must not be missed.
        if !request.dryRun {
            if let from = request.takeOverFrom {
                try session.journal.handOverLock(target: entry.target, from: from, to: runID)
            } else {
                try session.lock(target: entry.target, runID: runID, observer: observer)
            }
        }
        defer { if !request.dryRun { try? session.journal.releaseLock(target: entry.target, runID: runID) } }
        let history = try session.journal.runs(target: entry.target, limit: 10_000)
        let candidate = request.takeOverFrom.flatMap { id in history.first { $0.id == id } }
            ?? history.first(where: { $0.kind == "up" && $0.status != .rolledBack && $0.status != .running })
        guard let current = candidate else {
            throw DeployError(.refused, "nothing to roll back: \(entry.target) has no finished run", next: ["deployctl runs \(entry.target)"])
        }
        let (toRevision, toInputs) = try target(request, current: current, history: history, session: session)

        let source = try ResolvedRevision(workspace: workspace, entry: entry, revision: try workspace.stacks.pin(current.revision),
                              inputs: current.inputs, runID: current.id, kind: "up")
        let destination = try ResolvedRevision(workspace: workspace, entry: entry, revision: toRevision, inputs: toInputs, runID: runID, kind: "rollback")
        // The rolled-back run's completed steps, newest first: their `rollback:` commands undo them.
        let completed: [(Phase, String)] = try session.journal.steps(runID: current.id)
            .filter { $0.status == .succeeded && $0.attempt > 0 }.reversed()
            .compactMap { step in Phase(rawValue: step.phase).map { ($0, step.name) } }
        let undo = completed.compactMap { source.steps(tree: "").undo($0.0, name: $0.1) }
        let backup = try session.journal.events(runID: current.id).last { $0.kind == "backup_taken" }
        let sequence = describe(destination: destination, undo: undo, backup: backup, request: request)
        if request.dryRun {
            return Result(run: nil, from: current, toRevision: toRevision.sha, sequence: sequence, outcome: nil,
                          next: ["deployctl rollback \(entry.target) --to \(toRevision.short)"])
        }

        let me = ProcessIdentity.current
        let run = RunRecord(
            id: runID, kind: "rollback", stack: entry.stack, environment: entry.environment, target: entry.target,
            revision: toRevision.sha, revisionSubject: toRevision.commit.subject, descriptorBlob: destination.masked.descriptorBlob,
            inputs: toInputs, operatorName: workspace.operatorName, host: me.host, pid: me.pid, pidStart: me.start,
            startedAt: Date(), endedAt: nil, status: .running, message: nil, relatedRun: current.id)
        try session.journal.createRun(run)
        let sourceTree = try session.tree(for: source.revision)
        let tree = try session.tree(for: toRevision)
        let engine = RunEngine(
            journal: session.journal, run: run, steps: destination.steps(tree: tree), options: request.options,
            observer: observer, cancellation: cancellation, baseEnvironment: session.baseEnvironment(run: run, tree: tree),
            secretValues: (destination.secrets + source.secrets).compactMap(\.value), logDirectory: try session.logDirectory(runID: runID))
        let sourceUndo = completed.compactMap { source.steps(tree: sourceTree).undo($0.0, name: $0.1) }
        let outcome: RunOutcome
        do {
            outcome = try await RollbackSequence(engine: engine, session: session, run: run, from: current, request: request,
                                                 undo: sourceUndo, restore: backup == nil ? nil : source.steps(tree: sourceTree).backup("restore"),
                                                 backupPath: backup?.data["path"]).execute()
        } catch {
            try? session.journal.finishRun(runID, status: .failed, message: "deployctl itself failed during the rollback: \(error)")
            throw DeployError(.failed, "deployctl itself failed during the rollback: \(error)",
                              next: ["deployctl show \(runID)", "deployctl status \(entry.target)"])
        }
        try session.journal.finishRun(runID, status: outcome.status, message: outcome.message)
        if outcome.rolledBack {
            try session.journal.finishRun(current.id, status: .rolledBack, message: "rolled back by run \(runID) to \(toRevision.short)")
            try session.journal.event("revision_marked_bad", target: entry.target, runID: current.id,
                                      data: ["revision": current.revision, "by_run": runID, "by": workspace.operatorName])
        }
        let next: [String] = outcome.status == .succeeded
            ? ["deployctl show \(runID)", "deployctl status \(entry.target)"]
            : outcome.rolledBack
            ? ["everything was rolled back but inbound mail is still off: deployctl inbound enable \(entry.target)"]
            : outcome.needsConfirmation
            ? ["deployctl rollback \(entry.target) --yes (restores the database), or --skip-db-restore"]
            : ["read what happened: deployctl show \(runID)",
               "after fixing the cause, run it again: deployctl rollback \(entry.target) --to \(toRevision.short)",
               "or roll back further: deployctl rollback \(entry.target) --to REV (deployctl runs \(entry.target) lists them)"]
        var result = Result(run: run, from: current, toRevision: toRevision.sha, sequence: sequence, outcome: outcome, next: next)
        result.reportPath = await RunEpilogue(workspace: workspace, journal: session.journal, observer: observer)
            .finish(runID: runID, masked: destination.masked, revealed: destination.revealed,
                    secretValues: (destination.secrets + source.secrets).compactMap(\.value))
        return result
    }

    /// `--to REV|RUN`, else the revision of the last successful run before `current` that is
    /// neither the current revision nor one already marked bad.
    private func target(_ request: Request, current: RunRecord, history: [RunRecord], session: RunSession) throws -> (PinnedRevision, [String: String]) {
        let chosen: (PinnedRevision, [String: String])
        if let to = request.to {
            if let run = try session.journal.run(to) {
                guard run.target == current.target, run.kind == "up" || run.kind == "rollback" else {
                    throw DeployError(.usage, "run \(to) is a \(run.kind) run of \(run.target), not a deploy of \(current.target)",
                                      next: ["deployctl runs \(current.target)"])
                }
                chosen = (try workspace.stacks.pin(run.revision), run.inputs)
            } else {
                chosen = (try workspace.stacks.pin(to), current.inputs)
            }
        } else {
            let bad = Set(try session.journal.events(target: current.target, kind: "revision_marked_bad").compactMap { $0.data["revision"] })
            guard let good = history.first(where: {
                $0.kind == "up" && $0.status == .succeeded && $0.startedAt < current.startedAt && $0.id != current.id
                    && $0.revision != current.revision && !bad.contains($0.revision)
            }) else {
                throw DeployError(.refused, "no earlier good revision of \(current.target): no run before \(current.id) succeeded at another revision; nothing was changed",
                                  next: ["name one: deployctl rollback \(current.target) --to REV (a branch, tag or SHA) or --to RUN (a run id from deployctl runs)"])
            }
            chosen = (try workspace.stacks.pin(good.revision), good.inputs)
        }
        if chosen.0.sha == current.revision, request.to == nil {
            throw DeployError(.refused, "\(current.target) is already at \(chosen.0.short); nothing to roll back to", next: ["deployctl runs \(current.target)"])
        }
        return chosen
    }

    private func describe(destination: ResolvedRevision, undo: [RunnableCommand], backup: EventRecord?, request: Request) -> [String] {
        var lines: [String] = []
        let inbound = destination.masked.inbound
        if let inbound {
            lines.append("record: inbound re-enable owed by this rollback")
            lines.append("inbound.disable   \(ShellQuote.join(inbound.disable.argv))")
            lines.append("inbound.status    \(ShellQuote.join(inbound.status.argv))   (until it reads disabled)")
            if let drain = inbound.drain { lines.append("inbound.drain     \(ShellQuote.join(drain.argv))   (until the queue is empty)") }
        }
        for command in undo { lines.append("\(command.ref.name)   \(ShellQuote.join(command.shownArgv))") }
        for step in destination.masked.rollback { lines.append("rollback/\(step.name)   \(ShellQuote.join(step.argv))") }
        if let backup {
            lines.append(request.skipDatabaseRestore ? "database restore SKIPPED (--skip-db-restore)"
                         : "backup.restore    \(backup.data["restore"] ?? "")   (asks first; --yes answers)")
        }
        for step in destination.masked.phases[3].steps { lines.append("verify/\(step.name)   \(ShellQuote.join(step.argv))") }
        if let inbound {
            lines.append(request.keepInboundDisabled ? "inbound stays DISABLED (--keep-inbound-disabled)"
                         : "inbound.enable    \(ShellQuote.join(inbound.enable.argv)), then inbound.status until it reads enabled")
        }
        return lines
    }
}
