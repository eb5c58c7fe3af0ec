import Foundation

/// `deployctl inbound status|enable|disable TARGET`: the inbound mail switch by hand. The
/// commands come from the descriptor of the revision whose steps last ran (HEAD when nothing
/// was deployed).
/// Enabling and disabling are journaled runs that take the environment's lock.
public struct InboundAction {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public struct Report: Sendable, Codable {
        public let target: String
        public let state: InboundState
        public let owedBy: String?
        public let owedSince: Date?
    }

    public func status(target: String, observer: RunObserver) async throws -> Report {
        let (session, context) = try await prepare(target: target, kind: .inboundStatus)
        let engine = try context.engine(session: session, run: nil, observer: observer, cancellation: Cancellation())
        let state = try await InboundSwitch(engine: engine)?.read() ?? .unknown
        let owed = try session.journal.inboundOwed(target: context.entry.target)
        return Report(target: context.entry.target, state: state, owedBy: owed?.runID, owedSince: owed?.since)
    }

    /// Enables (`true`) or disables inbound processing and confirms it.
    public func set(enabled: Bool, target: String, observer: RunObserver, cancellation: Cancellation) async throws -> (RunRecord, confirmed: Bool) {
        let kind: RunKind = enabled ? .inboundEnable : .inboundDisable
        let (session, context) = try await prepare(target: target, kind: kind)
        let runID = context.runID
        try session.lock(target: context.entry.target, runID: runID, observer: observer)
        defer { try? session.journal.releaseLock(target: context.entry.target, runID: runID) }
        let run = context.record(kind: kind, operatorName: workspace.operatorName)
        try session.journal.createRun(run)
        let engine = try context.engine(session: session, run: run, observer: observer, cancellation: cancellation)
        if !enabled {
            // Owed before anything is flipped: a crash right after the flip still leaves the record.
            try session.journal.oweInbound(target: run.target, runID: runID, reason: "disabled by hand by \(workspace.operatorName)")
        }
        let confirmed = try await InboundSwitch(engine: engine)?.set(enabled: enabled, mustFinish: enabled) ?? false
        try session.journal.event(enabled ? .inboundEnabled : .inboundDisabled, target: run.target, runID: runID,
                                  data: ["by": .string(workspace.operatorName), "confirmed": .bool(confirmed)])
        if enabled && confirmed {
            try session.journal.settleInbound(target: run.target, runID: runID, by: workspace.operatorName)
        }
        let word = enabled ? "enabled" : "disabled"
        try session.journal.finishRun(runID, status: confirmed ? .succeeded : .failed,
                                      message: confirmed ? "inbound \(word) and confirmed" : "inbound could not be confirmed \(word)")
        return (run, confirmed)
    }

    private struct Context {
        let entry: StackCatalog.Entry
        let resolved: ResolvedRevision
        let runID: String
        var pinned: PinnedRevision { resolved.revision }
        var masked: Plan { resolved.masked }

        func record(kind: RunKind, operatorName: String) -> RunRecord {
            RunRecord.starting(id: runID, kind: kind, entry: entry, revision: pinned, descriptorBlob: masked.descriptorBlob,
                               inputs: [:], operatorName: operatorName)
        }

        func engine(session: RunSession, run: RunRecord?, observer: RunObserver, cancellation: Cancellation) throws -> RunEngine {
            let tree = try session.tree(for: pinned)
            let record = run ?? self.record(kind: .inboundStatus, operatorName: "")
            return RunEngine(journal: session.journal, run: record, steps: resolved.steps(tree: tree),
                             options: RunOptions(), observer: observer, cancellation: cancellation,
                             baseEnvironment: session.baseEnvironment(run: record, tree: tree),
                             secretValues: resolved.secretValues,
                             logDirectory: run == nil ? "" : try session.logDirectory(runID: runID), journaled: run != nil)
        }
    }

    private func prepare(target: String, kind: RunKind) async throws -> (RunSession, Context) {
        let session = try RunSession(workspace: workspace)
        let head = try workspace.stacks.pin("HEAD")
        let entry = try workspace.stacks.entry(for: target, at: head)
        let state = try session.journal.environmentState(target: entry.target)
        let deployed = try (state.deployed?.run ?? state.degraded?.run).flatMap { try session.journal.run($0) }
        let pinned = try deployed.map { try workspace.stacks.pin($0.revision) } ?? head
        let runID = Journal.newRunID()
        // The inputs of the deployed run (none when nothing is deployed: defaults apply).
        let resolved = try ResolvedRevision(workspace: workspace, entry: entry, revision: pinned, inputs: deployed?.inputs ?? [:],
                                            runID: runID, kind: kind.rawValue)
        guard resolved.descriptor.inbound != nil else {
            throw DeployError(.usage, "\(entry.target) at \(pinned.short) declares no 'inbound:' switch", next: ["see README.md, the inbound block"])
        }
        return (session, Context(entry: entry, resolved: resolved, runID: runID))
    }
}
