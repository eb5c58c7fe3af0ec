import Foundation

/// `deployctl inbound status|enable|disable TARGET`: the inbound mail switch by hand. The
/// commands come from the descriptor whose switch was last flipped or is live (see `prepare`).
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
        try session.lock(target: context.entry.target, runID: runID, command: kind, observer: observer, cancellation: cancellation)
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
        let runID = Journal.newRunID()
        // Whose switch: the one a rollback that still owes the re-enable used (it may have
        // borrowed the undone revision's), else the revision whose steps last ran, else HEAD.
        var candidates: [(PinnedRevision, [String: String])] = []
        if let owed = try session.journal.inboundOwed(target: entry.target), let run = try session.journal.run(owed.runID) {
            if let borrowed = try session.journal.events(runID: run.id).first(where: { $0.kind == .inboundGuardBorrowed }),
               let revision = borrowed.data["from_revision"]?.string {
                let undone = try run.relatedRun.flatMap { try session.journal.run($0) }
                candidates.append((try workspace.stacks.pin(revision), undone?.inputs ?? run.inputs))
            }
            candidates.append((try workspace.stacks.pin(run.revision), run.inputs))
        }
        let state = try session.journal.environmentState(target: entry.target)
        if let live = try (state.deployed?.run ?? state.degraded?.run).flatMap({ try session.journal.run($0) }) {
            candidates.append((try workspace.stacks.pin(live.revision), live.inputs))
        }
        candidates.append((head, [:]))
        for (index, (revision, inputs)) in candidates.enumerated() {
            let resolved = try ResolvedRevision(workspace: workspace, entry: entry, revision: revision, inputs: inputs,
                                                runID: runID, kind: kind.rawValue)
            guard resolved.descriptor.inbound != nil else { continue }
            // HEAD, last, runs its switch with the environment's secrets: gated like a deploy
            // unless a run of the target already ran that revision (and so passed `up`'s gates).
            if index == candidates.count - 1,
               try !session.journal.runs(target: entry.target, limit: 10_000).contains(where: { $0.kind.deploys && $0.revision == head.sha }) {
                _ = try RevisionAdmission.checkUndeployed(head, entry: entry, descriptor: resolved.descriptor, workspace: workspace, journal: session.journal,
                                                          retry: "deployctl inbound \(kind.rawValue.dropFirst("inbound-".count)) \(entry.target)")
            }
            return (session, Context(entry: entry, resolved: resolved, runID: runID))
        }
        throw DeployError(.usage, "\(entry.target) declares no 'inbound:' switch at \(candidates[0].0.short)", next: ["see README.md, the inbound block"])
    }
}
