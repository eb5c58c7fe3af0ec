import Foundation
import Probes

/// Journal records (and the plan at the run's revision) → `Report`. Pure: the golden-file
/// tests feed it fixture records.
public struct ReportInput: Sendable {
    public var run: RunRecord
    public var steps: [StepRecord]
    public var events: [EventRecord]
    /// The rollback run that undid this one.
    public var rolledBackBy: RunRecord?
    /// The events of the run on the other side of a rollback: for an `up`, the rollback that
    /// undid it (restores and inbound happen there); for a rollback, the run it undid (whose
    /// backup it restored).
    public var relatedEvents: [EventRecord]
    public var previous: RunRecord?
    public var revisionAuthor: String?
    /// The plan at the run's revision, diffed against the previous revision when it differs.
    public var plan: Plan?
    /// For a runbook run, the runbook's name.
    public var runbookName: String?
    public var notes: [String]

    public init(run: RunRecord, steps: [StepRecord], events: [EventRecord], rolledBackBy: RunRecord? = nil,
                relatedEvents: [EventRecord] = [], previous: RunRecord? = nil, revisionAuthor: String? = nil,
                plan: Plan? = nil, notes: [String] = []) {
        self.run = run
        self.steps = steps
        self.events = events
        self.rolledBackBy = rolledBackBy
        self.relatedEvents = relatedEvents
        self.previous = previous
        self.revisionAuthor = revisionAuthor
        self.plan = plan
        self.notes = notes
    }
}

public enum ReportBuilder {
    public static func build(_ input: ReportInput) -> Report {
        let run = input.run
        // The last attempt of each step decides its status; attempts count every try.
        var order: [StepRef] = []
        var last: [StepRef: StepRecord] = [:], attempts: [StepRef: Int] = [:], total: [StepRef: Int] = [:]
        for step in input.steps {
            let ref = StepRef(phase: step.phase, name: step.name)
            if last[ref] == nil { order.append(ref) }
            last[ref] = step
            if step.status != .skipped { attempts[ref, default: 0] += 1 }
            total[ref, default: 0] += step.durationMs ?? 0
        }
        let steps = order.map { ref -> Report.StepSummary in
            let record = last[ref]!
            return Report.StepSummary(phase: ref.phase, name: ref.name, status: record.status.rawValue, attempts: attempts[ref] ?? 0,
                                      durationMs: total[ref] ?? 0, command: record.argv, exitCode: record.exitCode, message: record.message)
        }
        let header = Report.Header(
            runId: run.id, kind: run.kind, target: run.target, stack: run.stack, environment: run.environment,
            revision: run.revision, revisionSubject: run.revisionSubject, revisionAuthor: input.revisionAuthor,
            previousRevision: input.previous?.revision, previousRevisionSubject: input.previous?.revisionSubject,
            operator: run.operatorName, host: run.host, startedAt: iso(run.startedAt), endedAt: run.endedAt.map(iso),
            durationMs: run.endedAt.map { Int(($0.timeIntervalSince(run.startedAt) * 1000).rounded()) },
            status: run.status.rawValue, message: run.message, relatedRun: run.relatedRun, rolledBackBy: input.rolledBackBy?.id)
        let verify = order.compactMap { ref -> Report.VerifyResult? in
            let record = last[ref]!
            // A runbook's every check is a finding; in a deploy, probes and verify commands are.
            let isCheck = run.kind == "runbook" || record.measurements != nil || ref.phase == Phase.verify.rawValue
            guard isCheck, record.status != .skipped || record.measurements != nil else { return nil }
            return Report.VerifyResult(phase: ref.phase, step: ref.name, status: record.status.rawValue, durationMs: record.durationMs ?? 0,
                                       command: record.argv, measurements: record.measurements ?? [], message: record.message)
        }
        let latencies = verify.flatMap { v in
            v.measurements.filter { $0.unit == "ms" }.map { Report.ProbeLatency(step: "\(v.phase)/\(v.step)", name: $0.name, valueMs: $0.value, expected: $0.expected) }
        }
        let slowest = steps.filter { $0.status != StepStatus.skipped.rawValue }.sorted { $0.durationMs > $1.durationMs }.prefix(5)
            .map { Report.Timing(step: "\($0.phase)/\($0.name)", durationMs: $0.durationMs) }
        let issues = input.steps.filter { [.failed, .timedOut, .interrupted, .cancelled].contains($0.status) }.map {
            Report.Issue(step: "\($0.phase)/\($0.name)", attempt: $0.attempt, status: $0.status.rawValue, message: $0.message,
                         outputTail: $0.outputTail.map(lastLines))
        }
        var manual = input.plan?.manual.map { Report.ManualCheck(item: $0.item, section: $0.section, checked: false) } ?? []
        manual.sort { ($0.section ?? "") < ($1.section ?? "") }
        return Report(
            header: header, phases: phases(run: run, steps: steps), steps: steps, verify: verify,
            performance: Report.Performance(totalMs: header.durationMs, slowest: Array(slowest), probeLatencies: latencies),
            backup: backup(input), inbound: inbound(input), issues: issues,
            diff: input.plan?.diff.flatMap { $0.changes.isEmpty ? nil : $0 },
            manual: manual, signoff: input.plan?.signoff ?? [],
            readiness: input.plan?.readiness.map { Report.Readiness(categories: $0.categories, scale: $0.scale, pass: $0.pass, maximum: $0.maximum) },
            notifications: notifications(input.events),
            runbook: input.runbookName.map { name in
                let book = input.plan?.runbooks.first { $0.name == name }
                return Report.RunbookInfo(name: name, description: book?.description, next: book?.next ?? [])
            },
            notes: input.notes)
    }

