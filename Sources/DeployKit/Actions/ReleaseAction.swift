import Foundation

/// `deployctl release TARGET`: lifts the hold a rollback put on `sync`, on the record.
public struct ReleaseAction {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// The hold lifted, or nil when there was none (nothing is written then).
    public func run(target: String, reason: String?) throws -> Hold? {
        let tracker = Tracker(workspace: workspace, mode: .offline)
        guard let tracked = try tracker.tracked(target: target) else {
            throw DeployError(.usage, "release lifts a sync hold, and the stacks repository has no remote to sync from", next: [])
        }
        let journal = try workspace.openJournal()
        try RunSession.requireWriter(journal, to: "release")
        let entry = try workspace.stacks.entry(for: target, at: try workspace.stacks.pin(tracked.head))
        let drift = try DriftReader(workspace: workspace, journal: journal)
            .drift(target: entry.target, tracked: tracked, deployed: try journal.environmentState(target: entry.target).deployed?.revision)
        guard let hold = drift.hold else { return nil }
        var data: EventData = ["operator": .string(workspace.operatorName), "rollback_run": .string(hold.run), "from": .string(hold.from)]
        if let reason { data["reason"] = .string(reason) }
        try journal.event(.holdReleased, target: entry.target, runID: nil, data: data)
        return hold
    }
}
