import Foundation
import GitKit

/// `deployctl sync [TARGET…] [--once | --interval DUR]`: deploys each target's tracked head
/// when it differs from what is deployed and touches the stack, through `up` (same lock,
/// journal and automatic rollback). Rollback-aware: a held target (see `Hold`) or a head
/// marked bad is left alone, so sync never fights the person who rolled back.
public struct SyncAction {
    public struct Request: Sendable {
        /// Nil: every target on the remote's default branch.
        public var targets: [String]?
        public var options: RunOptions
        public var supply: InputSupply
        /// Nil: one round (`--once`).
        public var intervalMs: Int?

        public init(targets: [String]?, options: RunOptions, supply: InputSupply, intervalMs: Int?) {
            self.targets = targets
            self.options = options
            self.supply = supply
            self.intervalMs = intervalMs
        }
    }

    /// What one round decided for one target.
    public struct Decision: Sendable {
        public enum Kind: String, Sendable { case upToDate = "up_to_date", noStackChange = "no_stack_change", held, headBad = "head_bad", busy, degraded, deployed, failed }
        public let target: String
        public let kind: Kind
        public let detail: String
        /// The up (and its automatic rollback) when one ran.
        public var runs: [FinishedRun] = []
        public var exitStatus: ExitStatus = .ok
    }

