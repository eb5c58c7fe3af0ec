import Foundation
import Probes

/// Where the journal lives: the operations every store offers, and nothing they derive (that
/// is `Journal`'s). Two implementations — `SQLiteStore` (one machine, the default) and
/// `PostgresStore` (a team) — and one behaviour suite (`StoreBehaviourTests`) runs against both.
public protocol JournalStore: AnyObject, Sendable {
    /// Where it is, with no password: for messages (`journal …`).
    var location: String { get }
    /// False when this role may only read (a reviewer's): anything that would write refuses first.
    var canWrite: Bool { get }
    /// The command is done with the store: leave it as the next command wants to find it. Called
    /// once, last, just before the process exits; nothing uses the store after it.
    func close()

    // MARK: Runs
    func createRun(_ run: RunRecord) throws
    func finishRun(_ id: String, status: RunStatus, message: String?) throws
    /// A resumed run belongs to a new process again.
    func reopenRun(_ id: String, host: String, pid: Int32, pidStart: UInt64) throws
    func run(_ id: String) throws -> RunRecord?
    /// Newest first (see `RunQuery`).
    func runs(_ query: RunQuery) throws -> [RunRecord]
    /// Every target any run was recorded for.
    func targets() throws -> [String]
    /// Runs whose id starts with `prefix`, newest first.
    func runs(idPrefix: String, limit: Int) throws -> [RunRecord]

    // MARK: Steps
    /// Step attempts started and finished, all in one transaction, durable when it returns
    /// (a start is committed before its process starts): returns, in order, each start's
    /// attempt id (nil for a finish). Steps that start or end together (hosts of a wave) come
    /// as one batch (`GroupCommit`); one that fails fails the batch.
    func commit(_ writes: [StepWrite]) throws -> [Int64?]
    /// The attempt's process (and group) id, right after it starts. Need not be durable: only
    /// `resume` on this machine reads it, to ask whether that process still runs; a kill leaves
    /// the write in the system's cache, and a power loss leaves no process to find.
    func stepSpawned(_ id: Int64, pid: Int32, start: UInt64) throws
    /// A step that did not need to run (its `when` is false), recorded so reports show it.
    func stepSkipped(runID: String, phase: String, name: String, argv: [String], reason: String) throws
    /// Every attempt of the run, in the order they started.
    func steps(runID: String) throws -> [StepRecord]
    /// Those of them that ran on a host (`StepRef.hostSeparator` in the name), in the same order.
    func hostSteps(runID: String) throws -> [StepRecord]
    /// The attempt's whole masked output as the store keeps it (compressed, up to a cap).
    func log(stepID: Int64) throws -> StoredLog?
    /// Attempts left `started` by a process that died, and the run itself, become `interrupted`.
    func markInterrupted(runID: String) throws

    // MARK: Events
    func event(_ kind: EventKind, target: String, runID: String?, data: EventData) throws
    func events(runID: String) throws -> [EventRecord]
    func events(target: String, kind: EventKind?) throws -> [EventRecord]

    // MARK: Locks and liveness
    /// Takes the environment's deploy lock atomically: two `up`s started together never both get it.
    func acquireLock(_ lock: LockRecord) throws -> LockOutcome
    /// Passes a held lock from one run to the next without letting go.
    func handOverLock(target: String, from: String, to: String) throws
    func releaseLock(target: String, runID: String) throws
    func lock(target: String) throws -> LockRecord?
    func locks() throws -> [LockRecord]
    /// Deletes the lock (only if `runID` still holds it, when given), journaling who and why.
    func breakLock(target: String, runID: String?, by operatorName: String, reason: String) throws -> LockRecord?
    /// True when `isAlive` knows about processes on other machines too (a server store); false
    /// when it can only ask this machine and calls every other machine's process alive.
    var knowsOtherMachines: Bool { get }
    /// Whether the process holding the lock still runs (as far as this store can tell).
    func isAlive(_ lock: LockRecord) throws -> Bool
    /// Whether a `running` run's process still runs.
    func isAlive(_ run: RunRecord) throws -> Bool
    /// Calls `onLost` (once) if this process loses the store while it holds a lock: the run
    /// must then start nothing more and stop what runs. A no-op where the store cannot be lost.
    func watch(onLost: @escaping @Sendable (String) -> Void)
    /// Why this process lost the store (its session, and the locks with it), or nil: for a loop
    /// that outlives its runs (`sync --interval`). Always nil where the store cannot be lost.
    var lost: String? { get }

    // MARK: Inbound mail owed
    /// Written (durably) before inbound mail is disabled.
    func oweInbound(target: String, runID: String, reason: String) throws
    func settleInbound(target: String, runID: String?, by operatorName: String) throws
    func inboundOwed(target: String) throws -> InboundOwed?
    func inboundOwed() throws -> [InboundOwed]

