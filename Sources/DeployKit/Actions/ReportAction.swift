import Foundation

/// `deployctl report RUN`: gathers what the journal and the stacks repository know about a
/// run and renders it. `writeAll` is what `up` and `rollback` call when a run ends: every
/// format, into `<state>/reports/<run id>/`.
public struct ReportAction {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// `journal`: the one a finishing run already has open (else the state directory's is opened).
    public func report(runID: String, journal: Journal? = nil) throws -> Report {
        let run: RunRecord
        if let journal {
            run = try journal.resolveRun(runID)
        } else {
            run = try RunSession(workspace: workspace).run(runID)
        }
        let journal = try journal ?? workspace.openJournal()
        return ReportBuilder.build(try input(for: run, journal: journal))
    }

    /// Writes report.md, report.json, report.html and report.junit.xml; returns their paths.
    @discardableResult
    public func writeAll(runID: String, journal: Journal? = nil) throws -> [ReportRenderer.Format: String] {
        let report = try report(runID: runID, journal: journal)
        let directory = "\(workspace.stateDirectory)/reports/\(report.header.runId)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var paths: [ReportRenderer.Format: String] = [:]
        for format in ReportRenderer.Format.allCases {
            let path = "\(directory)/report.\(format.fileExtension)"
            try ReportRenderer.render(report, as: format).utf8Data.write(to: URL(fileURLWithPath: path), options: .atomic)
            paths[format] = path
        }
        return paths
    }

    func input(for run: RunRecord, journal: Journal) throws -> ReportInput {
        let history = try journal.runs(target: run.target, limit: 10_000)
        // The rollback that undid it; an attempt that stopped still has its events (restores,
        // inbound) but does not count as having rolled it back.
        let attempt = history.first { $0.kind == .rollback && $0.relatedRun == run.id && $0.id != run.id }
        let rollback = run.status == .rolledBack ? attempt : nil
        // What was running before: for an up, the last good up before it; for a rollback,
        // the run it rolled back.
        let previous: RunRecord?
        if run.kind == .rollback, let from = run.relatedRun {
            previous = try journal.run(from)
        } else {
            previous = history.first { $0.kind == .up && $0.startedAt < run.startedAt && ($0.status == .succeeded) }
        }
        let related = run.kind == .rollback ? run.relatedRun : attempt?.id
        var input = ReportInput(run: run, steps: try journal.steps(runID: run.id), events: try journal.events(runID: run.id),
                                rolledBackBy: rollback, relatedEvents: try related.map { try journal.events(runID: $0) } ?? [],
                                previous: previous)
        do {
            let pinned = try workspace.stacks.pin(run.revision)
            input.revisionAuthor = pinned.commit.authorName
            let supply = InputSupply(flags: run.inputs.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
            let against = previous.map(\.revision).flatMap { $0 == run.revision ? nil : $0 }
            input.plan = try PlanAction(workspace: workspace).run(target: run.target, source: .commit(pinned), supply: supply, against: against)
        } catch let error as DeployError {
            input.notes.append("the descriptor at \(String(run.revision.prefix(12))) could not be planned (\(error.message)): no manual items, sign-off or descriptor diff")
        } catch {
            input.notes.append("the stacks repository could not be read at \(String(run.revision.prefix(12))) (\(error)): no manual items, sign-off or descriptor diff")
        }
        input.reviews = try journal.reviews(runID: run.id)
        input.runbookName = input.events.first { $0.kind == .runbookStarted }?.data["runbook"]?.string
        if run.status == .running { input.notes.append("the run is still running; this report shows it so far") }
        return input
    }
}
