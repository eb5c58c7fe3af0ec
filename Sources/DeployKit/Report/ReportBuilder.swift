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
    /// What reviewers recorded on the run (`deployctl review`).
    public var reviews: [ReviewRecord] = []
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
        let allowances = input.plan?.argvSecretAllowances
        let steps = order.map { ref -> Report.StepSummary in
            let record = last[ref]!
            return Report.StepSummary(phase: ref.phase, name: ref.name, status: record.status.rawValue, attempts: attempts[ref] ?? 0,
                                      durationMs: total[ref] ?? 0, command: record.argv, exitCode: record.exitCode, message: record.message,
                                      secretInArgv: allowances?.reason(ref))
        }
        let header = Report.Header(
            runId: run.id, kind: run.kind.rawValue, target: run.target, stack: run.stack, environment: run.environment,
            revision: run.revision, revisionSubject: run.revisionSubject, revisionAuthor: input.revisionAuthor,
            previousRevision: input.previous?.revision, previousRevisionSubject: input.previous?.revisionSubject,
            operator: run.operatorName, host: run.host, startedAt: Timestamp.rfc3339(run.startedAt), endedAt: run.endedAt.map(Timestamp.rfc3339),
            durationMs: run.endedAt.map { Int(($0.timeIntervalSince(run.startedAt) * 1000).rounded()) },
            status: run.status.rawValue, message: run.message, relatedRun: run.relatedRun, rolledBackBy: input.rolledBackBy?.id)
        let verify = order.compactMap { ref -> Report.VerifyResult? in
            let record = last[ref]!
            // A runbook's every check is a finding; in a deploy, probes and verify commands are.
            let isCheck = run.kind == .runbook || record.measurements != nil || ref.phase == Phase.verify.rawValue
            // Bake rounds have their own section (and JUnit cases): one entry per round would bury the verify results.
            guard isCheck, ref.phase != StepRef.Section.bake, record.status != .skipped || record.measurements != nil else { return nil }
            return Report.VerifyResult(phase: ref.phase, step: ref.name, status: record.status.rawValue, durationMs: record.durationMs ?? 0,
                                       command: record.argv, measurements: record.measurements ?? [], message: record.message)
        }
        let latencies = verify.flatMap { v in
            v.measurements.filter { $0.unit == "ms" }.compactMap { m in
                Double(m.value).map { Report.ProbeLatency(step: "\(v.phase)/\(v.step)", name: m.name, valueMs: $0, expected: m.expected) }
            }
        }
        let slowest = steps.filter { $0.status != StepStatus.skipped.rawValue }.sorted { $0.durationMs > $1.durationMs }.prefix(5)
            .map { Report.Timing(step: "\($0.phase)/\($0.name)", durationMs: $0.durationMs) }
        let issues = input.steps.filter { [.failed, .timedOut, .interrupted, .cancelled].contains($0.status) }.map {
            Report.Issue(step: "\($0.phase)/\($0.name)", attempt: $0.attempt, status: $0.status.rawValue, message: $0.message,
                         outputTail: $0.outputTail.map(lastLines))
        }
        return Report(
            header: header, phases: phases(run: run, steps: steps), steps: steps, verify: verify,
            performance: Report.Performance(totalMs: header.durationMs, slowest: Array(slowest), probeLatencies: latencies),
            bake: bake(input),
            backup: backup(input), inbound: inbound(input), issues: issues,
            diff: input.plan?.diff.flatMap { $0.changes.isEmpty ? nil : $0 },
            review: review(input),
            notifications: notifications(input.events),
            runbook: input.runbookName.map { name in
                let book = input.plan?.runbooks.first { $0.name == name }
                return Report.RunbookInfo(name: name, description: book?.description, next: book?.next ?? [])
            },
            notes: input.notes,
            provenance: provenance(input.events),
            hosts: Report.HostsTable.from(steps, inventory: input.plan?.hosts ?? []))
    }

    /// From the run's `untracked_revision_allowed` and `signature_verified` events.
    static func provenance(_ events: [EventRecord]) -> Report.Provenance? {
        let untracked = events.last { $0.kind == .untrackedRevisionAllowed }.map {
            Report.Provenance.Untracked(branch: $0.data["branch"]?.string ?? "?", head: $0.data["head"]?.string ?? "?")
        }
        let signatures = events.filter { $0.kind == .signatureVerified }.map {
            Report.Provenance.Signature(commit: $0.data["commit"]?.string ?? "?", format: $0.data["format"]?.string ?? "?",
                                        signer: $0.data["signer"]?.string, key: $0.data["key"]?.string)
        }
        if untracked == nil, signatures.isEmpty { return nil }
        return Report.Provenance(untracked: untracked, signatures: signatures)
    }

    /// Each bake round (`bake/CHECK#N` steps): when it ran, how long after postdeploy, what each check measured.
    static func bake(_ input: ReportInput) -> Report.Bake? {
        let attempts = input.steps.filter { $0.phase == StepRef.Section.bake }
        guard !attempts.isEmpty || input.plan?.bake != nil else { return nil }
        let live = input.steps.filter { $0.phase != StepRef.Section.bake }.compactMap(\.endedAt).max()
        var byRound: [Int: [StepRecord]] = [:]
        for record in StepRecord.lastAttempts(attempts) {
            guard let hash = record.name.lastIndex(of: "#"), let round = Int(record.name[record.name.index(after: hash)...]) else { continue }
            byRound[round, default: []].append(record)
        }
        let rounds = byRound.keys.sorted().map { round -> Report.BakeRound in
            let records = byRound[round]!
            let start = records.map(\.startedAt).min()!
            let checks = records.map { record in
                Report.VerifyResult(phase: record.phase, step: String(record.name[..<record.name.lastIndex(of: "#")!]), status: record.status.rawValue,
                                    durationMs: record.durationMs ?? 0, command: record.argv, measurements: record.measurements ?? [], message: record.message)
            }
            return Report.BakeRound(round: round, at: Timestamp.rfc3339(start), afterSeconds: live.map { Int(start.timeIntervalSince($0).rounded()) },
                                    status: checks.allSatisfy { $0.status == StepStatus.succeeded.rawValue } ? "succeeded" : "failed", checks: checks)
        }
        return Report.Bake(checks: input.plan?.bake?.checks ?? Array(Set(rounds.flatMap { $0.checks.map(\.step) })).sorted(),
                           intervalMs: input.plan?.bake?.intervalMs, plannedRounds: input.plan?.bake?.rounds, rounds: rounds)
    }

    /// The run's review against the plan's checklist; none for a run that is not an `up` or
    /// whose descriptor asks for nothing.
    static func review(_ input: ReportInput) -> RunReview? {
        guard input.run.kind == .up, let plan = input.plan else { return nil }
        let checklist = plan.checklist
        guard !checklist.isEmpty else { return nil }
        return RunReview(run: input.run, state: ReviewState(checklist: checklist, runStatus: input.run.status, reviews: input.reviews))
    }

    /// Phases in order: an `up` has the five; a rollback its own sections, in order of appearance.
    static func phases(run: RunRecord, steps: [Report.StepSummary]) -> [Report.PhaseSummary] {
        var names = run.kind == .up ? Phase.allCases.map(\.rawValue) : []
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
        guard let taken = all.last(where: { $0.kind == .backupTaken })
                ?? all.last(where: { $0.kind == .backupRestored || $0.kind == .backupRestoreFailed }) else { return nil }
        let restored: String
        if all.contains(where: { $0.kind == .backupRestored }) { restored = "restored" }
        else if all.contains(where: { $0.kind == .backupRestoreFailed }) { restored = "restore_failed" }
        else if all.contains(where: { $0.kind == .databaseRestoreSkipped }) { restored = "restore_skipped" }
        else { restored = "not_restored" }
        let decided = all.last { $0.kind == .restoreDecided }
        return Report.Backup(path: taken.data["path"]?.description ?? "", size: taken.data["size"]?.int, sha256: taken.data["sha256"]?.string,
                             restoreCommand: taken.data["restore"]?.string, restored: restored,
                             decision: decided.map { RestoreDecision(restore: $0.data["restore"] == .bool(true),
                                                                     policy: RestorePolicy(rawValue: $0.data["policy"]?.string ?? "") ?? .ask,
                                                                     source: RestoreDecision.Source(rawValue: $0.data["source"]?.string ?? "") ?? .descriptor).sentence },
                             failure: all.last { $0.kind == .backupRestoreFailed }?.data["reason"]?.string)
    }

    static func inbound(_ input: ReportInput) -> Report.Inbound? {
        let kinds: Set<EventKind> = [.inboundDisabled, .inboundEnabled, .inboundEnableFailed, .inboundKeptDisabled, .inboundGuardBorrowed]
        let events = (input.events + input.relatedEvents).filter { kinds.contains($0.kind) }
        guard !events.isEmpty else { return nil }
        let timeline = events.map { event -> Report.TimelineEntry in
            let detail = event.data.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            return Report.TimelineEntry(at: Timestamp.rfc3339(event.at), event: event.kind.rawValue.replacingOccurrences(of: "inbound_", with: ""),
                                        detail: detail.isEmpty ? nil : detail)
        }
        let switches = events.filter { $0.kind != .inboundGuardBorrowed }
        var seconds: Double? = switches.last { $0.kind == .inboundEnabled }?.data["disabled_seconds"]?.int.map(Double.init)
        if seconds == nil, let off = switches.first(where: { $0.kind == .inboundDisabled }), let on = switches.last(where: { $0.kind == .inboundEnabled }) {
            seconds = on.at.timeIntervalSince(off.at)
        }
        let final = switches.last.map { $0.kind == .inboundEnabled ? "enabled" : "still_disabled" } ?? "unknown"
        return Report.Inbound(timeline: timeline, disabledSeconds: seconds, finalState: final)
    }

    static func notifications(_ events: [EventRecord]) -> [Report.Notification] {
        events.filter { $0.kind == .notifySent || $0.kind == .notifyFailed }.map {
            Report.Notification(url: $0.data["url"]?.description ?? "", status: $0.kind == .notifySent ? "sent" : "failed", detail: $0.data["detail"]?.string)
        }
    }

    /// The last 40 lines: enough to see why, short enough to read in a report.
    static func lastLines(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.suffix(40).joined(separator: "\n")
    }
}
