import Foundation
import Probes

/// The record of every run, step attempt and event, over one `JournalStore`: what the runs
/// and commands ask of it, and what is derived from it (the environment's state, a run by a
/// prefix of its id). Which store — this machine's SQLite or the team's PostgreSQL — is
/// `StoreLocation`'s decision.
public final class Journal: Sendable {
    public let store: any JournalStore
    private let commits: GroupCommit

    public init(store: any JournalStore) {
        self.store = store
        commits = GroupCommit { [store] in try store.commit($0) }
    }

    /// The embedded store in `directory` (the default `.deployctl/`).
    public convenience init(directory: String) throws {
        self.init(store: try SQLiteStore(directory: directory))
    }

    /// Where the records are, with no password: for messages.
    public var path: String { store.location }

    /// See `JournalStore.close`: last, as the command ends.
    public func close() { store.close() }

    // MARK: - Runs

    public func createRun(_ run: RunRecord) throws { try store.createRun(run) }

    public func finishRun(_ id: String, status: RunStatus, message: String?) throws {
        try store.finishRun(id, status: status, message: message)
    }

    /// A resumed run belongs to this process now.
    public func reopenRun(_ id: String) throws {
        let me = ProcessIdentity.current
        try store.reopenRun(id, host: me.host, pid: me.pid, pidStart: me.start)
    }

    public func run(_ id: String) throws -> RunRecord? { try store.run(id) }

    /// Newest first.
    public func runs(target: String? = nil, limit: Int = 50) throws -> [RunRecord] {
        try store.runs(RunQuery(target: target, limit: limit))
    }

    public func runs(_ query: RunQuery) throws -> [RunRecord] { try store.runs(query) }

    public func runs(status: RunStatus) throws -> [RunRecord] { try store.runs(RunQuery(status: status, limit: Int(Int32.max))) }

    public func targets() throws -> [String] { try store.targets() }

    /// What is live in `target`, as the runs say (see `EnvironmentState`).
    public func environmentState(target: String) throws -> EnvironmentState {
        try recentHistory(target: target).state
    }

    /// The newest runs of `target`, as many as its state needs (back to its last good run), and
    /// that state: reading grows with the runs since the last good one, not with all history.
    public func recentHistory(target: String) throws -> (runs: [RunRecord], state: EnvironmentState) {
        var limit = 64
        while true {
            let runs = try self.runs(target: target, limit: limit)
            let state = try environmentState(runs: runs)
            if runs.count < limit || (state.condition != .none && state.lastGood != nil) { return (runs, state) }
            limit *= 8
        }
    }

    /// The same from one target's runs already read (newest first); a run they name that is
    /// older than them is read from the store.
    public func environmentState(runs: [RunRecord]) throws -> EnvironmentState {
        try EnvironmentState.derive(runs: runs, run: { id in try runs.first { $0.id == id } ?? run(id) },
                                    steps: { try steps(runID: $0) }, events: { try events(runID: $0) })
    }

    // MARK: - Reviews

    public func addReview(_ review: ReviewRecord) throws -> ReviewRecord { try store.addReview(review) }

    public func reviews(runID: String) throws -> [ReviewRecord] { try store.reviews(runID: runID) }

    /// Run ids are `YYYYMMDD-HHMMSS-xxxx` (UTC): sortable, and short enough to type.
    public static func newRunID(at date: Date = Date()) -> String {
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return Timestamp.compact(date) + "-" + String(repeating: "0", count: 4 - suffix.count) + suffix
    }

    /// The run a person means: its full id, or a prefix only one run id starts with.
    public func resolveRun(_ idOrPrefix: String) throws -> RunRecord {
        if let exact = try run(idOrPrefix) { return exact }
        let matches = idOrPrefix.isEmpty ? [] : try store.runs(idPrefix: idOrPrefix, limit: 6)
        switch matches.count {
        case 1: return matches[0]
        case 0: throw JournalError.noSuchRun(idOrPrefix, journal: path)
        default: throw JournalError.ambiguousRun(idOrPrefix, candidates: matches.prefix(5).map(\.id))
        }
    }

    // MARK: - Steps

    /// Committed (durably) before the step's process starts, with the starts and ends of the
    /// steps beside it (`GroupCommit`). Returns the attempt's id.
    public func stepStarted(runID: String, phase: String, name: String, attempt: Int, argv: [String], logPath: String?) async throws -> Int64 {
        guard let id = try await commits.commit(.started(runID: runID, phase: phase, name: name, attempt: attempt, argv: argv, logPath: logPath)) else {
            throw JournalError.missingStepResult
        }
        return id
    }

    public func stepSpawned(_ id: Int64, pid: Int32, start: UInt64) throws { try store.stepSpawned(id, pid: pid, start: start) }

