/// What follows a failed `up` or `resume`: when deploy or verify failed, the rollback runs by
/// itself (the failed run's lock passes straight to it), unless the descriptor says
/// `auto_rollback: false` or the person said `--no-rollback`. One place, so a resumed run
/// follows exactly the rules of the run it continues.
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
        let phase = outcome.failedStep.flatMap { Phase(rawValue: $0.phase) }
        guard outcome.status == .failed, phase == .deploy || phase == .verify else { return [failed] }
        guard descriptor.autoRollback else {
            observer.note("\(outcome.message): not rolling back automatically (the descriptor says auto_rollback: false)")
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
