/// What follows a failed `up` or `resume`: when a step whose failure rolls back failed (deploy
/// and verify by default, the phases `auto_rollback:` lists, a postdeploy step with
/// `rolls_back: true`), the rollback runs by itself (the failed run's lock passes straight to
/// it), unless the person said `--no-rollback`. One place, so a resumed run follows exactly
/// the rules of the run it continues.
struct AutomaticRollback {
    let workspace: Workspace
    /// False with `--no-rollback`.
    let enabled: Bool
    /// `--db-restore` for the rollback, if given.
    let restore: RestorePolicy?
    let options: RunOptions

    /// The failed run (its `next` updated) followed by the rollback, when one ran.
    func follow(_ failed: FinishedRun, descriptor: StackDescriptor, observer: RunObserver,
                cancellation: Cancellation) async -> [FinishedRun] {
        let outcome = failed.outcome
        // A gate nobody could answer ran nothing of its step: the run waits for `resume --yes`
        // (or a rollback a person chooses), as a declined one does.
        guard outcome.status == .failed, !outcome.needsConfirmation, let step = outcome.failedStep,
              let phase = StackDescriptor.governingPhase(step), StackDescriptor.rollbackPhases.contains(phase) else { return [failed] }
        guard descriptor.failureRollsBack(step) else {
            let rule = descriptor.autoRollback.isEmpty ? "the descriptor says auto_rollback: false"
                : "auto_rollback: [\(StackDescriptor.rollbackPhases.filter(descriptor.autoRollback.contains).map(\.rawValue).joined(separator: ", "))]"
                  + (phase == .postdeploy ? " and the step has no rolls_back: true" : "")
            observer.note("\(outcome.message): not rolling back automatically (\(rule))")
            return [failed]
        }
        guard enabled else { return [failed] }
        observer.note("\(outcome.message): rolling back automatically (--no-rollback turns this off)")
        var request = RollbackAction.Request(target: failed.run.target, options: options, restore: restore)
        request.takeOverFrom = failed.run.id
        var first = failed
        do {
            guard case .finished(let rollback) = try await RollbackAction(workspace: workspace)
                .run(request, observer: observer, cancellation: cancellation) else { return [failed] }
            first.next = rollback.next
            return [first, rollback]
        } catch let error as DeployError {
            observer.note("no automatic rollback: \(error.message)")
            // The environment is degraded: status says what ran, and these are the ways back.
            first.next = ["deployctl status \(failed.run.target)"] + error.next + failed.next
            return [first]
        } catch {
            observer.note("no automatic rollback: \(error)")
            first.next = ["deployctl status \(failed.run.target)"] + failed.next
            return [first]
        }
    }
}
