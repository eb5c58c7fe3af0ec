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
        return ProcessIdentity(host: ProcessInfo.processInfo.hostName, pid: pid, start: ps_process_start_time(pid))
    }

    public static func start(of pid: Int32) -> UInt64 { ps_process_start_time(pid) }

    /// True while any process of the group exists (a step's processes outliving deployctl).
    public static func groupAlive(_ group: Int32) -> Bool {
        group > 0 && (kill(-group, 0) == 0 || errno == EPERM)
    }

    /// True unless the process is known to be gone. On another host nobody can tell: alive.
    public static func isAlive(host: String, pid: Int32, start: UInt64) -> Bool {
        guard host == ProcessInfo.processInfo.hostName else { return true }
        let now = ps_process_start_time(pid)
        return now != 0 && (start == 0 || now == start)
    }
}

/// What `up` and `resume` share: the journal, the lock, the exported tree and the engine.
struct RunSession {
    let workspace: Workspace
    let journal: Journal

    init(workspace: Workspace) throws {
        self.workspace = workspace
        do {
            journal = try Journal(directory: workspace.stateDirectory)
        } catch {
            throw DeployError(.failed, "cannot open the journal in \(workspace.stateDirectory): \(error)",
                              next: ["check the state directory is writable, or pass --state DIR"])
        }
    }

    /// Marks runs of `target` whose process is gone as interrupted (kill -9, power loss).
    @discardableResult
    func sweepInterrupted(target: String?) throws -> [RunRecord] {
        var found: [RunRecord] = []
        for run in try journal.runs(status: .running) where target == nil || run.target == target {
            if !ProcessIdentity.isAlive(host: run.host, pid: run.pid, start: run.pidStart) {
                try journal.markInterrupted(runID: run.id)
                try journal.event("interrupted_detected", target: run.target, runID: run.id,
                                  data: ["by": workspace.operatorName, "holder_pid": "\(run.pid)"])
                found.append(run)
            }
        }
        return found
    }

    /// Takes the environment's lock or throws the exit-3 error naming the holder.
    func lock(target: String, runID: String, observer: RunObserver?) throws {
        let me = ProcessIdentity.current
        let record = LockRecord(target: target, runID: runID, operatorName: workspace.operatorName, host: me.host,
                                pid: me.pid, pidStart: me.start, since: Date())
        switch try journal.acquireLock(record, isAlive: { ProcessIdentity.isAlive(host: $0.host, pid: $0.pid, start: $0.pidStart) }) {
        case .acquired:
            return
        case .tookOverStale(let previous):
            observer?.note("took over a stale lock: run \(previous.runID) by \(previous.operatorName) (pid \(previous.pid), gone) held it since \(Self.time(previous.since))")
        case .held(let holder):
            throw DeployError(.locked,
                              "\(target) is locked by run \(holder.runID): \(holder.operatorName) on \(holder.host), pid \(holder.pid), since \(Self.time(holder.since))",
                              next: ["wait for it: deployctl status \(target)",
                                     "if that run is truly dead: deployctl unlock \(target) --force --reason \"…\""])
        }
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
        _ = FileManager.default.createFile(atPath: temporary + "/.deployctl-exported", contents: Data(revision.sha.utf8))  // without it, the next run exports again
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
        return env
    }

    static func time(_ date: Date) -> String {
        let t = Int(date.timeIntervalSince1970)
        let d = RunClock.civil(days: t / 86_400)
        let s = t % 86_400
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ago = Int(Date().timeIntervalSince(date))
        let since = ago < 120 ? "\(ago)s ago" : ago < 7200 ? "\(ago / 60)m ago" : "\(ago / 3600)h ago"
        return "\(d.year)-\(two(d.month))-\(two(d.day)) \(two(s / 3600)):\(two(s % 3600 / 60)):\(two(s % 60)) UTC (\(since))"
    }
}

/// Times as people read them in deployctl's messages: `2026-11-22 19:28:51 UTC (3m ago)`.
public enum TimeText {
    public static func describe(_ date: Date) -> String { RunSession.time(date) }
}
