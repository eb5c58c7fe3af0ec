import Foundation

/// `deployctl status [TARGET]`: what the journal can honestly say of each environment: what is
/// deployed (or that it is degraded, and what ran), the last run, the last `check`, the lock,
/// interrupted runs and inbound mail owed. Every run whose process is gone is marked
/// interrupted first, so what it shows is true.
public struct StatusAction {
    public struct Status: Encodable, Sendable {
        public struct LastRun: Codable, Sendable {
            public let id: String
            public let kind: RunKind
            public let status: RunStatus
            public let revision: String
            public let startedAt: Date
            public let endedAt: Date?
        }
        public struct LastCheck: Codable, Sendable {
            public let run: String
            public let revision: String
            public let status: RunStatus
            public let at: Date
            /// False when it checked an earlier deploy than the one live now: it confirms nothing of this one.
            public let current: Bool
        }
        public struct Lock: Codable, Sendable {
            public let runId, `operator`, host: String
            public let pid: Int32
            public let since: Date
            /// What the holder runs (`up`, `rollback`, …).
            public let command: String?
            /// A shared store's last word from the holder.
            public let heartbeat: Date?
            public let stale: Bool
        }
        public struct Interrupted: Codable, Sendable {
            public let id, revision, `operator`: String
            public let startedAt: Date
            public let kind: RunKind
            /// What to run about it: `resume` for an up, the rollback again for a rollback.
            public let next: String
        }
        public let target: String
        public let stack: String
        public let environment: String
        /// `none`, `deployed` or `degraded` (then `deployed_revision` is null and `degraded` says what ran).
        public let state: EnvironmentState.Condition
        public let deployedRevision: String?
        public let deployedRun: String?
        public let degraded: EnvironmentState.Degraded?
        /// The newest run that ended verified: where `rollback` goes back to.
        public let lastGood: EnvironmentState.Live?
        public let inProgress: EnvironmentState.Live?
        public let lastRun: LastRun?
        /// The newest `deployctl check` of this target: is it still what the journal says?
        public let lastCheck: LastCheck?
        public let lock: Lock?
        public let interruptedRuns: [Interrupted]
        /// `disabled` while deployctl owes a re-enable, else `enabled` as far as deployctl knows
        /// (`deployctl inbound status` asks the real system).
        public let inbound: String
        public let inboundOwedBy: String?
        public let inboundOwedSince: Date?
        /// The deployed run's review (when it is an up whose descriptor asks for one): accepted, or what is pending.
        public let review: RunReview?
        /// The exact commands that get this environment back to good, when it is not.
        public let next: [String]
        /// For steps that run on hosts: which revision each host runs.
        public var hosts: [HostRevision] = []
        /// Against the branch it tracks (null when the stacks repository has no remote).
        public var tracking: Drift? = nil
        /// Why `tracking` could not be worked out, when it could not.
        public var trackingProblem: String? = nil

        enum CodingKeys: String, CodingKey {
            case target, stack, environment, state, deployedRevision, deployedRun, degraded, lastGood, inProgress, lastRun, lastCheck
            case lock, interruptedRuns, inbound, inboundOwedBy, inboundOwedSince, review, next, hosts, tracking, trackingProblem
        }

        /// Absent values are written as null: `"lock": null` says "free", it is not missing.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(target, forKey: .target)
            try c.encode(stack, forKey: .stack)
            try c.encode(environment, forKey: .environment)
            try c.encode(state, forKey: .state)
            try c.encode(deployedRevision, forKey: .deployedRevision)
            try c.encode(deployedRun, forKey: .deployedRun)
            try c.encode(degraded, forKey: .degraded)
            try c.encode(lastGood, forKey: .lastGood)
            try c.encode(inProgress, forKey: .inProgress)
            try c.encode(lastRun, forKey: .lastRun)
            try c.encode(lastCheck, forKey: .lastCheck)
            try c.encode(lock, forKey: .lock)
            try c.encode(interruptedRuns, forKey: .interruptedRuns)
            try c.encode(inbound, forKey: .inbound)
            try c.encode(inboundOwedBy, forKey: .inboundOwedBy)
            try c.encode(inboundOwedSince, forKey: .inboundOwedSince)
            try c.encode(review, forKey: .review)
            try c.encode(next, forKey: .next)
            try c.encode(hosts, forKey: .hosts)
            try c.encode(tracking, forKey: .tracking)
            try c.encode(trackingProblem, forKey: .trackingProblem)
        }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// One target, or every target the journal knows (and every stack at HEAD) when nil; each
    /// against its tracked branch as last fetched (`fetch`: fetch first).
    public func status(target: String?, fetch: FetchMode = .offline) throws -> [Status] {
        let statuses = try journalStatus(target: target)
        let tracker = Tracker(workspace: workspace, mode: fetch)
        guard try tracker.remoteName() != nil else { return statuses }
        let reader = DriftReader(workspace: workspace, journal: try? workspace.openJournal())
        return statuses.map { status in
            var status = status
            do {
                if let tracked = try tracker.tracked(target: status.target) {
                    status.tracking = try reader.drift(target: status.target, tracked: tracked, deployed: status.deployedRevision)
                }
            } catch let error as DeployError {
                status.trackingProblem = error.message
            } catch {
                status.trackingProblem = "\(error)"
            }
            return status
        }
    }

