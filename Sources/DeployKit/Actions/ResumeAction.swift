import Foundation

/// `deployctl resume RUN`: continues a run that failed, was cancelled or was interrupted, from
/// the first step that did not succeed, at the same pinned revision with the same inputs, and
/// by the same rules as `up`: it refuses while inbound mail is owed, and a failed deploy or
/// verify rolls back by itself.
public struct ResumeAction {
    public struct Request: Sendable {
        public var runID: String
        public var options: RunOptions
        /// Re-run steps a crash or a signal stopped part-way even when not `idempotent`.
        public var rerunInterrupted: Bool
        public var autoRollback: Bool
        public var restore: RestorePolicy?

        public init(runID: String, options: RunOptions, rerunInterrupted: Bool = false, autoRollback: Bool = true, restore: RestorePolicy? = nil) {
            self.runID = runID
            self.options = options
            self.rerunInterrupted = rerunInterrupted
            self.autoRollback = autoRollback
            self.restore = restore
        }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(_ request: Request, observer: RunObserver, cancellation: Cancellation) async throws -> UpAction.Result {
        let session = try RunSession(workspace: workspace)
        var run = try session.run(request.runID)
        let runID = run.id
        try session.sweepInterrupted(target: run.target)
        guard run.kind == .up else {
            let again = run.kind == .rollback ? "deployctl rollback \(run.target) --to \(run.revision.prefix(10))" : "deployctl \(run.kind.rawValue.replacingOccurrences(of: "-", with: " ")) \(run.target)"
            throw DeployError(.refused, "run \(runID) is a \(run.kind.rawValue) run; only up runs resume step by step", next: ["run it again: \(again)"])
        }
        // Before the inbound check, whose next step would be this resume: a rollback of this run
        // that undid any of it (stopped, failed, killed) leaves steps journaled as done that are gone.
        let rollbacks = try session.journal.runs(RunQuery(target: run.target, kinds: [.rollback], limit: 1_000))
        if let undoing = try rollbacks.first(where: { rollback in
            try rollback.relatedRun == runID && EnvironmentState.degradation(
                rollback, steps: session.journal.steps(runID: rollback.id), events: session.journal.events(runID: rollback.id)) != nil
        }) {
            throw DeployError(.refused, "run \(runID) was partly undone by rollback \(undoing.id) (\(undoing.status.rawValue)): resuming it would build on steps that are gone; nothing was run",
                              next: ["finish going back: deployctl rollback \(run.target)", "or deploy again from the start: deployctl up \(run.target)"])
        }
        try session.refuseWhileInboundOwed(target: run.target, command: "deployctl resume \(runID)", allowReenable: false)
        let pinned = try workspace.stacks.pin(run.revision)
        let entry = StackCatalog.Entry(stack: run.stack, environment: run.environment)
        let resolved = try ResolvedRevision(workspace: workspace, entry: entry, revision: pinned, inputs: run.inputs, runID: runID, kind: "resume")

        // The lock first, then the record: a second resume racing this one must find the
        // steps this one has finished, not the state before it started.
        try session.lock(target: run.target, runID: runID, command: .up, observer: observer, cancellation: cancellation)
        defer { try? session.journal.releaseLock(target: run.target, runID: runID) }
        run = try session.journal.run(runID) ?? run
        switch run.status {
        case .running:
            throw DeployError(.locked, "run \(runID) is still running (pid \(run.pid) on \(run.host))",
                              next: ["watch it: deployctl logs \(runID) --follow"])
        case .succeeded, .rolledBack:
            throw DeployError(.refused, "run \(runID) \(run.status == .succeeded ? "succeeded" : "was rolled back"); there is nothing to resume",
                              next: ["start a new run: deployctl up \(run.target)"])
        case .failed, .cancelled, .interrupted:
            break
        }
        // Under the lock: a deploy or rollback of the target that started after this run has
        // changed what runs since; finishing this one would lay an older revision over it (its
        // own rollbacks were judged above). Nor does a revision marked bad since it started.
        if let newer = try session.journal.runs(target: run.target, limit: 10_000).first(where: {
            $0.kind.deploys && $0.id != runID && $0.startedAt > run.startedAt && !($0.kind == .rollback && $0.relatedRun == runID)
        }) {
            throw DeployError(.refused, "\(newer.kind.rawValue) run \(newer.id) of \(run.target) started after run \(runID) (\(newer.status.rawValue), at \(newer.revision.prefix(10))): resuming \(runID) would lay \(run.revision.prefix(10)) over it; nothing was run",
                              next: ["deploy it anew: deployctl up \(run.target) --rev \(run.revision.prefix(10))", "see what runs: deployctl status \(run.target)"])
        }
        try RevisionAdmission.refuseBad(pinned, target: run.target, journal: session.journal, allow: false,
                                        retry: "deployctl up \(run.target) --rev \(pinned.short)", since: run.startedAt)

        // What the journal says of each step: its last attempt decides.
        var last: [StepRef: StepRecord] = [:]
        var attempts: [StepRef: Int] = [:]
        for step in try session.journal.steps(runID: runID) {
            let ref = StepRef(phase: step.phase, name: step.name)
            last[ref] = step
            attempts[ref] = max(attempts[ref] ?? 0, step.attempt)
        }
        let done = Set(last.filter { $0.value.status == .succeeded || $0.value.status == .skipped }.keys)
        let runnable = resolved.steps(tree: "")
        let allCommands = Phase.allCases.flatMap { runnable.phase($0) } + [.take, .verify, .check].compactMap { runnable.backup($0) }
        for (ref, step) in last where [.interrupted, .started].contains(step.status) {
            if let group = step.pid, ProcessIdentity.groupAlive(group) {
                throw DeployError(.refused, "\(ref) of run \(runID) is still running outside deployctl (process group \(group)); nothing was run",
                                  next: ["wait for it to end, or stop it: kill -TERM -\(group)", "then: deployctl resume \(runID)"])
            }
        }
        for (ref, step) in last where [.interrupted, .started, .cancelled, .timedOut].contains(step.status) {
            let idempotent = allCommands.first { $0.ref == ref }?.idempotent ?? false
            if idempotent || request.rerunInterrupted { continue }
            let question = "\(ref) was stopped part-way (\(step.status.rawValue)) and is not marked idempotent. Run it again?"
            switch observer.confirm(question, step: ref) {
            case true?: continue
            case false?:
                throw DeployError(.refused, "not resuming \(runID): \(ref) was not confirmed; nothing was run",
                                  next: ["check by hand what \(ref) did, then: deployctl resume \(runID) --rerun-interrupted"])
            case nil:
                throw DeployError(.refused, "\(ref) was stopped part-way (\(step.status.rawValue)) and is not idempotent, and there is no terminal to ask; nothing was run",
                                  next: ["check by hand what \(ref) did, then: deployctl resume \(runID) --rerun-interrupted"])
            }
        }

        try session.journal.reopenRun(runID)
        try session.journal.event(.resumed, target: run.target, runID: runID,
                                  data: ["by": .string(workspace.operatorName), "from_status": .string(run.status.rawValue), "done_steps": .int(done.count)])
        run.status = .running
        observer.runStarted(run)
        let outcome = try await UpAction.execute(session: session, run: run, resolved: resolved, options: request.options,
                                                 observer: observer, cancellation: cancellation, done: done, attempts: attempts)
        let resumed = FinishedRun(run: run, outcome: outcome, next: UpAction.next(after: outcome, run: run))
        let rollback = AutomaticRollback(workspace: workspace, enabled: request.autoRollback, restore: request.restore, options: request.options)
        var runs = await rollback.follow(resumed, descriptor: resolved.descriptor, observer: observer, cancellation: cancellation)
        runs[0] = try await UpAction.epilogue(runs[0], session: session, resolved: resolved, observer: observer)
        return UpAction.Result(plan: resolved.masked, runs: runs, next: [])
    }
}
