import Foundation

/// The rollback's steps in their fixed order. Whatever fails or interrupts it, inbound mail
/// that this sequence disabled is re-enabled (and confirmed) before it returns, unless the
/// person asked to keep it off; what was done and what was not is in the outcome's message.
struct RollbackSequence {
    let engine: RunEngine
    let session: RunSession
    let run: RunRecord
    let from: RunRecord
    let request: RollbackAction.Request
    let undo: [RunnableCommand]
    let restore: RunnableCommand?
    let backupPath: String?

    private var journal: Journal { session.journal }

    func execute() async throws -> RunOutcome {
        var done: [String] = []
        var failure: String? = nil
        var failedStep: StepRef? = nil
        let inbound = engine.steps.descriptor.inbound
        var disabledAt: Date? = nil
        // Asked before inbound goes off: nobody should sit at a prompt while mail is stopped.
        let restoreDecision = restore.map { restoreAnswer($0) }
        if restoreDecision == .unanswered || restoreDecision == .declined {
            let why = restoreDecision == .declined ? "the database restore was declined"
                : "the database restore needs an answer: run again with --yes, or --skip-db-restore to leave the database as it is"
            return RunOutcome(status: .failed, message: "rollback not started: \(why); nothing was changed",
                              failedStep: StepRef(phase: "rollback", name: "backup.restore"), needsConfirmation: restoreDecision == .unanswered)
        }

        do {
            if inbound != nil {
                try journal.oweInbound(target: run.target, runID: run.id, reason: "rollback of run \(from.id)")
                if try await engine.switchInbound(enabled: false) {
                    disabledAt = Date()
                    try journal.event("inbound_disabled", target: run.target, runID: run.id, data: ["by": run.operatorName, "confirmed": "true"])
                    done.append("inbound disabled (confirmed)")
                } else {
                    failure = "inbound mail could not be confirmed disabled, so nothing was rolled back"
                    failedStep = StepRef(phase: "inbound", name: "inbound.status")
                }
                if failure == nil, let drain = inbound?.drain, let command = engine.steps.inbound("drain", phase: "inbound") {
                    if try await waitForDrain(command, drain) {
                        done.append("inbound queue drained")
                    } else {
                        failure = "the inbound queue did not drain within \(DurationValue.format(milliseconds: drain.timeoutMs))"
                        failedStep = command.ref
                    }
                }
            }
            if failure == nil {
                for command in undo {
                    let status = try await engine.attemptAll(command)
                    guard status == .succeeded else { failure = "\(command.ref.name) \(status.rawValue)"; failedStep = command.ref; break }
                    done.append(command.ref.name)
                }
            }
            if failure == nil {
                let stackSteps = engine.steps.stackRollback()
                if let stop = try await engine.runPhase(stackSteps) {
                    failure = stop.message
                    failedStep = stop.failedStep
                } else if !stackSteps.isEmpty {
                    done.append("stack rollback steps")
                }
            }
            if failure == nil, let restore, let restoreDecision {
                if let problem = try await restoreDatabase(restore, decision: restoreDecision) {
                    failure = problem.0
                    failedStep = problem.1
                } else {
                    done.append(request.skipDatabaseRestore ? "database restore skipped (--skip-db-restore)" : "database restored from \(backupPath ?? "the backup")")
                }
            }
            if failure == nil {
                if let stop = try await engine.runPhase(engine.steps.phase(.verify)) {
                    failure = stop.message
                    failedStep = stop.failedStep
                } else {
                    done.append("verify passed")
                }
            }
        } catch {
            failure = "deployctl itself failed: \(error)"
        }
        let rolledBack = failure == nil

        // Last, on every path: inbound back on.
        var inboundNote = ""
        if inbound != nil {
            if request.keepInboundDisabled, failure == nil {
                try? journal.event("inbound_kept_disabled", target: run.target, runID: run.id, data: ["by": run.operatorName])
                inboundNote = "; inbound mail processing stays DISABLED as asked (--keep-inbound-disabled): deployctl inbound enable \(run.target)"
            } else if (try? await engine.switchInbound(enabled: true, mustFinish: true)) == true {
                let window = disabledAt.map { Int(Date().timeIntervalSince($0).rounded()) }
                try? journal.settleInbound(target: run.target, runID: run.id, by: run.operatorName)
                try? journal.event("inbound_enabled", target: run.target, runID: run.id,
                                   data: ["by": run.operatorName, "confirmed": "true", "disabled_seconds": window.map(String.init) ?? "unknown"])
                inboundNote = "; inbound re-enabled (confirmed)" + (window.map { " after \($0)s disabled" } ?? "")
            } else {
                try? journal.event("inbound_enable_failed", target: run.target, runID: run.id, data: ["by": run.operatorName])
                inboundNote = "; inbound mail processing could NOT be re-enabled and stays owed: deployctl inbound enable \(run.target)"
                failure = failure ?? "inbound mail processing could not be re-enabled"
            }
        }
        let summary = done.isEmpty ? "nothing was done" : "done: " + done.joined(separator: ", ")
        if let failure {
            let status: RunStatus = engine.cancellation.isRequested ? .cancelled : .failed
            var outcome = RunOutcome(status: status, message: "rollback stopped: \(failure); \(summary)\(inboundNote)", failedStep: failedStep)
            outcome.rolledBack = rolledBack
            return outcome
        }
        var outcome = RunOutcome(status: .succeeded, message: "rolled back to \(run.revision.prefix(10)); \(summary)\(inboundNote)")
        outcome.rolledBack = true
        return outcome
    }

