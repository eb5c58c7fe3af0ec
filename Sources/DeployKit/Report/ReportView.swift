import Foundation
import Probes

/// The report as the templates see it: every value already a display string, every
/// optional section present only when it has something to say. Shared by the Markdown,
/// HTML and JUnit templates so they cannot disagree about a figure.
enum ReportView {
    static func context(_ r: Report) -> [String: Any] {
        let h = r.header
        var c: [String: Any] = [
            "title": "\(h.target) \(h.kind) \(short(h.revision)) — \(statusWord(h.status))",
            "runId": h.runId, "kind": h.kind, "target": h.target, "stack": h.stack, "environment": h.environment,
            "revision": h.revision, "revisionShort": short(h.revision), "revisionSubject": h.revisionSubject,
            "operator": h.operator, "host": h.host, "startedAt": h.startedAt, "endedAt": h.endedAt ?? "still running",
            "duration": h.durationMs.map(duration) ?? "—", "status": h.status, "statusWord": statusWord(h.status),
            "statusIcon": icon(h.status), "statusMark": mark(h.status), "statusClass": h.status == "rolled_back" ? "warn" : cssClass(h.status),
            "generator": "deployctl (\(Report.schema))",
        ]
        c["revisionAuthor"] = h.revisionAuthor
        c["message"] = h.message
        if let previous = h.previousRevision {
            c["previous"] = ["revisionShort": short(previous), "revision": previous, "subject": h.previousRevisionSubject ?? ""]
        }
        c["relatedRun"] = h.relatedRun
        c["rolledBackBy"] = h.rolledBackBy
        c["phases"] = r.phases.map { p -> [String: Any] in
            ["name": p.name, "icon": p.status == "not_run" ? "➖" : p.status == "skipped" ? "⏭️" : icon(p.status), "mark": mark(p.status),
             "status": p.status.replacingOccurrences(of: "_", with: " "), "class": cssClass(p.status),
             "counts": p.steps == 0 ? "—" : "\(p.succeeded)/\(p.steps) succeeded" + (p.failed > 0 ? ", \(p.failed) failed" : "") + (p.skipped > 0 ? ", \(p.skipped) skipped" : ""),
             "duration": duration(p.durationMs)]
        }
        c["steps"] = r.steps.map { s -> [String: Any] in
            ["ref": "\(s.phase)/\(s.name)", "phase": s.phase, "name": s.name, "icon": icon(s.status), "mark": mark(s.status), "status": s.status.replacingOccurrences(of: "_", with: " "),
             "class": cssClass(s.status), "attempts": "\(s.attempts)", "duration": duration(s.durationMs),
             "command": ShellQuote.join(s.command), "commandCode": code(ShellQuote.join(s.command))]
                .merging(s.message.map { ["stepMessage": $0] } ?? [:]) { a, _ in a }
                .merging(s.secretInArgv.map { ["secretInArgv": $0] } ?? [:]) { a, _ in a }
        }
        c["verify"] = r.verify.map { v -> [String: Any] in
            var item: [String: Any] = ["ref": "\(v.phase)/\(v.step)", "icon": icon(v.status), "mark": mark(v.status), "status": v.status, "class": cssClass(v.status),
                                       "command": v.command.joined(separator: " "), "commandCode": code(v.command.joined(separator: " ")),
                                       "duration": duration(v.durationMs)]
            item["measurements"] = v.measurements.map(measurement)
            item["hasMeasurements"] = !v.measurements.isEmpty
            if v.measurements.isEmpty, let message = v.message { item["verifyMessage"] = message }
            if v.status != "succeeded" { item["junitFailure"] = xmlSafe(v.message ?? v.status) }
            item["seconds"] = String(format: "%.3f", Double(v.durationMs) / 1000)
            item["junitOutput"] = xmlSafe(v.measurements.map { "\($0.ok ? "ok  " : "FAIL") \($0.sentence)" }.joined(separator: "\n"))
            return item
        }
        // JUnit counts every check: the verify results and each bake round's.
        let cases = r.verify + (r.bake?.rounds.flatMap(\.checks) ?? [])
        c["verifyCount"] = "\(cases.count)"
        c["verifyFailures"] = "\(cases.filter { $0.status != "succeeded" }.count)"
        c["verifySeconds"] = String(format: "%.3f", Double(cases.reduce(0) { $0 + $1.durationMs }) / 1000)
        if let bake = r.bake { c["bake"] = Self.bake(bake, target: h.target) }
        c["slowest"] = r.performance.slowest.map { ["step": $0.step, "duration": duration($0.durationMs)] }
        c["hasLatencies"] = !r.performance.probeLatencies.isEmpty
        c["latencies"] = r.performance.probeLatencies.map { l -> [String: Any] in
            ["step": l.step, "name": l.name, "value": "\(Percentiles.format(l.valueMs)) ms", "expected": l.expected.map { "\($0) ms" } ?? "—"]
        }
        if let b = r.backup {
            c["backup"] = ["path": b.path, "pathCode": code(b.path), "restoreCode": code(b.restoreCommand ?? "—"), "size": b.size.map(bytes) ?? "—", "sha256": b.sha256 ?? "—",
                           "restoreCommand": b.restoreCommand ?? "—", "restored": restoredText(b.restored) + (b.failure.map { ": \($0)" } ?? "") + (b.decision.map { " — decided: \($0)" } ?? "")]
        }
        if let i = r.inbound {
            c["inbound"] = ["timeline": i.timeline.map { ["at": $0.at, "event": $0.event.replacingOccurrences(of: "_", with: " "), "detail": $0.detail ?? ""] },
                            "window": i.disabledSeconds.map { String(format: "%.1f s", $0) } ?? "unknown",
                            "final": i.finalState == "enabled" ? "✅ enabled again" : "❌ STILL DISABLED — run: deployctl inbound enable \(h.target)",
                            "finalText": i.finalState == "enabled" ? "✓ enabled again" : "✗ STILL DISABLED — run: deployctl inbound enable \(h.target)"]
        }
        c["issues"] = r.issues.map { i -> [String: Any] in
            var issue: [String: Any] = ["step": i.step, "attempt": "\(i.attempt)", "status": i.status.replacingOccurrences(of: "_", with: " "),
                                        "issueMessage": i.message ?? ""]
            if let tail = i.outputTail, !tail.isEmpty { issue["issueTail"] = fenced(tail) }
            return issue
        }
        if let d = r.diff {
            c["diff"] = ["against": short(d.against), "againstSubject": d.againstSubject,
                         "changes": d.changes.map { ch -> [String: Any] in
                             ["change": ch.change.rawValue, "where": "\(ch.section)/\(ch.name)",
                              "fields": ch.fields.map { ["field": $0.field, "before": $0.before ?? "—", "after": $0.after ?? "—"] }]
                         }]
        }
        if let review = r.review { c["review"] = Self.review(review) }
        if let table = r.hosts {
            let mark: (String) -> String = { $0.isEmpty ? "—" : $0 == "succeeded" ? "✓" : $0 == "skipped" ? "–" : "✗ " + $0.replacingOccurrences(of: "_", with: " ") }
            c["hostsTable"] = ["header": table.hosts.map { ["host": $0] }, "separator": table.hosts.map { _ in ["x": "---"] },
                               "rows": zip(table.steps, table.statuses).map { step, cells in ["step": step, "cells": cells.map { ["cell": mark($0)] }] }]
        }
        if let p = r.provenance {
            var entry: [String: Any] = ["signatures": p.signatures.map { ["commit": short($0.commit), "format": $0.format == "ssh" ? "SSH" : "OpenPGP",
                                                                          "signer": $0.signer ?? "an allowed key", "key": $0.key ?? ""] }]
            if let u = p.untracked { entry["untracked"] = ["branch": u.branch, "head": short(u.head)] }
            c["provenance"] = entry
        }
        c["notifications"] = r.notifications.map { ["url": $0.url, "status": $0.status, "detail": $0.detail ?? ""] }
        c["hasNotifications"] = !r.notifications.isEmpty
        if let book = r.runbook {
            var entry: [String: Any] = ["name": book.name, "next": book.next.map { ["advice": $0] }, "hasNext": !book.next.isEmpty]
            if let description = book.description { entry["runbookDescription"] = description }
            c["runbook"] = entry
            c["title"] = "\(h.target) runbook \(book.name) — \(h.status == "succeeded" ? "NOTHING FOUND" : h.status == "failed" ? "FINDINGS" : statusWord(h.status))"
            c["statusWord"] = h.status == "succeeded" ? "NOTHING FOUND" : h.status == "failed" ? "FINDINGS" : statusWord(h.status)
        }
        c["notes"] = r.notes.map { ["note": $0] }
        c["hasNotes"] = !r.notes.isEmpty
        return c
    }

