import Foundation

/// `deployctl state import --from DIR` and `state export --to DIR`: copies every run (its
/// steps, events and stored logs) and any inbound mail still owed from one store into another.
/// Idempotent: a run already there is left alone; a different run under the same id refuses
/// the whole copy before anything is written.
public struct StateTransferAction {
    public struct Summary: Codable, Sendable {
        public var from, to: String
        public var copied = 0
        public var alreadyThere = 0
        public var inboundOwed = 0
        /// Events that belong to no run (a lock broken, inbound settled by hand) stay behind:
        /// nothing marks them as the same event twice, so copying them is not idempotent.
        public var eventsLeft = 0
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Copies from the embedded store in `directory` into this workspace's store.
    public func importing(from directory: String) throws -> Summary {
        try copy(from: try local(directory, reading: true), to: try workspace.openJournal())
    }

    /// Copies this workspace's store into the embedded store in `directory` (created when missing).
    public func exporting(to directory: String) throws -> Summary {
        try copy(from: try workspace.openJournal(), to: try local(directory, reading: false))
    }

    private func local(_ directory: String, reading: Bool) throws -> Journal {
        if reading, !FileManager.default.fileExists(atPath: directory + "/" + SQLiteStore.fileName) {
            throw DeployError(.usage, "no journal in \(directory) (looked for \(SQLiteStore.fileName))",
                              next: ["give the state directory that holds it: deployctl state import --from PATH/.deployctl"])
        }
        return try Journal(directory: directory)
    }

    func copy(from source: Journal, to destination: Journal) throws -> Summary {
        guard source.path != destination.path else {
            throw DeployError(.usage, "the source and the destination are the same store (\(source.path))",
                              next: ["deployctl state import --from DIR --state postgres://…"])
        }
        try RunSession.requireWriter(destination)
        if let holder = try source.locks().first(where: { try source.isAlive($0) }) {
            throw DeployError(.refused, "run \(holder.runID) of \(holder.target) is still running on \(source.path); nothing was copied",
                              next: ["wait for it to end, then run this again"])
        }
        var runs: [RunRecord] = [], page: [RunRecord] = []
        repeat {
            page = try source.runs(RunQuery(before: runs.last, limit: 500))
            runs += page
        } while page.count == 500
        // Every conflict first: a refusal copies nothing.
        let conflicts = try runs.compactMap { run -> String? in
            guard let there = try destination.run(run.id), !there.sameRun(as: run) else { return nil }
            return "\(run.id): \(run.kind.rawValue) of \(run.target) at \(run.revision.prefix(12)) here, \(there.kind.rawValue) of \(there.target) at \(there.revision.prefix(12)) there"
        }
        guard conflicts.isEmpty else {
            throw DeployError(.refused, "\(conflicts.count) run id\(conflicts.count == 1 ? " is" : "s are") already in \(destination.path) as different runs; nothing was copied:\n  " + conflicts.joined(separator: "\n  "),
                              next: ["these are different histories under the same ids: keep the two stores apart, or remove the runs from one (README: \"Moving in\")"])
        }
        var summary = Summary(from: source.path, to: destination.path)
        // Oldest first, so the destination's history grows in the order it happened.
        for run in runs.reversed() {
            let steps = try source.steps(runID: run.id)
            var logs: [Int64: StoredLog] = [:]
            for step in steps { logs[step.id] = try source.log(stepID: step.id) }
            let bundle = RunBundle(run: run, steps: steps, events: try source.events(runID: run.id), logs: logs, reviews: try source.store.reviews(runID: run.id))
            switch try destination.store.importRun(bundle) {
            case .imported: summary.copied += 1
            case .alreadyThere: summary.alreadyThere += 1
            }
        }
        for owed in try source.inboundOwed() where try destination.inboundOwed(target: owed.target) == nil {
            try destination.oweInbound(target: owed.target, runID: owed.runID, reason: owed.reason + " (imported from \(source.path))")
            summary.inboundOwed += 1
        }
        summary.eventsLeft = try source.store.environmentEvents().count
        return summary
    }
}