    private func journalStatus(target: String?) throws -> [Status] {
        let session = try RunSession(workspace: workspace)
        try session.sweepInterrupted(target: nil)
        let journal = session.journal
        if let target {
            return [try status(of: try workspace.shownEntry(for: target, at: workspace.stacks.pin("HEAD")).target, journal: journal)]
        }
        // What the journal knows is read per target; a stack it has never heard of is "never
        // deployed" without asking it six questions (the cost follows the journal, not the repository).
        var recorded = Set(try journal.targets())
        recorded.formUnion(try journal.locks().map(\.target).filter { $0.contains("/") })  // not the sync loop's
        recorded.formUnion(try journal.inboundOwed().map(\.target))
        var all = recorded
        if let pinned = try? workspace.stacks.pin("HEAD"), let catalog = try? workspace.shownCatalog(at: pinned) {
            all.formUnion(catalog.entries.map(\.target))
        }
        return try all.sorted().map { recorded.contains($0) ? try status(of: $0, journal: journal) : Self.neverDeployed($0) }
    }

    /// What `status(of:)` says of a target with no runs, lock or owed re-enable.
    static func neverDeployed(_ target: String) -> Status {
        let parts = target.split(separator: "/", maxSplits: 1).map(String.init)
        return Status(
            target: target, stack: parts.first ?? target, environment: parts.count > 1 ? parts[1] : target,
            state: .none, deployedRevision: nil, deployedRun: nil, degraded: nil, lastGood: nil, inProgress: nil,
            lastRun: nil, lastCheck: nil, lock: nil, interruptedRuns: [], inbound: "enabled", inboundOwedBy: nil,
            inboundOwedSince: nil, review: nil, next: [])
    }

    private func status(of target: String, journal: Journal) throws -> Status {
        let parts = target.split(separator: "/", maxSplits: 1).map(String.init)
        // Reads grow with the runs since the last good one, not with the whole history.
        let (runs, state) = try journal.recentHistory(target: target)
        let lock = try journal.lock(target: target)
        let owed = try journal.inboundOwed(target: target)
        let lockAlive = try lock.map { try journal.isAlive($0) } ?? false
        let check = try journal.runs(RunQuery(target: target, kinds: [.check], limit: 8)).first { $0.status != .running }
        let interrupted = try journal.runs(RunQuery(target: target, status: .interrupted, limit: 20))
        // The deployed up's review, read against the descriptor at its revision; none to show
        // when that descriptor asks for nothing (or cannot be read here).
        var deployedUp: RunRecord? = nil
        if let live = state.deployed, live.kind == .up { deployedUp = try runs.first { $0.id == live.run } ?? journal.run(live.run) }
        let review = try deployedUp.flatMap { try ReviewAction.review(of: $0, workspace: workspace, journal: journal) }
        var status = Status(
            target: target, stack: parts.first ?? target, environment: parts.count > 1 ? parts[1] : target,
            state: state.condition, deployedRevision: state.deployed?.revision, deployedRun: state.deployed?.run,
            degraded: state.degraded, lastGood: state.lastGood, inProgress: state.inProgress,
            lastRun: runs.first.map { Status.LastRun(id: $0.id, kind: $0.kind, status: $0.status, revision: $0.revision,
                                                     startedAt: $0.startedAt, endedAt: $0.endedAt) },
            lastCheck: check.map { Status.LastCheck(run: $0.id, revision: $0.revision, status: $0.status, at: $0.endedAt ?? $0.startedAt,
                                                    current: $0.relatedRun != nil && $0.relatedRun == (state.deployed?.run ?? state.degraded?.run)) },
            lock: lock.map { Status.Lock(runId: $0.runID, operator: $0.operatorName, host: $0.host, pid: $0.pid, since: $0.since,
                                         command: $0.command.isEmpty ? nil : $0.command, heartbeat: $0.heartbeat, stale: !lockAlive) },
            interruptedRuns: interrupted.map { run in
                Status.Interrupted(id: run.id, revision: run.revision, operator: run.operatorName, startedAt: run.startedAt, kind: run.kind,
                                   next: run.kind == .up ? "deployctl resume \(run.id)"
                                       : run.kind == .rollback ? "deployctl rollback \(run.target) --to \(run.revision.prefix(10))"
                                       : "deployctl show \(run.id)")
            },
            inbound: owed == nil ? "enabled" : "disabled", inboundOwedBy: owed?.runID, inboundOwedSince: owed?.since,
            review: review,
            next: Self.next(state, target: target, owed: owed, back: try Self.rollbackTarget(target, runs: runs, state: state, journal: journal)))
        status.hosts = try HostRevisions.derive(runs: runs, hostSteps: { try journal.hostSteps(runID: $0) },
                                                releaseHosts: { ReleaseLayout.plannedHosts(try journal.events(runID: $0)) })
        return status
    }

    /// Where `deployctl rollback TARGET` would go back to now, if anywhere.
    static func rollbackTarget(_ target: String, runs: [RunRecord], state: EnvironmentState, journal: Journal) throws -> RunRecord? {
        let bad = try journal.badRevisions(target: target)
        return try? RollbackChoice.make(history: runs, state: state, bad: bad).get().target
    }

    /// What gets a degraded environment (or owed inbound mail) back to good; `back` is where
    /// `rollback` would go.
    static func next(_ state: EnvironmentState, target: String, owed: InboundOwed?, back: RunRecord?) -> [String] {
        var next: [String] = []
        if owed != nil { next.append("deployctl inbound enable \(target)") }
        guard let degraded = state.degraded else { return next }
        switch degraded.kind {
        case .rollback:
            next.append("after fixing what stopped it: deployctl rollback \(target) --to \(degraded.revision.prefix(10))")
            next.append("what it did: deployctl show \(degraded.run)")
        default:
            if let back { next.append("back to \(back.revision.prefix(10)): deployctl rollback \(target)") }
            next.append("or, after fixing the cause: deployctl resume \(degraded.run)")
        }
        return next
    }
}
