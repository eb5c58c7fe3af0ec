import Foundation
import Postgres
import Probes

/// Records to statement parameters and back: text in, text out (dates as epoch seconds,
/// structured columns as JournalJSON, logs as bytea hex).
extension PostgresStore {
    static func now() -> String { text(Date()) }
    static func text(_ date: Date) -> String { String(date.timeIntervalSince1970) }
    static func date(_ text: String?) -> Date? { text.flatMap(Double.init).map(Date.init(timeIntervalSince1970:)) }
    static func hex(_ data: Data) -> String { "\\x" + data.map { String(format: "%02x", $0) }.joined() }

    var insertRun: String {
        """
        INSERT INTO \(schema).runs (id, kind, stack, environment, target, revision, revision_subject, descriptor_blob, inputs,
                                    operator, host, pid, pid_start, started_at, ended_at, status, message, related_run)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
        """
    }

    /// A run as `insertRun`'s parameters.
    static func values(_ run: RunRecord) -> [String?] {
        [run.id, run.kind.rawValue, run.stack, run.environment, run.target, run.revision, run.revisionSubject, run.descriptorBlob,
         JournalJSON.encode(run.inputs), run.operatorName, run.host, String(run.pid), String(Int64(bitPattern: run.pidStart)),
         text(run.startedAt), run.endedAt.map(text), run.status.rawValue, run.message, run.relatedRun]
    }

    static func run(_ row: Rows.Row) -> RunRecord? {
        guard let kind = row["kind"].flatMap(RunKind.init(rawValue:)), let id = row["id"] else { return nil }
        return RunRecord(id: id, kind: kind, stack: row["stack"] ?? "", environment: row["environment"] ?? "", target: row["target"] ?? "",
                         revision: row["revision"] ?? "", revisionSubject: row["revision_subject"] ?? "", descriptorBlob: row["descriptor_blob"] ?? "",
                         inputs: JournalJSON.decode([String: String].self, row["inputs"]) ?? [:], operatorName: row["operator"] ?? "",
                         host: row["host"] ?? "", pid: Int32(row.int("pid") ?? 0), pidStart: UInt64(bitPattern: row.int64("pid_start") ?? 0),
                         startedAt: date(row["started_at"]) ?? Date(timeIntervalSince1970: 0), endedAt: date(row["ended_at"]),
                         status: row["status"].flatMap(RunStatus.init(rawValue:)) ?? .failed, message: row["message"], relatedRun: row["related_run"])
    }

    static func step(_ row: Rows.Row) -> StepRecord {
        StepRecord(id: row.int64("id") ?? 0, runID: row["run_id"] ?? "", phase: row["phase"] ?? "", name: row["name"] ?? "",
                   attempt: row.int("attempt") ?? 0, argv: JournalJSON.decode([String].self, row["argv"]) ?? [],
                   startedAt: date(row["started_at"]) ?? Date(timeIntervalSince1970: 0), endedAt: date(row["ended_at"]),
                   exitCode: row.int("exit_code").map(Int32.init), signal: row.int("signal").map(Int32.init),
                   status: row["status"].flatMap(StepStatus.init(rawValue:)) ?? .failed, durationMs: row.int("duration_ms"),
                   outputTail: row["output_tail"], logPath: row["log_path"], message: row["message"], pid: row.int("pid").map(Int32.init),
                   measurements: JournalJSON.decode([ProbeMeasurement].self, row["measurements"]))
    }

    static func event(_ row: Rows.Row) -> EventRecord? {
        guard let kind = row["kind"].flatMap(EventKind.init(rawValue:)) else { return nil }
        return EventRecord(id: row.int64("id") ?? 0, runID: row["run_id"], target: row["target"] ?? "",
                           at: date(row["at"]) ?? Date(timeIntervalSince1970: 0), kind: kind,
                           data: JournalJSON.decode(EventData.self, row["data"]) ?? [:])
    }

    static func review(_ row: Rows.Row) -> ReviewRecord? {
        guard let kind = row["kind"].flatMap(ReviewKind.init(rawValue:)) else { return nil }
        return ReviewRecord(id: row.int64("id") ?? 0, runID: row["run_id"] ?? "", target: row["target"] ?? "", kind: kind,
                            subject: row["subject"], score: row.int("score"), text: row["text"], reviewer: row["reviewer"] ?? "",
                            host: row["host"] ?? "", at: date(row["at"]) ?? Date(timeIntervalSince1970: 0))
    }

    static func lock(_ row: Rows.Row) -> LockRecord {
        LockRecord(target: row["target"] ?? "", runID: row["run_id"] ?? "", operatorName: row["operator"] ?? "", host: row["host"] ?? "",
                   pid: Int32(row.int("pid") ?? 0), pidStart: UInt64(bitPattern: row.int64("pid_start") ?? 0),
                   since: date(row["since"]) ?? Date(timeIntervalSince1970: 0), command: row["command"] ?? "", heartbeat: date(row["heartbeat"]))
    }

    static func owed(_ row: Rows.Row) -> InboundOwed {
        InboundOwed(target: row["target"] ?? "", runID: row["run_id"] ?? "", since: date(row["since"]) ?? Date(timeIntervalSince1970: 0),
                    reason: row["reason"] ?? "")
    }}

extension PostgresError: StoreFailure {
    public var isPermissionDenied: Bool { sqlState == "42501" }
}
