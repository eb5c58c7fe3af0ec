import Foundation
import ProcessSupport

/// Who this process is, as locks and runs record it: host, pid, and the pid's start time
/// (so a reused pid never passes for the original holder).
public struct ProcessIdentity: Sendable {
    public let host: String
    public let pid: Int32
    public let start: UInt64

    public static var current: ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(host: hostName, pid: pid, start: ps_process_start_time(pid))
    }

    /// The name runs and locks record for this machine: `DEPLOYCTL_HOST`, else the host name.
    /// Set it where host names are not stable or not unique (containers, CI runners), so a
    /// shared store can tell machines apart.
    public static let hostName: String = {
        if let named = ProcessEnvironment.current["DEPLOYCTL_HOST"], !named.isEmpty { return named }
        return ProcessInfo.processInfo.hostName
    }()

    public static func start(of pid: Int32) -> UInt64 { ps_process_start_time(pid) }

    /// True while a process of the group can still run (a step's processes outliving
    /// deployctl). Zombies cannot: where nobody reaps them, they would otherwise count forever.
    public static func groupAlive(_ group: Int32) -> Bool {
        guard group > 0 else { return false }
        switch ps_group_alive(group) {
        case 0: return false
        case 1: return true
        default: return kill(-group, 0) == 0 || errno == EPERM
        }
    }

    /// True unless the process is known to be gone (or a zombie). On another host nobody can tell: alive.
    public static func isAlive(host: String, pid: Int32, start: UInt64) -> Bool {
        guard host == hostName else { return true }
        let now = ps_process_alive(pid)
        return now != 0 && (start == 0 || now == start)
    }
}

/// What every run shares: the journal, the lock, the exported tree, the log folder, the plans.
struct RunSession {
    let workspace: Workspace
    let journal: Journal

    init(workspace: Workspace) throws {
        self.workspace = workspace
        journal = try workspace.openJournal()
    }

    /// Marks runs of `target` whose process is gone as interrupted (kill -9, power loss).
    @discardableResult
    func sweepInterrupted(target: String?) throws -> [RunRecord] {
        var found: [RunRecord] = []
        // A reader's role cannot record it: such a run shows as running until a writer's command looks.
        guard journal.store.canWrite else { return [] }
        for run in try journal.runs(status: .running) where target == nil || run.target == target {
            if try !journal.isAlive(run) {
                try journal.markInterrupted(runID: run.id)
                try journal.event(.interruptedDetected, target: run.target, runID: run.id,
                                  data: ["by": .string(workspace.operatorName), "holder_pid": .int(Int(run.pid))])
                found.append(run)
            }
        }
        return found
    }

    /// A run by its id or a unique prefix of it, as a usage error when there is none.
    func run(_ idOrPrefix: String) throws -> RunRecord {
        do {
            return try journal.resolveRun(idOrPrefix)
        } catch let error as JournalError {
            throw DeployError(.usage, "\(error)", next: ["deployctl runs   (lists run ids; any unique prefix of one works)"])
        }
    }

    /// `up` and `resume` must not deploy while a rollback's inbound re-enable is still owed:
    /// the next rollback would find mail already off and leave it so.
    func refuseWhileInboundOwed(target: String, command: String, allowReenable: Bool) throws {
        guard let owed = try journal.inboundOwed(target: target) else { return }
        var next = ["re-enable it first: deployctl inbound enable \(target)", "then: \(command)"]
        if allowReenable { next.append("or both at once: \(command) --reenable-inbound") }
        throw DeployError(.refused, "inbound mail processing for \(target) is still disabled, owed by run \(owed.runID) since \(Timestamp.human(owed.since)); running now would leave it off; nothing was run",
                          next: next)
    }

    /// Takes the environment's lock or throws the exit-3 error naming the holder. While held,
    /// losing a shared store stops the run (`cancellation`) the way Ctrl-C does: a run that
    /// cannot record what it does must not go on doing it.
    func lock(target: String, runID: String, command: RunKind, observer: RunObserver?, cancellation: Cancellation? = nil) throws {
        try requireWriter(to: "\(command.rawValue) \(target)")
        let me = ProcessIdentity.current
        let record = LockRecord(target: target, runID: runID, operatorName: workspace.operatorName, host: me.host,
                                pid: me.pid, pidStart: me.start, since: Date(), command: command.rawValue)
        switch try journal.acquireLock(record) {
        case .acquired:
            break
        case .tookOverStale(let previous):
            observer?.note("took over a stale lock: run \(previous.runID) by \(previous.operatorName) on \(previous.host) (pid \(previous.pid), gone) held it since \(Timestamp.human(previous.since))")
        case .held(let holder):
            throw Self.locked(target, by: holder)
        }
        let store = journal.path
        journal.store.watch { why in
            observer?.note("lost the state store \(store) (\(why)): stopping running steps as Ctrl-C does; no further step starts")
            cancellation?.request(signal: SIGTERM)
        }
    }

