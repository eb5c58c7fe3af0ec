import Foundation

/// Runs a `RollbackPlan`'s stages in order. Whatever fails or interrupts them, inbound mail
/// that this sequence disabled is re-enabled (and confirmed) before it returns, unless the
/// person asked to keep it off; what was done and what was not is in the outcome's message.
struct RollbackSequence {
    let engine: RunEngine
    let plan: RollbackPlan
    let restore: RestoreDecision?
    /// The run being undone.
    let from: RunRecord

    private var journal: Journal { engine.journal }
    private var run: RunRecord { engine.run }

    private struct Progress {
        var done: [String] = []
        var failure: String? = nil
        var failedStep: StepRef? = nil

        mutating func fail(_ why: String, at step: StepRef?) {
            failure = why
            failedStep = step
        }
    }

    func execute() async throws -> RunOutcome {
        var progress = Progress()
        let inbound = plan.inbound.flatMap { InboundSwitch(engine: engine, steps: $0) }
        var disabledAt: Date? = nil
        // Slow work that needs no guard runs before it: inbound goes off only once it is done.
        if !plan.prepare.isEmpty {
            do {
                if let stop = try await engine.runPhase(plan.prepare) {
                    progress.fail("\(stop.message) (while preparing, before inbound mail was touched)", at: stop.failedStep)
                } else {
                    progress.done.append("prepared")
                }
            } catch {
                progress.fail("deployctl itself failed while preparing: \(error)", at: progress.failedStep)
            }
            if progress.failure != nil { return stopped(progress, inboundNote: "; inbound mail was not touched", rolledBack: false) }
        }
        do {
            if let inbound {
                try journal.oweInbound(target: run.target, runID: run.id, reason: "rollback of run \(from.id)")
                if try await inbound.set(enabled: false) {
                    disabledAt = Date()
                    try journal.event(.inboundDisabled, target: run.target, runID: run.id, data: ["by": .string(run.operatorName), "confirmed": true])
                    progress.done.append("inbound disabled (confirmed)")
                    switch try await inbound.drain() {
                    case false?:
                        let wait = plan.inbound?.descriptor.inbound?.drain?.timeoutMs ?? 0
                        progress.fail("the inbound queue did not drain within \(DurationValue.format(milliseconds: wait))", at: plan.inbound?.inbound(.drain)?.ref)
                    case true?: progress.done.append("inbound queue drained")
                    case nil: break
                    }
                } else {
                    progress.fail("inbound mail could not be confirmed disabled, so nothing was rolled back", at: StepRef(phase: StepRef.Section.inbound, name: "inbound.status"))
                }
            }
            for stage in plan.stages where progress.failure == nil {
                try await run(stage, &progress)
            }
        } catch {
            progress.fail("deployctl itself failed: \(error)", at: progress.failedStep)
        }
        let rolledBack = progress.failure == nil

        // Last, on every path: inbound back on.
        var inboundNote = ""
        if let inbound {
            if plan.keepInboundDisabled, progress.failure == nil {
                try? journal.event(.inboundKeptDisabled, target: run.target, runID: run.id, data: ["by": .string(run.operatorName)])
                inboundNote = "; inbound mail processing stays DISABLED as asked (--keep-inbound-disabled): deployctl inbound enable \(run.target)"
            } else if (try? await inbound.set(enabled: true, mustFinish: true)) == true {
                var data: EventData = ["by": .string(run.operatorName), "confirmed": true]
                let window = disabledAt.map { Int(Date().timeIntervalSince($0).rounded()) }
                if let window { data["disabled_seconds"] = .int(window) }
                try? journal.settleInbound(target: run.target, runID: run.id, by: run.operatorName)
                try? journal.event(.inboundEnabled, target: run.target, runID: run.id, data: data)
                inboundNote = "; inbound re-enabled (confirmed)" + (window.map { " after \($0)s disabled" } ?? "")
            } else {
                try? journal.event(.inboundEnableFailed, target: run.target, runID: run.id, data: ["by": .string(run.operatorName)])
                inboundNote = "; inbound mail processing could NOT be re-enabled and stays owed: deployctl inbound enable \(run.target)"
                if progress.failure == nil { progress.failure = "inbound mail processing could not be re-enabled" }
            }
        }
        if progress.failure != nil { return stopped(progress, inboundNote: inboundNote, rolledBack: rolledBack) }
        let summary = progress.done.isEmpty ? "nothing was done" : "done: " + progress.done.joined(separator: ", ")
        var outcome = RunOutcome(status: .succeeded, message: "rolled back to \(run.revision.prefix(10)); \(summary)\(inboundNote)")
        outcome.rolledBack = true
        return outcome
    }

    private func stopped(_ progress: Progress, inboundNote: String, rolledBack: Bool) -> RunOutcome {
        let summary = progress.done.isEmpty ? "nothing was done" : "done: " + progress.done.joined(separator: ", ")
        var outcome = RunOutcome(status: engine.cancellation.isRequested ? .cancelled : .failed,
                                 message: "rollback stopped: \(progress.failure ?? "?"); \(summary)\(inboundNote)", failedStep: progress.failedStep)
        outcome.signal = engine.cancellation.signal
        outcome.rolledBack = rolledBack
        return outcome
    }

    private func run(_ stage: RollbackPlan.Stage, _ progress: inout Progress) async throws {
        switch stage {
        case .undo(let command):
            let status = try await engine.attemptAll(command)
            guard status == .succeeded else { return progress.fail("\(command.ref.name) \(status.rawValue)", at: command.ref) }
            progress.done.append(command.ref.name)
        case .stackRollback(let commands), .verify(let commands):
            guard !commands.isEmpty else { return }
            if let stop = try await engine.runPhase(commands) { return progress.fail(stop.message, at: stop.failedStep) }
            if case .verify = stage { progress.done.append("verify passed") } else { progress.done.append("stack rollback steps") }
        case .database(let restoreCommand, let check):
            let path = plan.backup?.data["path"]?.description ?? "the backup"
            guard let restore, restore.restore else {
                try journal.event(.databaseRestoreSkipped, target: run.target, runID: run.id,
                                  data: ["by": .string(run.operatorName), "backup": .string(path)])
                return progress.done.append("database kept as it is (\(restore?.why ?? "not decided"))")
            }
            if let problem = try await DatabaseBackup.restore(plan.backup, with: restoreCommand, check: check, engine: engine, backupOfRun: from.id) {
                return progress.fail(problem, at: StepRef(phase: StepRef.Section.rollback, name: "backup.restore"))
            }
            progress.done.append("database restored from \(path)")
        }
    }
}