    /// One row per bake round, one cell per check: its mark and what it measured.
    static func bake(_ bake: Report.Bake, target: String) -> [String: Any] {
        func cell(_ check: Report.VerifyResult) -> String {
            let measured = check.measurements.filter { $0.expected != nil || $0.unit == "ms" }.prefix(3)
                .map { "\($0.name) \($0.value)\($0.unit.map { " \($0)" } ?? "")" }
            return (check.status == StepStatus.succeeded.rawValue ? "✓" : "✗ \(check.status.replacingOccurrences(of: "_", with: " "))")
                + (measured.isEmpty ? "" : " " + measured.joined(separator: ", "))
        }
        let every = bake.intervalMs.map { " every \(DurationValue.format(milliseconds: $0))" } ?? ""
        let ran = "\(bake.rounds.count)\(bake.plannedRounds.map { " of \($0)" } ?? "") round\(bake.rounds.count == 1 ? "" : "s")"
        return [
            "summary": "\(bake.checks.joined(separator: ", "))\(every): \(ran)"
                + (bake.rounds.contains { $0.status != "succeeded" } ? ", the last FAILED" : bake.rounds.isEmpty ? " (none ran)" : ", all passed"),
            "header": bake.checks.map { ["check": $0] },
            "rounds": bake.rounds.map { round -> [String: Any] in
                ["round": "\(round.round)", "at": round.at, "after": round.afterSeconds.map { "+\(DurationValue.format(milliseconds: $0 * 1000))" } ?? "",
                 "class": round.status == "succeeded" ? "ok" : "bad",
                 "cells": bake.checks.map { name in ["cell": round.checks.first { $0.step == name }.map(cell) ?? "—"] }]
            },
            "cases": bake.rounds.flatMap { round in round.checks.map { check -> [String: Any] in
                var item: [String: Any] = ["ref": "bake/\(check.step)#\(round.round)", "seconds": String(format: "%.3f", Double(check.durationMs) / 1000),
                                           "target": target, "junitOutput": xmlSafe(check.measurements.map { "\($0.ok ? "ok  " : "FAIL") \($0.sentence)" }.joined(separator: "\n"))]
                if check.status != StepStatus.succeeded.rawValue { item["junitFailure"] = xmlSafe(check.message ?? check.status); item["status"] = check.status }
                return item
            } },
        ]
    }