    /// Phases in order: an `up` has the five; a rollback its own sections, in order of appearance.
    static func phases(run: RunRecord, steps: [Report.StepSummary]) -> [Report.PhaseSummary] {
        var names = run.kind == "up" ? Phase.allCases.map(\.rawValue) : []
        for step in steps where !names.contains(step.phase) { names.append(step.phase) }
        return names.map { name in
            let mine = steps.filter { $0.phase == name }
            let succeeded = mine.filter { $0.status == StepStatus.succeeded.rawValue }.count
            let skipped = mine.filter { $0.status == StepStatus.skipped.rawValue }.count
            let failed = mine.count - succeeded - skipped
            let status: String
            if mine.isEmpty { status = "not_run" }
            else if failed > 0 { status = "failed" }
            else if skipped == mine.count { status = "skipped" }
            else { status = "succeeded" }
            return Report.PhaseSummary(name: name, status: status, steps: mine.count, succeeded: succeeded, failed: failed,
                                       skipped: skipped, durationMs: mine.reduce(0) { $0 + $1.durationMs })
        }
    }

    static func backup(_ input: ReportInput) -> Report.Backup? {
        let all = input.events + input.relatedEvents
        guard let taken = all.last(where: { $0.kind == "backup_taken" })
                ?? all.last(where: { $0.kind == "backup_restored" || $0.kind == "backup_restore_failed" }) else { return nil }
        let restored: String
        if all.contains(where: { $0.kind == "backup_restored" }) { restored = "restored" }
        else if all.contains(where: { $0.kind == "backup_restore_failed" }) { restored = "restore_failed" }
        else if all.contains(where: { $0.kind == "database_restore_skipped" }) { restored = "restore_skipped" }
        else { restored = "not_restored" }
        return Report.Backup(path: taken.data["path"] ?? "", size: taken.data["size"], sha256: taken.data["sha256"],
                             restoreCommand: taken.data["restore"], restored: restored)
    }

    static func inbound(_ input: ReportInput) -> Report.Inbound? {
        let kinds = ["inbound_disabled", "inbound_enabled", "inbound_enable_failed", "inbound_kept_disabled"]
        let events = (input.events + input.relatedEvents).filter { kinds.contains($0.kind) }
        guard !events.isEmpty else { return nil }
        let timeline = events.map { event -> Report.TimelineEntry in
            let detail = event.data.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            return Report.TimelineEntry(at: iso(event.at), event: event.kind.replacingOccurrences(of: "inbound_", with: ""),
                                        detail: detail.isEmpty ? nil : detail)
        }
        var seconds: Double? = events.last { $0.kind == "inbound_enabled" }?.data["disabled_seconds"].flatMap(Double.init)
        if seconds == nil, let off = events.first(where: { $0.kind == "inbound_disabled" }), let on = events.last(where: { $0.kind == "inbound_enabled" }) {
            seconds = on.at.timeIntervalSince(off.at)
        }
        let final = events.last.map { $0.kind == "inbound_enabled" ? "enabled" : "still_disabled" } ?? "unknown"
        return Report.Inbound(timeline: timeline, disabledSeconds: seconds, finalState: final)
    }

    static func notifications(_ events: [EventRecord]) -> [Report.Notification] {
        events.filter { $0.kind == "notify_sent" || $0.kind == "notify_failed" }.map {
            Report.Notification(url: $0.data["url"] ?? "", status: $0.kind == "notify_sent" ? "sent" : "failed", detail: $0.data["detail"])
        }
    }

    /// The last 40 lines: enough to see why, short enough to read in a report.
    static func lastLines(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.suffix(40).joined(separator: "\n")
    }

    static func iso(_ date: Date) -> String {
        let t = Int(date.timeIntervalSince1970.rounded(.down))
        let d = RunClock.civil(days: t >= 0 ? t / 86_400 : (t - 86_399) / 86_400)
        let s = ((t % 86_400) + 86_400) % 86_400
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(d.year)-\(two(d.month))-\(two(d.day))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
    }
}