    enum RestoreDecision { case restore, skip, declined, unanswered }

    private func restoreAnswer(_ restore: RunnableCommand) -> RestoreDecision {
        if request.skipDatabaseRestore { return .skip }
        if request.options.yes { return .restore }
        let question = "Restore the database from \(backupPath ?? "the backup") (taken by run \(from.id) before its migrations)? Writes since then are lost."
        switch engine.observer.confirm(question, step: StepRef(phase: "rollback", name: "backup.restore")) {
        case true?: return .restore
        case false?: return .declined
        case nil: return .unanswered
        }
    }

    /// Restores as decided before the rollback began; returns the failure, if any.
    private func restoreDatabase(_ restore: RunnableCommand, decision: RestoreDecision) async throws -> (String, StepRef?)? {
        var command = restore
        command.ref = StepRef(phase: "rollback", name: "backup.restore")
        switch decision {
        case .skip:
            try journal.event("database_restore_skipped", target: run.target, runID: run.id, data: ["by": run.operatorName, "backup": backupPath ?? ""])
            return nil
        case .declined:
            return ("the database restore was declined", command.ref)
        case .unanswered:
            return ("the database restore needs an answer: run again with --yes, or --skip-db-restore to leave the database as it is", command.ref)
        case .restore:
            break
        }
        let status = try await engine.attemptAll(command)
        try journal.event(status == .succeeded ? "backup_restored" : "backup_restore_failed", target: run.target, runID: run.id,
                          data: ["path": backupPath ?? "", "backup_of_run": from.id])
        return status == .succeeded ? nil : ("backup.restore \(status.rawValue)", command.ref)
    }

    private func waitForDrain(_ command: RunnableCommand, _ drain: DrainCheck) async throws -> Bool {
        let deadline = Date().addingTimeInterval(Double(drain.timeoutMs) / 1000)
        while true {
            let status = try await engine.attemptOnce(command) { termination, capture in
                ExpectationCheck.failures(drain.until, termination: termination, capture: capture)
            }
            if status == .succeeded { return true }
            if engine.cancellation.isRequested || Date() >= deadline { return false }
            try? await Task.sleep(nanoseconds: UInt64(drain.intervalMs) * 1_000_000)
        }
    }
}
