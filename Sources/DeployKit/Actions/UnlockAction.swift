import Foundation

/// `deployctl unlock TARGET --force --reason "…" [--kill]`: breaks an environment's deploy lock,
/// recording who and why. A holder that is alive on this machine is not broken silently: that
/// would let a second run start beside the first. `--kill` stops it first (SIGTERM, as Ctrl-C
/// does: its steps are stopped and it records itself cancelled), then breaks what is left.
public struct UnlockAction {
    public struct Result: Sendable {
        /// The lock this command broke (nil when there was none left to break).
        public let broken: LockRecord?
        /// The holder that was alive here and was stopped with SIGTERM first.
        public let stopped: LockRecord?
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(target: String, reason: String, kill: Bool, waitMs: Int = 60_000) throws -> Result {
        let session = try RunSession(workspace: workspace)
        try session.requireWriter(to: "unlock \(target)")
        try session.sweepInterrupted(target: nil)
        let resolved = (try? workspace.stacks.entry(for: target, at: workspace.stacks.pin("HEAD")).target) ?? target
        guard let holder = try session.journal.lock(target: resolved) else { return Result(broken: nil, stopped: nil) }
        let here = holder.host == ProcessIdentity.hostName
        let alive = try session.journal.isAlive(holder)
        var stopped: LockRecord? = nil
        if alive, !here, session.journal.store.knowsOtherMachines {
            // The store knows the holder's connection is open: its process still runs there.
            throw DeployError(.refused, "\(resolved) is locked by run \(holder.runID), which is still running on \(holder.host) (pid \(holder.pid), \(holder.operatorName)): its connection to the store is open; breaking its lock would let a second run start beside it; nothing was changed",
                              next: ["wait for it: deployctl logs \(holder.runID)",
                                     "or stop it on \(holder.host) (Ctrl-C there, or kill \(holder.pid)); its lock goes with it"])
        }
        if alive, here {
            guard kill else {
                throw DeployError(.refused, "\(resolved) is locked by run \(holder.runID), which is still running here (pid \(holder.pid), \(holder.operatorName)); breaking its lock would let a second run start beside it; nothing was changed",
                                  next: ["wait for it: deployctl logs \(holder.runID) --follow",
                                         "or stop it and break the lock: deployctl unlock \(resolved) --force --reason \"\(reason)\" --kill"])
            }
            try session.journal.event(.lockHolderStopped, target: resolved, runID: holder.runID,
                                      data: ["by": .string(workspace.operatorName), "reason": .string(reason), "pid": .int(Int(holder.pid))])
            Foundation.kill(holder.pid, SIGTERM)
            stopped = holder
            let deadline = Date().addingTimeInterval(Double(waitMs) / 1000)
            while ProcessIdentity.isAlive(host: holder.host, pid: holder.pid, start: holder.pidStart), Date() < deadline {
                usleep(100_000)
            }
            if ProcessIdentity.isAlive(host: holder.host, pid: holder.pid, start: holder.pidStart) {
                throw DeployError(.refused, "run \(holder.runID) (pid \(holder.pid)) is still running \(waitMs / 1000)s after SIGTERM; its lock was not broken",
                                  next: ["kill -KILL \(holder.pid)", "then: deployctl unlock \(resolved) --force --reason \"\(reason)\""])
            }
            // It released its own lock on the way out (and recorded itself cancelled).
            try session.sweepInterrupted(target: resolved)
        }
        // Only the lock this command looked at: another run may have taken it meanwhile.
        let broken = try session.journal.breakLock(target: resolved, runID: holder.runID, by: workspace.operatorName, reason: reason)
        return Result(broken: broken, stopped: stopped)
    }
}