    // MARK: Reviews
    /// Records a reviewer's tick, score, signature or note on a run; returns it with its id. The
    /// one write a reviewer's role may be granted (its own table: README, Reviews).
    func addReview(_ review: ReviewRecord) throws -> ReviewRecord
    /// A run's reviews, in the order they were recorded.
    func reviews(runID: String) throws -> [ReviewRecord]

    // MARK: Moving between stores
    /// Adds a run with everything recorded about it, as another store had it. Idempotent: the
    /// same run again adds only the reviews it lacks; a different run under an existing id is refused.
    func importRun(_ bundle: RunBundle) throws -> ImportOutcome
    /// Events that belong to no run (inbound settled by hand, a lock broken), oldest first.
    func environmentEvents() throws -> [EventRecord]
}

/// What a shared store throws that a person must understand as such: the store went away
/// mid-command, or this role may not write.
public protocol StoreFailure: Error, CustomStringConvertible {
    var isConnectionLoss: Bool { get }
    var isPermissionDenied: Bool { get }
}

extension DeployError {
    /// The one message for a store failure, whichever command met it.
    public static func store(_ failure: StoreFailure, run: RunRecord? = nil) -> DeployError {
        if failure.isPermissionDenied {
            return DeployError(.refused, "the store refused a write: this role may only read (\(failure)); nothing more was done",
                               next: ["run it as the writer role (README: \"A shared store (PostgreSQL)\", Roles)"])
        }
        let which = run.map { "run \($0.id) of \($0.target)" } ?? "a run"
        return DeployError(.failed, "lost the state store: \(failure). Running steps were stopped and no further step started; what ran is recorded up to the moment the store went away, and \(which) may still show as running there",
                           next: ["when the store is back: deployctl status \(run?.target ?? "")   (a run whose process is gone shows as interrupted)",
                                  run.map { $0.kind == .rollback ? "then: deployctl rollback \($0.target)" : "then: deployctl resume \($0.id)" }
                                      ?? "then: deployctl resume RUN_ID   (or deployctl rollback TARGET)"])
    }
}

/// Which runs to read, newest first: every field narrows; `before` pages on (runs older than it).
public struct RunQuery: Sendable {
    public var target: String?
    public var kinds: [RunKind]?
    public var status: RunStatus?
    public var before: RunRecord?
    public var limit: Int

    public init(target: String? = nil, kinds: [RunKind]? = nil, status: RunStatus? = nil, before: RunRecord? = nil, limit: Int) {
        self.target = target
        self.kinds = kinds
        self.status = status
        self.before = before
        self.limit = limit
    }
}

/// A step record that must be durable before its caller goes on (`JournalStore.commit`).
public enum StepWrite: Sendable {
    /// An attempt about to start: its process starts only once this is committed.
    case started(runID: String, phase: String, name: String, attempt: Int, argv: [String], logPath: String?)
    /// How attempt `id` ended.
    case finished(id: Int64, StepOutcome)
}

/// How a step attempt ended, as `Journal.stepFinished` records it.
public struct StepOutcome: Sendable {
    public var status: StepStatus
    public var exitCode: Int32?
    public var signal: Int32?
    public var durationMs: Int?
    public var outputTail: String?
    public var message: String?
    public var measurements: [ProbeMeasurement]?
    /// The whole masked output, kept compressed up to `StoredLog.cap`.
    public var log: StoredLog?

    public init(status: StepStatus, exitCode: Int32? = nil, signal: Int32? = nil, durationMs: Int? = nil, outputTail: String? = nil,
                message: String? = nil, measurements: [ProbeMeasurement]? = nil, log: StoredLog? = nil) {
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.durationMs = durationMs
        self.outputTail = outputTail
        self.message = message
        self.measurements = measurements
        self.log = log
    }
}

public enum LockOutcome: Sendable {
    case acquired
    /// The previous holder's process (or its connection to the store) is gone; its lock was taken over.
    case tookOverStale(LockRecord)
    case held(LockRecord)
}

/// A run and everything recorded about it: what `state import` and `state export` move.
public struct RunBundle: Sendable, Codable {
    public var run: RunRecord
    public var steps: [StepRecord]
    public var events: [EventRecord]
    public var logs: [Int64: StoredLog]
    public var reviews: [ReviewRecord]

    public init(run: RunRecord, steps: [StepRecord], events: [EventRecord], logs: [Int64: StoredLog], reviews: [ReviewRecord] = []) {
        self.run = run
        self.steps = steps
        self.events = events
        self.logs = logs
        self.reviews = reviews
    }

    /// The reviews of this bundle a store holding `existing` lacks.
    func reviews(missingFrom existing: [ReviewRecord]) -> [ReviewRecord] {
        reviews.filter { review in !existing.contains { $0.sameReview(as: review) } }
    }
}

public enum ImportOutcome: Sendable, Equatable {
    case imported
    case alreadyThere
}
