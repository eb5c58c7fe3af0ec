import Foundation
import Probes

/// The status a run has in the journal. `interrupted` is written when a command finds a
/// `running` run whose process is gone (kill -9, power loss).
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, succeeded, failed, cancelled, interrupted
    case rolledBack = "rolled_back"

    public var isFinal: Bool { self != .running }
}

public enum StepStatus: String, Sendable, Codable {
    /// Committed before the process starts; still `started` after a crash means "may have run".
    case started
    case succeeded, failed
    case timedOut = "timed_out"
    case cancelled
    case skipped
    /// Found `started` after a crash.
    case interrupted
}

/// A run as the journal keeps it.
public struct RunRecord: Sendable, Codable, Hashable {
    public var id: String
    public var kind: RunKind
    public var stack: String
    public var environment: String
    public var target: String
    public var revision: String
    public var revisionSubject: String
    public var descriptorBlob: String
    /// The resolved inputs (never secrets), so `resume` plans exactly the same steps.
    public var inputs: [String: String]
    public var operatorName: String
    public var host: String
    public var pid: Int32
    public var pidStart: UInt64
    public var startedAt: Date
    public var endedAt: Date?
    public var status: RunStatus
    public var message: String?
    /// For a resume: the run resumed; for a rollback: the run rolled back.
    public var relatedRun: String?
}

/// One attempt of one step.
public struct StepRecord: Sendable, Codable, Hashable {
    public var id: Int64
    public var runID: String
    public var phase: String
    public var name: String
    public var attempt: Int
    /// Secrets appear as ••••.
    public var argv: [String]
    public var startedAt: Date
    public var endedAt: Date?
    public var exitCode: Int32?
    public var signal: Int32?
    public var status: StepStatus
    public var durationMs: Int?
    /// The last 64 KiB of output, redacted.
    public var outputTail: String?
    public var logPath: String?
    public var message: String?
    /// The attempt's process id, which is also its process group.
    public var pid: Int32?
    /// What a probe step measured, against what it had to be.
    public var measurements: [ProbeMeasurement]?
}

extension StepRecord {
    /// The last attempt of each step, in the order the steps first ran.
    static func lastAttempts(_ steps: [StepRecord]) -> [StepRecord] {
        var last: [String: StepRecord] = [:], order: [String] = []
        for step in steps {
            let key = "\(step.phase)/\(step.name)"
            if last[key] == nil { order.append(key) }
            last[key] = step
        }
        return order.compactMap { last[$0] }
    }
}

/// Something that happened to a run or an environment: lock taken or broken, backup taken,
/// inbound switched, a resume, a note.
public struct EventRecord: Sendable, Codable, Hashable {
    public var id: Int64
    public var runID: String?
    public var target: String
    public var at: Date
    public var kind: EventKind
    public var data: EventData
}

/// Who holds an environment's deploy lock.
public struct LockRecord: Sendable, Codable, Hashable {
    public var target: String
    public var runID: String
    public var operatorName: String
    public var host: String
    public var pid: Int32
    public var pidStart: UInt64
    public var since: Date
    /// What the holder is doing (`up`, `rollback`, …).
    public var command: String = ""
    /// When the holder last said it is alive (a shared store only; nil on SQLite).
    public var heartbeat: Date? = nil
}

/// Inbound mail processing that deployctl disabled and has not yet confirmed enabled again.
public struct InboundOwed: Sendable, Codable, Hashable {
    public var target: String
    public var runID: String
    public var since: Date
    public var reason: String
}

extension RunRecord {
    /// A run as it starts: `running`, owned by this process.
    static func starting(id: String, kind: RunKind, entry: StackCatalog.Entry, revision: PinnedRevision, descriptorBlob: String,
                         inputs: [String: String], operatorName: String, relatedRun: String? = nil) -> RunRecord {
        let me = ProcessIdentity.current
        return RunRecord(id: id, kind: kind, stack: entry.stack, environment: entry.environment, target: entry.target,
                         revision: revision.sha, revisionSubject: revision.commit.subject, descriptorBlob: descriptorBlob,
                         inputs: inputs, operatorName: operatorName, host: me.host, pid: me.pid, pidStart: me.start,
                         startedAt: Date(), endedAt: nil, status: .running, message: nil, relatedRun: relatedRun)
    }
}

extension RunRecord {
    /// The same run as another store recorded it (an import seen twice), not another run
    /// that happens to share its id.
    func sameRun(as other: RunRecord) -> Bool {
        id == other.id && kind == other.kind && target == other.target && revision == other.revision
            && abs(startedAt.timeIntervalSince(other.startedAt)) < 0.001
    }
}
