import Foundation

/// `deployctl up TARGET`: pins the revision, plans, takes the environment's lock, runs the
/// phases and journals everything. The whole run reads the descriptor (and runs the steps in
/// the files) of the pinned commit, never the work tree.
public struct UpAction {
    public struct Request: Sendable {
        public var target: String
        public var revision: String
        public var supply: InputSupply
        public var options: RunOptions
        public var dryRun: Bool
        /// Roll back automatically when deploy or verify fails (`--no-rollback` turns it off).
        public var autoRollback: Bool
        /// Deploy a revision an earlier rollback marked bad.
        public var allowBadRevision: Bool
        /// When inbound mail is still owed from an earlier rollback, re-enable it first.
        public var reenableInbound: Bool = false

        public init(target: String, revision: String, supply: InputSupply, options: RunOptions, dryRun: Bool,
                    autoRollback: Bool = true, allowBadRevision: Bool = false) {
            self.target = target
            self.revision = revision
            self.supply = supply
            self.options = options
            self.dryRun = dryRun
            self.autoRollback = autoRollback
            self.allowBadRevision = allowBadRevision
        }
    }

    public struct Result: Sendable {
        public let plan: Plan
        public let run: RunRecord?
        public let outcome: RunOutcome?
        public var next: [String]
        /// The automatic rollback that followed a failed deploy or verify, if any.
        public var rollback: RollbackAction.Result? = nil
        /// The run's HTML report (Markdown, JSON and JUnit lie beside it).
        public var reportPath: String? = nil
        public var exitStatus: ExitStatus {
            guard let outcome else { return .ok }
            switch outcome.status {
            case .succeeded: return .ok
            case .cancelled: return outcome.failedStep == nil ? .interrupted : .refused
            default: return outcome.needsConfirmation ? .refused : .failed
            }
        }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(_ request: Request, observer: RunObserver, cancellation: Cancellation) async throws -> Result {
        let prepared = try PreparedRun(workspace: workspace, target: request.target, revision: request.revision,
                                       supply: request.supply, kind: "up")
        let (pinned, entry, descriptor, secrets, runID) = (prepared.pinned, prepared.entry, prepared.descriptor, prepared.secrets, prepared.runID)
        let (masked, revealed) = (prepared.masked, prepared.revealed)
        if request.dryRun { return Result(plan: masked, run: nil, outcome: nil, next: ["deployctl up \(entry.target) --rev \(pinned.short)"]) }

        let session = try RunSession(workspace: workspace)
        if request.reenableInbound, try session.journal.inboundOwed(target: entry.target) != nil {
            observer.note("inbound mail processing for \(entry.target) is owed: re-enabling it first (--reenable-inbound)")
            let (_, confirmed) = try await InboundAction(workspace: workspace).set(enabled: true, target: entry.target, observer: observer, cancellation: cancellation)
            if !confirmed {
                throw DeployError(.refused, "inbound mail processing for \(entry.target) could not be confirmed enabled; nothing was deployed",
                                  next: ["deployctl inbound status \(entry.target)"])
            }
        }
        if let owed = try session.journal.inboundOwed(target: entry.target) {
            throw DeployError(.refused, "inbound mail processing for \(entry.target) is still disabled, owed by run \(owed.runID) since \(RunSession.time(owed.since)); deploying now would leave it off; nothing was run",
                              next: ["re-enable it first: deployctl inbound enable \(entry.target)", "then: deployctl up \(entry.target)",
                                     "or both at once: deployctl up \(entry.target) --reenable-inbound"])
        }
        if !request.allowBadRevision,
           let bad = try session.journal.events(target: entry.target, kind: "revision_marked_bad").last(where: { $0.data["revision"] == pinned.sha }) {
            throw DeployError(.refused, "\(pinned.short) is marked bad for \(entry.target): run \(bad.runID ?? "?") was rolled back from it (\(TimeText.describe(bad.at))); nothing was run",
                              next: ["deploy a fixed revision, or if you are sure: deployctl up \(entry.target) --rev \(pinned.short) --allow-bad-revision"])
        }
        for run in try session.sweepInterrupted(target: entry.target) {
            observer.note("run \(run.id) of \(run.target) was interrupted (its process is gone); it is kept as such: deployctl show \(run.id)")
        }
        try session.lock(target: entry.target, runID: runID, observer: observer)
        let run = prepared.record(kind: "up", workspace: workspace)
        defer { try? session.journal.releaseLock(target: entry.target, runID: runID) }
        try session.journal.createRun(run)
        let outcome = try await Self.execute(session: session, run: run, descriptor: descriptor, masked: masked, revealed: revealed,
                                             pinned: pinned, secrets: secrets, options: request.options, observer: observer,
                                             cancellation: cancellation)
        var result = Result(plan: masked, run: run, outcome: outcome, next: Self.next(after: outcome, run: run))
        let phase = outcome.failedStep?.phase
        let deployFailed = outcome.status == .failed && (phase == Phase.deploy.rawValue || phase == Phase.verify.rawValue)
        if deployFailed, !descriptor.autoRollback {
            observer.note("\(outcome.message): not rolling back automatically (the descriptor says auto_rollback: false)")
        } else if deployFailed, request.autoRollback {
            observer.note("\(outcome.message): rolling back automatically (--no-rollback turns this off)")
            var rollback = RollbackAction.Request(target: entry.target, options: request.options)
            rollback.takeOverFrom = runID
            do {
                result.rollback = try await RollbackAction(workspace: workspace).run(rollback, observer: observer, cancellation: cancellation)
                result.next = result.rollback?.next ?? result.next
            } catch let error as DeployError {
                observer.note("no automatic rollback: \(error.message)")
                result.next += error.next
            }
        }
        result.reportPath = await RunEpilogue(workspace: workspace, journal: session.journal, observer: observer)
            .finish(runID: runID, masked: masked, revealed: revealed, secretValues: secrets.compactMap(\.value))
        return result
    }

