import Foundation

/// `deployctl inbound status|enable|disable TARGET`: the inbound mail switch by hand. The
/// commands come from the descriptor at the deployed revision (HEAD when nothing is deployed).
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
        public let owedSince: String?
    }

    public func status(target: String, observer: RunObserver) async throws -> Report {
        let (session, context) = try await prepare(target: target, kind: "inbound-status")
        let engine = try context.engine(session: session, run: nil, observer: observer, cancellation: Cancellation())
        let state = try await engine.readInbound()
        let owed = try session.journal.inboundOwed(target: context.entry.target)
        return Report(target: context.entry.target, state: state, owedBy: owed?.runID, owedSince: owed.map { RunSession.time($0.since) })
    }

    /// Enables (`true`) or disables inbound processing and confirms it.
    public func set(enabled: Bool, target: String, observer: RunObserver, cancellation: Cancellation) async throws -> (RunRecord, confirmed: Bool) {
        let kind = enabled ? "inbound-enable" : "inbound-disable"
        let (session, context) = try await prepare(target: target, kind: kind)
        let runID = context.runID
        try session.lock(target: context.entry.target, runID: runID, observer: observer)
        defer { try? session.journal.releaseLock(target: context.entry.target, runID: runID) }
        let me = ProcessIdentity.current
        let run = RunRecord(id: runID, kind: kind, stack: context.entry.stack, environment: context.entry.environment,
                            target: context.entry.target, revision: context.pinned.sha, revisionSubject: context.pinned.commit.subject,
                            descriptorBlob: context.masked.descriptorBlob, inputs: [:], operatorName: workspace.operatorName,
                            host: me.host, pid: me.pid, pidStart: me.start, startedAt: Date(), endedAt: nil, status: .running,
                            message: nil, relatedRun: nil)
        try session.journal.createRun(run)
        let engine = try context.engine(session: session, run: run, observer: observer, cancellation: cancellation)
        if !enabled {
            // Owed before anything is flipped: a crash right after the flip still leaves the record.
            try session.journal.oweInbound(target: run.target, runID: runID, reason: "disabled by hand by \(workspace.operatorName)")
        }
        let confirmed = try await engine.switchInbound(enabled: enabled, mustFinish: enabled)
        try session.journal.event(enabled ? "inbound_enabled" : "inbound_disabled", target: run.target, runID: runID,
                                  data: ["by": workspace.operatorName, "confirmed": "\(confirmed)"])
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

        func engine(session: RunSession, run: RunRecord?, observer: RunObserver, cancellation: Cancellation) throws -> RunEngine {
            let tree = try session.tree(for: pinned)
            let me = ProcessIdentity.current
            let record = run ?? RunRecord(id: runID, kind: "inbound-status", stack: entry.stack, environment: entry.environment,
                                          target: entry.target, revision: pinned.sha, revisionSubject: pinned.commit.subject,
                                          descriptorBlob: masked.descriptorBlob, inputs: [:], operatorName: "", host: me.host,
                                          pid: me.pid, pidStart: me.start, startedAt: Date(), endedAt: nil, status: .running,
                                          message: nil, relatedRun: nil)
            return RunEngine(journal: session.journal, run: record, steps: resolved.steps(tree: tree),
                             options: RunOptions(), observer: observer, cancellation: cancellation,
                             baseEnvironment: session.baseEnvironment(run: record, tree: tree),
                             secretValues: resolved.secrets.compactMap(\.value),
                             logDirectory: run == nil ? "" : try session.logDirectory(runID: runID), journaled: run != nil)
        }
    }

    private func prepare(target: String, kind: String) async throws -> (RunSession, Context) {
        let session = try RunSession(workspace: workspace)
        let head = try workspace.stacks.pin("HEAD")
        let entry = try workspace.stacks.entry(for: target, at: head)
        let deployed = try session.journal.lastSucceeded(target: entry.target)
        let pinned = try deployed.map { try workspace.stacks.pin($0.revision) } ?? head
        let runID = Journal.newRunID()
        // The inputs of the deployed run (none when nothing is deployed: defaults apply).
        let resolved = try ResolvedRevision(workspace: workspace, entry: entry, revision: pinned, inputs: deployed?.inputs ?? [:],
                                            runID: runID, kind: kind)
        guard resolved.descriptor.inbound != nil else {
            throw DeployError(.usage, "\(entry.target) at \(pinned.short) declares no 'inbound:' switch", next: ["see README.md, the inbound block"])
        }
        return (session, Context(entry: entry, resolved: resolved, runID: runID))
    }
}