    /// Refuses (exit 4, before anything happens) when this store only lets us read.
    func requireWriter(to doing: String) throws {
        try Self.requireWriter(journal, to: doing)
    }

    static func requireWriter(_ journal: Journal, to doing: String = "writing to it") throws {
        guard !journal.store.canWrite else { return }
        throw DeployError(.refused, "the store \(journal.path) is read-only for this role: it can show status, runs, show, logs and report, but \(doing) needs the writer role; nothing was run",
                          next: ["run it as the writer role (README: \"A shared store (PostgreSQL)\", Roles)"])
    }

    /// Throws the exit-3 error when a live run holds the lock (a look, not a take: nothing is written).
    func refuseWhileLocked(target: String) throws {
        if let holder = try journal.liveHolder(target: target) {
            throw Self.locked(target, by: holder)
        }
    }

    private static func locked(_ target: String, by holder: LockRecord) -> DeployError {
        let doing = holder.command.isEmpty ? "" : " (\(holder.command))"
        return DeployError(.locked, "\(target) is locked by run \(holder.runID)\(doing): \(holder.operatorName) on \(holder.host), pid \(holder.pid), since \(Timestamp.human(holder.since))"
                    + (holder.heartbeat.map { ", last heartbeat \(Timestamp.human($0))" } ?? ""),
                    next: ["wait for it: deployctl status \(target)",
                           "if that run is truly dead: deployctl unlock \(target) --force --reason \"…\""])
    }

    /// The pinned commit's files, exported once per revision; steps run inside it.
    func tree(for revision: PinnedRevision) throws -> String {
        let trees = workspace.stateDirectory + "/trees"
        let final = "\(trees)/\(revision.sha)"
        let marker = final + "/.deployctl-exported"
        if FileManager.default.fileExists(atPath: marker) { return final }
        try FileManager.default.createDirectory(atPath: trees, withIntermediateDirectories: true)
        _ = StateDirectory(path: workspace.stateDirectory).directory("trees")
        let temporary = "\(trees)/.\(revision.sha).\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        try workspace.stacks.repository.export(revision.id, to: temporary)
        _ = FileManager.default.createFile(atPath: temporary + "/.deployctl-exported", contents: revision.sha.utf8Data)  // without it, the next run exports again
        if rename(temporary, final) != 0 {
            // Another run exported the same commit first (rename refuses a non-empty target):
            // use theirs, never delete a tree steps may be running in.
            try? FileManager.default.removeItem(atPath: temporary)
            guard FileManager.default.fileExists(atPath: marker) else {
                throw DeployError(.failed, "cannot move the exported tree into \(final)")
            }
        }
        return final
    }

    func logDirectory(runID: String) throws -> String {
        let path = workspace.stateDirectory + "/logs/" + runID
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Plans twice from the same descriptor: masked (records) and revealed (processes).
    static func plans(_ descriptor: StackDescriptor, _ context: PlanContext, target: String) throws -> (Plan, Plan) {
        let (masked, problems) = Planner.plan(descriptor, context, secrets: .mask)
        if problems.hasErrors {
            throw DeployError(.usage, "cannot run \(target): \(problems.errors.count) problem(s) resolving the steps; nothing was run",
                              diagnostics: problems)
        }
        let (revealed, _) = Planner.plan(descriptor, context, secrets: .reveal)
        return (masked, revealed)
    }

    /// The environment every step starts from: deployctl's own, plus where the run is.
    func baseEnvironment(run: RunRecord, tree: String) -> [String: String] {
        var env = workspace.environment
        env["DEPLOYCTL_RUN_ID"] = run.id
        env["DEPLOYCTL_TARGET"] = run.target
        env["DEPLOYCTL_REVISION"] = run.revision
        env["DEPLOYCTL_TREE"] = tree
        env["DEPLOYCTL_STATE"] = workspace.stateDirectory
        // The store's own password is deployctl's, not the steps'.
        if case .postgres(let url) = workspace.store, let variable = url.passwordVariable { env[variable] = nil }
        return env
    }
}
