/// Which deploy a rollback undoes and which run it goes back to, decided from the runs and the
/// environment's state: the one answer `rollback` acts on and `status` suggests. Pure.
struct RollbackChoice {
    /// The `up` whose completed steps are undone and whose backup may be restored.
    let undo: RunRecord
    /// The newest `up` that succeeded before `undo` at another revision not marked bad; nil
    /// when there is none (then `--to` must say where).
    let target: RunRecord?

    enum Problem: Error {
        /// No `up` has run (or every one is rolled back or still running).
        case nothingToUndo
        /// What is live came from a rollback to a revision no `up` deployed.
        case reachedByRollback(RunRecord)
    }

    /// `handedOver`: the failed `up` whose automatic rollback this is.
    static func make(history: [RunRecord], state: EnvironmentState, bad: Set<String>, handedOver: String? = nil) -> Result<RollbackChoice, Problem> {
        func run(_ id: String?) -> RunRecord? { id.flatMap { id in history.first { $0.id == id } } }
        let ups = history.filter { $0.kind == .up && $0.status != .rolledBack && $0.status != .running }
        let undo: RunRecord
        if let handed = run(handedOver) {
            undo = handed
        } else if let degraded = state.degraded, let run = run(degraded.kind == .rollback ? degraded.rollbackOf : degraded.run) {
            // What last changed things: the up that failed, or the one a stopped rollback was undoing.
            undo = run
        } else if let deployed = state.deployed, let live = run(deployed.run) {
            // What is live, and the up that put it there (a rollback re-deploys an earlier up's revision).
            guard let up = live.kind == .up ? live : ups.first(where: { $0.revision == live.revision && $0.startedAt <= live.startedAt && $0.status == .succeeded }) else {
                return .failure(.reachedByRollback(live))
            }
            undo = up
        } else if let newest = ups.first {
            undo = newest
        } else {
            return .failure(.nothingToUndo)
        }
        return .success(RollbackChoice(undo: undo, target: target(undoing: undo, history: history, bad: bad)))
    }

    /// Where a rollback of `undo` goes (`history` newest first): also what `undo`'s own
    /// `release.activate` must not prune.
    static func target(undoing undo: RunRecord, history: [RunRecord], bad: Set<String>) -> RunRecord? {
        history.first {
            $0.kind == .up && $0.status == .succeeded && $0.startedAt < undo.startedAt && $0.id != undo.id
                && $0.revision != undo.revision && !bad.contains($0.revision)
        }
    }
}