    /// Committed (durably) before the caller goes on.
    public func stepFinished(_ id: Int64, _ outcome: StepOutcome) async throws { _ = try await commits.commit(.finished(id: id, outcome)) }

    public func stepSkipped(runID: String, phase: String, name: String, argv: [String], reason: String) throws {
        try store.stepSkipped(runID: runID, phase: phase, name: name, argv: argv, reason: reason)
    }

    public func steps(runID: String) throws -> [StepRecord] { try store.steps(runID: runID) }

    public func hostSteps(runID: String) throws -> [StepRecord] { try store.hostSteps(runID: runID) }

    public func log(stepID: Int64) throws -> StoredLog? { try store.log(stepID: stepID) }

    public func markInterrupted(runID: String) throws { try store.markInterrupted(runID: runID) }

    // MARK: - Events

    public func event(_ kind: EventKind, target: String, runID: String?, data: EventData = [:]) throws {
        try store.event(kind, target: target, runID: runID, data: data)
    }

    public func events(runID: String) throws -> [EventRecord] { try store.events(runID: runID) }

    public func events(target: String, kind: EventKind? = nil) throws -> [EventRecord] { try store.events(target: target, kind: kind) }

    /// The revisions a rollback went back from (`revision_marked_bad`): never deployed again unasked.
    public func badRevisions(target: String) throws -> Set<String> {
        Set(try events(target: target, kind: .revisionMarkedBad).compactMap { $0.data["revision"]?.string })
    }

    // MARK: - Locks

    public func acquireLock(_ lock: LockRecord) throws -> LockOutcome { try store.acquireLock(lock) }

    public func handOverLock(target: String, from: String, to: String) throws { try store.handOverLock(target: target, from: from, to: to) }

    public func releaseLock(target: String, runID: String) throws { try store.releaseLock(target: target, runID: runID) }

    public func lock(target: String) throws -> LockRecord? { try store.lock(target: target) }

    public func locks() throws -> [LockRecord] { try store.locks() }

    public func breakLock(target: String, runID: String? = nil, by operatorName: String, reason: String) throws -> LockRecord? {
        try store.breakLock(target: target, runID: runID, by: operatorName, reason: reason)
    }

    /// The holder of `target`'s lock while it still runs; nil when free or its holder is gone.
    public func liveHolder(target: String) throws -> LockRecord? {
        guard let holder = try lock(target: target), try store.isAlive(holder) else { return nil }
        return holder
    }

    public func isAlive(_ lock: LockRecord) throws -> Bool { try store.isAlive(lock) }

    public func isAlive(_ run: RunRecord) throws -> Bool { try store.isAlive(run) }

    // MARK: - Inbound mail owed

    /// Written (durably) before inbound mail is disabled: until it is confirmed enabled again,
    /// every command says so.
    public func oweInbound(target: String, runID: String, reason: String) throws {
        try store.oweInbound(target: target, runID: runID, reason: reason)
    }

    public func settleInbound(target: String, runID: String?, by operatorName: String) throws {
        try store.settleInbound(target: target, runID: runID, by: operatorName)
    }

    public func inboundOwed(target: String) throws -> InboundOwed? { try store.inboundOwed(target: target) }

    public func inboundOwed() throws -> [InboundOwed] { try store.inboundOwed() }
}

public enum JournalError: Error, CustomStringConvertible {
    case notDurable(level: Int)
    case lockNotHeld(target: String, runID: String)
    case noSuchRun(String, journal: String)
    case ambiguousRun(String, candidates: [String])
    case conflictingRun(String, existing: RunRecord)
    /// A shared store: another session already holds the run (two processes resuming one run).
    case runHeldElsewhere(String)
    /// A store's bug: it committed step records and gave back no result (a start's id) for one.
    case missingStepResult

    public var description: String {
        switch self {
        case .notDurable(let level): return "the journal could not be set to synchronous=FULL (it reports \(level))"
        case let .lockNotHeld(target, runID): return "run \(runID) does not hold the lock of \(target)"
        case let .noSuchRun(id, journal): return "no run \(id) in \(journal)"
        case let .ambiguousRun(prefix, candidates): return "'\(prefix)' is the start of several run ids: \(candidates.joined(separator: ", "))"
        case .runHeldElsewhere(let id): return "run \(id) is being run by another deployctl right now"
        case .missingStepResult: return "the store committed a step's record but gave back no result for it (a started step's id)"
        case let .conflictingRun(id, existing):
            return "run \(id) is already in the store as a different run (\(existing.kind.rawValue) of \(existing.target) at \(existing.revision.prefix(12)) by \(existing.operatorName), started \(Timestamp.rfc3339(existing.startedAt)))"
        }
    }
}
