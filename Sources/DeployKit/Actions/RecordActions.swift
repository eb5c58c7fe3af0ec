import Foundation

/// The read side of the journal: `status`, `runs`, `show`, `unlock`. Each opens the journal,
/// first marking any run whose process is gone as interrupted, so what it shows is true.
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

    // MARK: status

    public struct Status: Codable, Sendable {
        public struct LastRun: Codable, Sendable { public let id, kind, status, revision: String }
        public struct Lock: Codable, Sendable { public let runId, `operator`, host: String; public let pid: Int32; public let since: String; public let stale: Bool }
        public struct Interrupted: Codable, Sendable {
            public let id, revision, `operator`, startedAt: String
            public let kind: String
            /// What to run about it: `resume` for an up, the rollback again for a rollback.
            public let next: String
        }
        public let target: String
        public let stack: String
        public let environment: String
        public let deployedRevision: String?
        public let deployedRun: String?
        public let lastRun: LastRun?
        public let lock: Lock?
        public let interruptedRuns: [Interrupted]
        /// `disabled` while deployctl owes a re-enable, else `enabled` as far as deployctl knows
        /// (`deployctl inbound status` asks the real system).
        public let inbound: String
        public let inboundOwedBy: String?
        public let inboundOwedSince: String?

        enum CodingKeys: String, CodingKey {
            case target, stack, environment, deployedRevision, deployedRun, lastRun, lock, interruptedRuns
            case inbound, inboundOwedBy, inboundOwedSince
        }

        /// Absent values are written as null: `"lock": null` says "free", it is not missing.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(target, forKey: .target)
            try c.encode(stack, forKey: .stack)
            try c.encode(environment, forKey: .environment)
            try c.encode(deployedRevision, forKey: .deployedRevision)
            try c.encode(deployedRun, forKey: .deployedRun)
            try c.encode(lastRun, forKey: .lastRun)
            try c.encode(lock, forKey: .lock)
            try c.encode(interruptedRuns, forKey: .interruptedRuns)
            try c.encode(inbound, forKey: .inbound)
            try c.encode(inboundOwedBy, forKey: .inboundOwedBy)
            try c.encode(inboundOwedSince, forKey: .inboundOwedSince)
        }
    }

    /// One target, or every target the journal knows (and every stack at HEAD) when nil.
    public func status(target: String?) throws -> [Status] {
        let journal = try session().journal
        var targets: [String]
        if let target {
            let pinned = try workspace.stacks.pin("HEAD")
            targets = [try workspace.stacks.entry(for: target, at: pinned).target]
        } else {
            var known = Set(try journal.runs(limit: 10_000).map(\.target))
            known.formUnion(try journal.locks().map(\.target))
            if let pinned = try? workspace.stacks.pin("HEAD"), let catalog = try? workspace.stacks.catalog(at: pinned) {
                known.formUnion(catalog.entries.map(\.target))
            }
            targets = known.sorted()
        }
        return try targets.map { target in
            let parts = target.split(separator: "/", maxSplits: 1).map(String.init)
            let deployed = try journal.lastSucceeded(target: target)
            let last = try journal.runs(target: target, limit: 1).first
            let lock = try journal.lock(target: target)
            let interrupted = try journal.runs(target: target, limit: 10_000).filter { $0.status == .interrupted }
            let owed = try journal.inboundOwed(target: target)
            return Status(
                target: target, stack: parts.first ?? target, environment: parts.count > 1 ? parts[1] : target,
                deployedRevision: deployed?.revision, deployedRun: deployed?.id,
                lastRun: last.map { Status.LastRun(id: $0.id, kind: $0.kind, status: $0.status.rawValue, revision: $0.revision) },
                lock: lock.map { Status.Lock(runId: $0.runID, operator: $0.operatorName, host: $0.host, pid: $0.pid,
                                             since: RunSession.time($0.since),
                                             stale: !ProcessIdentity.isAlive(host: $0.host, pid: $0.pid, start: $0.pidStart)) },
                interruptedRuns: interrupted.map { run in
                    Status.Interrupted(id: run.id, revision: run.revision, operator: run.operatorName,
                                       startedAt: RunSession.time(run.startedAt), kind: run.kind,
                                       next: run.kind == "up" ? "deployctl resume \(run.id)"
                                           : run.kind == "rollback" ? "deployctl rollback \(run.target) --to \(run.revision.prefix(10))"
                                           : "deployctl show \(run.id)")
                },
                inbound: owed == nil ? "enabled" : "disabled", inboundOwedBy: owed?.runID,
                inboundOwedSince: owed.map { RunSession.time($0.since) })
        }
    }

    /// Inbound mail left disabled, for the banner every command prints. Reads only an
    /// existing journal: a state directory that does not exist yet owes nothing.
    public func owedInbound() -> [InboundOwed] {
        guard FileManager.default.fileExists(atPath: workspace.stateDirectory + "/journal.sqlite3"),
              let journal = try? Journal(directory: workspace.stateDirectory) else { return [] }
        return (try? journal.inboundOwed()) ?? []
    }

    // MARK: runs

    public struct RunSummary: Codable, Sendable {
        public let id, kind, target, status, revision, revisionSubject, `operator`, startedAt: String
        public let durationMs: Int?
        public let message: String?
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
        RunSummary(id: run.id, kind: run.kind, target: run.target, status: run.status.rawValue, revision: run.revision,
                   revisionSubject: run.revisionSubject, operator: run.operatorName, startedAt: RunSession.time(run.startedAt),
                   durationMs: run.endedAt.map { Int($0.timeIntervalSince(run.startedAt) * 1000) }, message: run.message)
    }

    // MARK: show

    public struct RunDetail: Codable, Sendable {
        public struct Step: Codable, Sendable {
            public let phase, name, status: String
            public let exitCode: Int32?
            public let signal: Int32?
            public let attempts: Int
            public let durationMs: Int?
            public let message: String?
            public let argv: [String]
            public let logPath: String?
        }
        public struct Event: Codable, Sendable {
            public let at, kind: String
            public let data: [String: String]
        }
        public let id, kind, status, revision, revisionSubject, target, `operator`, host, startedAt: String
        public let endedAt: String?
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
    }

    public func show(runID: String) throws -> RunDetail {
        let journal = try session().journal
        guard let run = try journal.run(runID) else {
            throw DeployError(.usage, "no run \(runID) in \(journal.path)", next: ["deployctl runs"])
        }
        let attempts = try journal.steps(runID: runID)
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
            return RunDetail.Step(phase: ref.phase, name: ref.name, status: last.status.rawValue, exitCode: last.exitCode,
                                  signal: last.signal, attempts: all.filter { $0.attempt > 0 }.count,
                                  durationMs: all.compactMap(\.durationMs).reduce(0, +), message: last.message,
                                  argv: last.argv, logPath: last.logPath)
        }
        let events = try journal.events(runID: runID)
        // Only a rollback that finished undoing it; one that stopped or never started is not that.
        let rolledBackBy = run.status != .rolledBack ? nil
            : try journal.runs(target: run.target, limit: 10_000).first { $0.kind == "rollback" && $0.relatedRun == run.id }?.id
        return RunDetail(
            id: run.id, kind: run.kind, status: run.status.rawValue, revision: run.revision, revisionSubject: run.revisionSubject,
            target: run.target, operator: run.operatorName, host: run.host, startedAt: RunSession.time(run.startedAt),
            endedAt: run.endedAt.map(RunSession.time), pid: run.pid, message: run.message, inputs: run.inputs,
            rollbackOf: run.kind == "rollback" ? run.relatedRun : nil, rolledBackBy: rolledBackBy,
            inboundDisabledSeconds: events.last { $0.kind == "inbound_enabled" }?.data["disabled_seconds"].flatMap { Int($0) },
            steps: steps, events: events.map { RunDetail.Event(at: RunSession.time($0.at), kind: $0.kind, data: $0.data) })
    }

    /// The log files of a run (or of one of its steps), in the order the attempts started.
    public func logFiles(runID: String, step: String?) throws -> (run: RunRecord, files: [(StepRecord, String)]) {
        let journal = try session().journal
        guard let run = try journal.run(runID) else {
            throw DeployError(.usage, "no run \(runID) in \(journal.path)", next: ["deployctl runs"])
        }
        let attempts = try journal.steps(runID: runID).filter { step == nil || $0.name == step }
        if let step, attempts.isEmpty {
            let names = Set(try journal.steps(runID: runID).map(\.name))
            throw DeployError(.usage, "run \(runID) has no step '\(step)'\(Suggestion.hint(for: step, in: names))",
                              next: ["deployctl show \(runID)"])
        }
        return (run, attempts.compactMap { attempt in attempt.logPath.map { (attempt, $0) } })
    }

    public func run(_ runID: String) throws -> RunRecord? {
        try RunSession(workspace: workspace).journal.run(runID)
    }

    // MARK: unlock

    public func unlock(target: String, reason: String) throws -> LockRecord? {
        let journal = try session().journal
        let resolved = (try? workspace.stacks.entry(for: target, at: workspace.stacks.pin("HEAD")).target) ?? target
        return try journal.breakLock(target: resolved, by: workspace.operatorName, reason: reason)
    }
}