    /// Runs the engine and writes the run's final status, whatever happens in between.
    static func execute(session: RunSession, run: RunRecord, descriptor: StackDescriptor, masked: Plan, revealed: Plan,
                        pinned: PinnedRevision, secrets: [ResolvedSecret], options: RunOptions, observer: RunObserver,
                        cancellation: Cancellation, done: Set<StepRef> = [], attempts: [StepRef: Int] = [:]) async throws -> RunOutcome {
        let outcome: RunOutcome
        do {
            let tree = try session.tree(for: pinned)
            let engine = RunEngine(
                journal: session.journal, run: run, steps: RunnableSteps(descriptor: descriptor, masked: masked, revealed: revealed, tree: tree),
                options: options, observer: observer, cancellation: cancellation,
                baseEnvironment: session.baseEnvironment(run: run, tree: tree),
                secretValues: secrets.compactMap(\.value), logDirectory: try session.logDirectory(runID: run.id),
                done: done, attempts: attempts)
            outcome = try await engine.execute()
        } catch {
            let message = "deployctl itself failed during the run: \(error)"
            try? session.journal.finishRun(run.id, status: .failed, message: message)
            throw DeployError(.failed, message, next: ["deployctl show \(run.id)", "deployctl resume \(run.id)"])
        }
        try session.journal.finishRun(run.id, status: outcome.status, message: outcome.message)
        return outcome
    }

    /// The exact next commands for the person at the terminal.
    static func next(after outcome: RunOutcome, run: RunRecord) -> [String] {
        switch outcome.status {
        case .succeeded:
            return ["deployctl show \(run.id)"]
        case .cancelled where outcome.failedStep == nil:
            return ["see what ran: deployctl show \(run.id)", "continue it: deployctl resume \(run.id)"]
        default:
            var next: [String] = []
            if let step = outcome.failedStep { next.append("read the output: deployctl logs \(run.id) \(step.name)") }
            if outcome.needsConfirmation {
                next.append("answer the gate: deployctl resume \(run.id) --yes (or run it from a terminal)")
            } else {
                next.append("after fixing the cause: deployctl resume \(run.id)")
                if outcome.failedStep?.phase == Phase.deploy.rawValue || outcome.failedStep?.phase == Phase.verify.rawValue {
                    next.append("or go back to what ran before: deployctl up \(run.target) --rev <last good revision> (deployctl runs \(run.target) lists them)")
                }
            }
            return next
        }
    }
}