    /// Who ticked, scored and signed what, and whether the run is accepted.
    static func review(_ review: RunReview) -> [String: Any] {
        func when(_ date: Date?) -> String { date.map(Timestamp.rfc3339) ?? "" }
        var c: [String: Any] = [
            "verdict": review.accepted ? "ACCEPTED" + (review.acceptedAt.map { " " + Timestamp.rfc3339($0) } ?? "") : "NOT ACCEPTED",
            "acceptedClass": review.accepted ? "ok" : "bad",
            "missing": review.missing.map { ["what": $0] },
            "hasMissing": !review.missing.isEmpty,
            "manual": review.manual.map { item -> [String: Any] in
                var entry: [String: Any] = ["item": item.item, "mark": item.tickedBy == nil ? " " : "x", "checked": item.tickedBy != nil]
                if let section = item.section { entry["section"] = section }
                if let by = item.tickedBy { entry["by"] = by; entry["at"] = when(item.tickedAt) }
                return entry
            },
            "hasManual": !review.manual.isEmpty,
            "signoff": review.signoff.map { ["role": $0.role, "by": $0.signedBy ?? "", "at": when($0.signedAt)] },
            "hasSignoff": !review.signoff.isEmpty,
            "notes": review.notes.map { ["text": $0.text, "by": $0.by, "at": when($0.at)] },
            "hasReviewNotes": !review.notes.isEmpty,
            "summary": review.accepted ? "accepted " + when(review.acceptedAt) : review.summary,
        ]
        if let readiness = review.readiness {
            c["readiness"] = ["categories": readiness.scores.map { ["name": $0.category, "score": $0.score.map(String.init) ?? "—",
                                                                   "by": $0.scoredBy ?? "", "at": when($0.scoredAt)] },
                              "scale": "\(readiness.scale)", "pass": "\(readiness.pass)", "maximum": "\(readiness.maximum)", "total": "\(readiness.total)"]
        }
        return c
    }

