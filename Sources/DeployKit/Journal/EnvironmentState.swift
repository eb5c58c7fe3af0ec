import Foundation

/// What the journal can honestly say is live in one environment. Derived from the runs every
/// time (never stored), so it cannot drift from them: a run that failed after it changed
/// something, or a rollback that stopped part-way, makes the environment *degraded*, and
/// then no revision is called "deployed".
public struct EnvironmentState: Sendable, Codable, Hashable {
    public enum Condition: String, Sendable, Codable {
        /// Nothing was ever deployed.
        case none
        /// The newest run that changed anything ended well: `deployed` is live.
        case deployed
        /// The newest run that changed anything did not finish: see `degraded`.
        case degraded
    }

    /// What the database is known to hold after the run that left things degraded.
    public enum Database: String, Sendable, Codable {
        /// No migration ran (or the run has no migrate phase).
        case unchanged
        /// Migrations ran and were not undone.
        case migrated
        case restored
        case restoreFailed = "restore_failed"
        /// A rollback decided to keep it as the migrations left it.
        case kept
    }

    public struct Live: Sendable, Codable, Hashable {
        public var run: String
        public var kind: RunKind
        public var revision: String
        public var at: Date?
    }

    public struct Degraded: Sendable, Codable, Hashable {
        public var run: String
        public var kind: RunKind
        public var status: RunStatus
        /// The revision whose steps last ran (for a rollback: the one it was going back to).
        public var revision: String
        /// For a rollback: the run it was undoing, and that run's revision.
        public var rollbackOf: String?
        public var rollbackOfRevision: String?
        public var reason: String
        /// `phase/step` of every step that ran and may have changed something, in order.
        public var changed: [String]
        /// The rollback steps that ran (undo, stack rollback, restore), in order.
        public var undone: [String]
        public var database: Database
    }

    public var condition: Condition
    /// Set only when `condition` is `deployed`.
    public var deployed: Live?
    public var degraded: Degraded?
    /// The newest run that ended with everything verified: where a rollback goes back to.
    public var lastGood: Live?
    /// A deploy or rollback still running (its process alive); the state above is from before it.
    public var inProgress: Live?

    /// `runs` newest first (any kind); `run` finds one by id; `steps` and `events` read one run's records.
    public static func derive(runs: [RunRecord], run lookup: (String) throws -> RunRecord?, steps: (String) throws -> [StepRecord],
                              events: (String) throws -> [EventRecord]) rethrows -> EnvironmentState {
        var state = EnvironmentState(condition: .none)
        for run in runs where run.kind.deploys {
            let live = Live(run: run.id, kind: run.kind, revision: run.revision, at: run.endedAt)
            if state.lastGood == nil, run.status == .succeeded { state.lastGood = live }
            // Once the condition is known, older runs only matter until the last good one is found.
            if state.condition != .none {
                if state.lastGood != nil { break }
                continue
            }
            switch run.status {
            case .running:
                if state.inProgress == nil { state.inProgress = live }
            case .succeeded:
                state.condition = .deployed
                state.deployed = live
            case .rolledBack:
                // Undone by a rollback that finished, which is newer and was seen first.
                continue
            case .failed, .cancelled, .interrupted:
                if run.kind == .rollback, let related = run.relatedRun, try lookup(related)?.status == .rolledBack {
                    // Everything was rolled back; only re-enabling inbound mail failed (owed, and shown apart).
                    state.condition = .deployed
                    state.deployed = live
                    continue
                }
                let ran = try steps(run.id)
                let happened = try events(run.id)
                if var degraded = degradation(run, steps: ran, events: happened) {
                    degraded.rollbackOfRevision = try degraded.rollbackOf.flatMap { id in try lookup(id)?.revision }
                    state.condition = .degraded
                    state.degraded = degraded
                }
            }
        }
        return state
    }

    /// How a run that did not finish left things, or nil when it changed nothing.
    static func degradation(_ run: RunRecord, steps: [StepRecord], events: [EventRecord]) -> Degraded? {
        let ran = steps.filter { $0.attempt > 0 }
        let kinds = Set(events.map(\.kind))
        var database = Database.unchanged
        if kinds.contains(.backupRestoreFailed) { database = .restoreFailed }
        else if kinds.contains(.backupRestored) { database = .restored }
        else if run.kind == .rollback, kinds.contains(.databaseRestoreSkipped) { database = .kept }
        switch run.kind {
        case .up:
            let migrations = ran.filter { $0.phase == Phase.migrate.rawValue && !$0.name.hasPrefix("backup.") }
            let later = ran.filter { [Phase.deploy, .verify, .postdeploy].map(\.rawValue).contains($0.phase) }
            if !migrations.isEmpty, database == .unchanged { database = .migrated }
            // Nothing past preflight, or migrations whose backup was restored: nothing changed.
            if later.isEmpty, migrations.isEmpty || database == .restored { return nil }
            return Degraded(run: run.id, kind: run.kind, status: run.status, revision: run.revision, rollbackOf: nil,
                            rollbackOfRevision: nil, reason: run.message ?? run.status.rawValue,
                            changed: unique((migrations + later).filter { $0.phase != Phase.verify.rawValue }.map(ref)),
                            undone: [], database: database)
        case .rollback:
            let undone = ran.filter { $0.phase == StepRef.Section.rollback || $0.phase == Phase.verify.rawValue }
            // Only the inbound switch was touched (or nothing): the run it meant to undo still stands.
            if undone.isEmpty { return nil }
            return Degraded(run: run.id, kind: run.kind, status: run.status, revision: run.revision, rollbackOf: run.relatedRun,
                            rollbackOfRevision: nil, reason: run.message ?? run.status.rawValue,
                            changed: [], undone: unique(undone.filter { $0.phase == StepRef.Section.rollback }.map(ref)), database: database)
        default:
            return nil
        }
    }

    private static func ref(_ step: StepRecord) -> String { "\(step.phase)/\(step.name)" }

    private static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