    /// The sync loop's lock: not a target (no slash), so it never clashes with one.
    public static let lockName = "deployctl-sync"

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Runs one round, or rounds every `intervalMs` until `cancellation` (SIGTERM finishes the
    /// current step, as in `up`). `round` hears each round's decisions as they are made.
    public func run(_ request: Request, observer: RunObserver, cancellation: Cancellation,
                    round: ([Decision]) -> Void) async throws -> ExitStatus {
        guard try Tracker(workspace: workspace, mode: .offline).remoteName() != nil else {
            throw DeployError(.usage, "sync deploys what the team pushed, and the stacks repository at \(workspace.stacks.root) has no remote",
                              next: ["git remote add origin URL, push, then: deployctl sync --once"])
        }
        let journal = try workspace.openJournal()
        try RunSession.requireWriter(journal, to: "sync")
        let lockID = "sync-" + Journal.newRunID()
        let me = ProcessIdentity.current
        switch try journal.acquireLock(LockRecord(target: Self.lockName, runID: lockID, operatorName: workspace.operatorName, host: me.host,
                                                  pid: me.pid, pidStart: me.start, since: Date(), command: "sync")) {
        case .acquired, .tookOverStale: break
        case .held(let holder):
            throw DeployError(.locked, "a sync loop already runs on this store: \(holder.operatorName) on \(holder.host), pid \(holder.pid), since \(Timestamp.human(holder.since)); one at a time",
                              next: ["deployctl status (each target's drift and hold)", "stop that loop (SIGTERM), or wait for it"])
        }
        defer { try? journal.releaseLock(target: Self.lockName, runID: lockID) }
        var worst = ExitStatus.ok
        while true {
            let decisions = try await oneRound(request, journal: journal, observer: observer, cancellation: cancellation)
            round(decisions)
            worst = Self.worst(worst, decisions.map(\.exitStatus))
            try Self.refuseLost(journal)
            if let signal = cancellation.signal { return ExitStatus.of(signal: signal) }
            guard let interval = request.intervalMs else { return worst }
            // Sleep in slices so SIGTERM between rounds ends the loop at once.
            let until = Date().addingTimeInterval(Double(interval) / 1000)
            while Date() < until {
                try Self.refuseLost(journal)
                if let signal = cancellation.signal { return ExitStatus.of(signal: signal) }
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
        }
    }

    /// A loop that lost its store lost its sync lock with it: every round after would fail,
    /// and a second loop may already run elsewhere. It ends (exit 1) for its supervisor to start
    /// again, before a signal an earlier run's handler raised for the same loss is read as one.
    private static func refuseLost(_ journal: Journal) throws {
        guard let why = journal.store.lost else { return }
        throw DeployError(.failed, "lost the state store \(journal.path) (\(why)), and this loop's sync lock with it; the loop ends here",
                          next: ["start it again once the store answers: deployctl sync --interval …  (under systemd: Restart=on-failure)"])
    }

    /// Failures outrank refusals, refusals outrank success; a signal is returned before this.
    static func worst(_ first: ExitStatus, _ others: [ExitStatus]) -> ExitStatus {
        let rank: [ExitStatus: Int] = [.ok: 0, .usage: 1, .locked: 2, .refused: 3, .failed: 4]
        return ([first] + others).max { (rank[$0] ?? 5) < (rank[$1] ?? 5) } ?? .ok
    }

    private func oneRound(_ request: Request, journal: Journal, observer: RunObserver, cancellation: Cancellation) async throws -> [Decision] {
        // One fetch per round; the ups below read what it brought (offline).
        let tracker = Tracker(workspace: workspace, mode: .fetch)
        let targets = try request.targets ?? allTargets(tracker)
        let reader = DriftReader(workspace: workspace, journal: journal)
        var decisions: [Decision] = []
        for target in targets {
            if cancellation.isRequested { break }
            decisions.append(await decide(target, request: request, tracker: tracker, reader: reader, journal: journal,
                                          observer: observer, cancellation: cancellation))
        }
        return decisions
    }

    private func allTargets(_ tracker: Tracker) throws -> [String] {
        guard let (_, _, head) = try tracker.defaultHead() else { return [] }
        return try workspace.stacks.catalog(at: try workspace.stacks.pin(head.hex)).entries.map(\.target).sorted()
    }

    private func decide(_ target: String, request: Request, tracker: Tracker, reader: DriftReader, journal: Journal,
                        observer: RunObserver, cancellation: Cancellation) async -> Decision {
        do {
            guard let tracked = try tracker.tracked(target: target) else {
                return Decision(target: target, kind: .failed, detail: "no remote", exitStatus: .usage)
            }
            let entry = try workspace.stacks.entry(for: target, at: try workspace.stacks.pin(tracked.head))
            let state = try journal.environmentState(target: entry.target)
            if let running = state.inProgress {
                return Decision(target: entry.target, kind: .busy, detail: "\(running.kind.rawValue) run \(running.run) is in progress; next round")
            }
            if let degraded = state.degraded {
                return Decision(target: entry.target, kind: .degraded, detail: "DEGRADED by run \(degraded.run): a person decides first (deployctl status \(entry.target))", exitStatus: .refused)
            }
            let drift = try reader.drift(target: entry.target, tracked: tracked, deployed: state.deployed?.revision)
            let head = String(tracked.head.prefix(10))
            if drift.upToDate { return Decision(target: entry.target, kind: .upToDate, detail: "\(head) on \(tracked.name) is deployed") }
            if drift.deployedOffBranch {
                // Rewound or force-pushed under the target: not "0 behind", and not for sync to settle.
                try TrackingGate(workspace: workspace, mode: .offline)
                    .refuseRewound(try workspace.stacks.pin(tracked.head), tracked: tracked, target: entry.target, journal: journal)
            }
            if drift.headMarkedBad {
                return Decision(target: entry.target, kind: .headBad, detail: "\(head), the head of \(tracked.name), is marked bad (rolled back from); waiting for a fix")
            }
            if let hold = drift.hold {
                return Decision(target: entry.target, kind: .held, detail: "held: \(hold.reason) (lift it: deployctl release \(entry.target))")
            }
            if drift.deployed != nil, drift.touching.isEmpty {
                return Decision(target: entry.target, kind: .noStackChange, detail: "\(drift.behind) commit(s) behind \(tracked.name), none touches the stack")
            }
            var up = UpAction.Request(target: entry.target, revision: tracked.head, supply: request.supply, options: request.options, dryRun: false)
            up.fetch = .offline
            up.followsBranch = true
            let result = try await UpAction(workspace: workspace).run(up, observer: observer, cancellation: cancellation)
            let status = result.exitStatus
            let ending = result.runs.map { "\($0.run.kind.rawValue) \($0.run.id) \($0.run.status.rawValue)" }.joined(separator: ", ")
            return Decision(target: entry.target, kind: status == .ok ? .deployed : .failed, detail: "up of \(head) from \(tracked.name): \(ending)",
                            runs: result.runs, exitStatus: status)
        } catch let error as DeployError {
            return Decision(target: target, kind: .failed, detail: error.message + (error.next.first.map { " (next: \($0))" } ?? ""), exitStatus: error.status)
        } catch {
            return Decision(target: target, kind: .failed, detail: "\(error)", exitStatus: .failed)
        }
    }
}
