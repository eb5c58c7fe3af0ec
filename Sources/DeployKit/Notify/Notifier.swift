import Foundation
import Probes

/// Tells `notify:` webhooks how a run ended. A failed notification is journaled and printed,
/// never fatal: the deploy already happened. URLs are journaled masked (a Slack webhook URL
/// is itself a secret).
struct Notifier {
    let journal: Journal
    let observer: RunObserver
    let secretValues: [String]

    func notify(run: RunRecord, shown: [PlanNotify], real: [PlanNotify], reportPath: String?) async {
        guard !real.isEmpty else { return }
        let succeeded = run.status == .succeeded
        let payload = Self.payload(run: run, reportPath: reportPath)
        let redactor = Redactor(secrets: secretValues)
        // An empty URL is an optional secret left unset: that webhook is switched off here.
        for (shownHook, hook) in zip(shown, real) where hook.on.contains(succeeded ? "success" : "failure") && !hook.url.isEmpty {
            let shownURL = redactor.redact(shownHook.url)
            switch await Webhook.post(url: hook.url, json: payload) {
            case .delivered(let status):
                try? journal.event(.notifySent, target: run.target, runID: run.id, data: ["url": .string(shownURL), "status": .int(Int(status))])
            case .failed(let why):
                let detail = redactor.redact(why)
                try? journal.event(.notifyFailed, target: run.target, runID: run.id, data: ["url": .string(shownURL), "detail": .string(detail)])
                observer.note("notification to \(shownURL) failed (\(detail)); the run's outcome is unchanged")
            }
        }
    }

    /// Slack reads `text`; everything else is under `deployctl` for receivers that want fields.
    static func payload(run: RunRecord, reportPath: String?) -> Data {
        let icon = run.status == .succeeded ? "✅" : run.status == .rolledBack ? "↩️" : "❌"
        var text = "\(icon) \(run.kind) \(run.target) \(String(run.revision.prefix(12))) \(run.status.rawValue.replacingOccurrences(of: "_", with: " ")) — \(run.revisionSubject) (by \(run.operatorName), run \(run.id))"
        if let message = run.message, run.status != .succeeded { text += "\n\(message)" }
        if let reportPath { text += "\nreport: \(reportPath)" }
        let body: [String: Any] = [
            "text": text,
            "deployctl": [
                "run": run.id, "kind": run.kind.rawValue, "target": run.target, "revision": run.revision, "status": run.status.rawValue,
                "message": run.message ?? "", "operator": run.operatorName, "report": reportPath ?? "",
                "started_at": Timestamp.rfc3339(run.startedAt), "ended_at": run.endedAt.map(Timestamp.rfc3339) ?? "",
            ] as [String: Any],
        ]
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? "{}".utf8Data
    }
}

/// What happens when a run ends, whatever its outcome: notifications, then the reports (which
/// record whether the notifications got through).
public struct RunEpilogue {
    let workspace: Workspace
    let journal: Journal
    let observer: RunObserver

    /// The HTML report's path, when the reports could be written.
    @discardableResult
    func finish(runID: String, masked: Plan, revealed: Plan, secretValues: [String], notify: Bool = true) async -> String? {
        let reports = ReportAction(workspace: workspace)
        let htmlPath = "\(workspace.stateDirectory)/reports/\(runID)/report.html"
        if notify, let run = try? journal.run(runID) {
            await Notifier(journal: journal, observer: observer, secretValues: secretValues)
                .notify(run: run, shown: masked.notify, real: revealed.notify, reportPath: htmlPath)
        }
        do {
            return try reports.writeAll(runID: runID, journal: journal)[.html]
        } catch {
            observer.note("the reports for run \(runID) could not be written (\(error)); deployctl report \(runID) can try again")
            return nil
        }
    }
}