    static func measurement(_ m: ProbeMeasurement) -> [String: Any] {
        let unit = m.unit.map { " \($0)" } ?? ""
        return ["name": m.name, "value": m.value + (m.value == "absent" ? "" : unit),
                "expected": m.expected.map { $0 + unit } ?? "—", "icon": m.expected == nil ? "ℹ️" : m.ok ? "✅" : "❌", "mark": m.expected == nil ? "·" : m.ok ? "✓" : "✗",
                "class": m.ok ? "ok" : "bad"]
    }

    static func icon(_ status: String) -> String {
        switch status {
        case "succeeded", "rolled_back": return status == "succeeded" ? "✅" : "↩️"
        case "skipped": return "⏭️"
        case "running": return "⏳"
        default: return "❌"
        }
    }

    /// Plain symbols for HTML: they render without an emoji font (headless browsers, print).
    static func mark(_ status: String) -> String {
        switch status {
        case "succeeded": return "✓"
        case "rolled_back": return "↩"
        case "skipped": return "»"
        case "not_run": return "–"
        case "running": return "…"
        default: return "✗"
        }
    }

    static func statusWord(_ status: String) -> String {
        switch status {
        case "succeeded": return "SUCCEEDED"
        case "rolled_back": return "ROLLED BACK"
        case "timed_out": return "TIMED OUT"
        default: return status.uppercased()
        }
    }

    static func cssClass(_ status: String) -> String {
        switch status {
        case "succeeded": return "ok"
        case "skipped", "not_run", "rolled_back", "running": return "muted"
        default: return "bad"
        }
    }

    static func restoredText(_ state: String) -> String {
        switch state {
        case "restored": return "yes, restored"
        case "restore_failed": return "restore FAILED"
        case "restore_skipped": return "no, the database was kept as it was"
        default: return "no (not needed)"
        }
    }

    static func short(_ sha: String) -> String { String(sha.prefix(12)) }

    static func duration(_ ms: Int) -> String {
        if ms < 1000 { return "\(ms) ms" }
        if ms < 60_000 { return String(format: "%.1f s", Double(ms) / 1000) }
        return "\(ms / 60_000) min \(ms / 1000 % 60) s"
    }

    static func bytes(_ n: Int) -> String {
        n < 1024 ? "\(n) B" : n < 1 << 20 ? String(format: "%.1f KiB", Double(n) / 1024) : String(format: "%.1f MiB", Double(n) / Double(1 << 20))
    }

    /// Text for a Markdown code span inside a table: entities are not decoded in code spans,
    /// so only what would break the span or the table is changed (GFM reads `\|` there).
    static func code(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "`", with: "ˋ")
    }

    /// Output for a fenced block that cannot close the fence early.
    static func fenced(_ text: String) -> String {
        xmlSafe(text).replacingOccurrences(of: "```", with: "ˋˋˋ")
    }

    /// Drops control characters XML 1.0 cannot hold (terminal colours in output).
    static func xmlSafe(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 || $0 == "\n" || $0 == "\t" }))
    }
}
