import Foundation

/// The read side of the journal: `runs`, `show`, `logs`. Each opens the journal, first marking
/// any run whose process is gone as interrupted, so what it shows is true.
public struct RecordActions {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    private func session() throws -> RunSession {
        let session = try RunSession(workspace: workspace)
        try session.sweepInterrupted(target: nil)
        return session
    }

    /// Inbound mail left disabled, for the banner every command prints. Reads only an
    /// existing journal: a state directory that does not exist yet owes nothing.
    public func owedInbound() -> [InboundOwed] {
        guard let journal = workspace.existingJournal() else { return [] }
        return (try? journal.inboundOwed()) ?? []
    }

    // MARK: runs

    public struct RunSummary: Codable, Sendable {
        public let id, target, revision, revisionSubject, `operator`: String
        public let kind: RunKind
        public let status: RunStatus
        public let startedAt: Date
        public let endedAt: Date?
        public let durationMs: Int?
        public let message: String?
        /// For a rollback: the run it rolled back; for a check: the run whose revision it checked.
        public let relatedRun: String?
    }

    public func runs(target: String?, limit: Int) throws -> [RunSummary] {
        let journal = try session().journal
        var resolved: String? = nil
        if let target {
            resolved = (try? workspace.stacks.entry(for: target, at: workspace.stacks.pin("HEAD")).target) ?? target
        }
        return try journal.runs(target: resolved, limit: limit).map(Self.summary)
    }

    static func summary(_ run: RunRecord) -> RunSummary {
        RunSummary(id: run.id, target: run.target, revision: run.revision, revisionSubject: run.revisionSubject, operator: run.operatorName,
                   kind: run.kind, status: run.status, startedAt: run.startedAt, endedAt: run.endedAt,
                   durationMs: run.endedAt.map { Int($0.timeIntervalSince(run.startedAt) * 1000) }, message: run.message,
                   relatedRun: run.relatedRun)
    }

    // MARK: show

    public struct RunDetail: Codable, Sendable {
        public struct Step: Codable, Sendable {
            public let phase, name: String
            public let status: StepStatus
            public let exitCode: Int32?
            public let signal: Int32?
            public let attempts: Int
            public let durationMs: Int?
            public let message: String?
            public let argv: [String]
            public let logPath: String?
        }
        public struct Event: Codable, Sendable {
            public let at: Date
            public let kind: EventKind
            public let data: EventData
        }
        public let id, revision, revisionSubject, target, `operator`, host: String
        public let kind: RunKind
        public let status: RunStatus
        public let startedAt: Date
        public let endedAt: Date?
        public let pid: Int32
        public let message: String?
        public let inputs: [String: String]
        /// For a rollback: the run it rolled back. For a rolled-back run: the rollback.
        public let rollbackOf: String?
        public let rolledBackBy: String?
        /// How long inbound mail processing was off during this run, once it was re-enabled.
        public let inboundDisabledSeconds: Int?
        public let steps: [Step]
        public let events: [Event]
        /// An up's review against its checklist (`deployctl review`), when the descriptor asks for one.
        public let review: RunReview?
    }

    public func show(runID: String) throws -> RunDetail {
        let session = try session()
        let journal = session.journal
        let run = try session.run(runID)
        let attempts = try journal.steps(runID: run.id)
        var order: [StepRef] = []
        var grouped: [StepRef: [StepRecord]] = [:]
        for attempt in attempts {
            let ref = StepRef(phase: attempt.phase, name: attempt.name)
            if grouped[ref] == nil { order.append(ref) }
            grouped[ref, default: []].append(attempt)
        }
        let steps = order.map { ref -> RunDetail.Step in
            let all = grouped[ref]!
            let last = all.last!
            return RunDetail.Step(phase: ref.phase, name: ref.name, status: last.status, exitCode: last.exitCode,
                                  signal: last.signal, attempts: all.filter { $0.attempt > 0 }.count,
                                  durationMs: all.compactMap(\.durationMs).reduce(0, +), message: last.message,
                                  argv: last.argv, logPath: last.logPath)
        }
        let events = try journal.events(runID: run.id)
        // Only a rollback that finished undoing it; one that stopped or never started is not that.
        let rolledBackBy = run.status != .rolledBack ? nil
            : try journal.runs(RunQuery(target: run.target, kinds: [.rollback], limit: 10_000)).first { $0.relatedRun == run.id }?.id
        return RunDetail(
            id: run.id, revision: run.revision, revisionSubject: run.revisionSubject, target: run.target, operator: run.operatorName,
            host: run.host, kind: run.kind, status: run.status, startedAt: run.startedAt, endedAt: run.endedAt, pid: run.pid,
            message: run.message, inputs: run.inputs,
            rollbackOf: run.kind == .rollback ? run.relatedRun : nil, rolledBackBy: rolledBackBy,
            inboundDisabledSeconds: events.last { $0.kind == .inboundEnabled }?.data["disabled_seconds"]?.int,
            steps: steps, events: events.map { RunDetail.Event(at: $0.at, kind: $0.kind, data: $0.data) },
            review: try ReviewAction.review(of: run, workspace: workspace, journal: journal))
    }

    /// Where an attempt's output is: its log file on the machine that ran it (followed while
    /// it grows), else the masked copy the store keeps (what another machine reads).
    public enum LogSource {
        case file(String)
        case stored(Data, truncated: Bool)
    }

    /// The logs of a run (or of one of its steps), in the order the attempts started.
    public func logs(runID: String, step: String?) throws -> (run: RunRecord, logs: [(StepRecord, LogSource)]) {
        let session = try session()
        let run = try session.run(runID)
        let attempts = try session.journal.steps(runID: run.id).filter { step == nil || $0.name == step }
        if let step, attempts.isEmpty {
            let names = Set(try session.journal.steps(runID: run.id).map(\.name))
            throw DeployError(.usage, "run \(run.id) has no step '\(step)'\(Suggestion.hint(for: step, in: names))",
                              next: ["deployctl show \(run.id)"])
        }
        let here = run.host == ProcessIdentity.hostName
        return (run, try attempts.compactMap { attempt in
            if here, let path = attempt.logPath, FileManager.default.fileExists(atPath: path) { return (attempt, .file(path)) }
            if let stored = try session.journal.log(stepID: attempt.id), let text = stored.text { return (attempt, .stored(text, truncated: stored.truncated)) }
            return attempt.logPath.map { (attempt, .file($0)) }
        })
    }

    public func run(_ runID: String) throws -> RunRecord? {
        try RunSession(workspace: workspace).journal.run(runID)
    }
}
