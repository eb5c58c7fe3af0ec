/// A rollback's steps in their fixed order, built once from the two revisions: `--dry-run`
/// prints it, the rollback runs it (`RollbackSequence`), and the preflight checks it, so the
/// three cannot disagree about what happens.
struct RollbackPlan {
    enum Stage {
        /// A completed step's own `rollback:` command, from the revision being undone.
        case undo(RunnableCommand)
        /// The target descriptor's stack-level `rollback:` steps.
        case stackRollback([RunnableCommand])
        /// The undone run's backup: restored (then checked), or kept, as decided before inbound goes off.
        case database(restore: RunnableCommand, check: RunnableCommand?)
        /// The target descriptor's verify phase.
        case verify([RunnableCommand])
    }

    /// One line of the sequence as a person or a machine reads it.
    struct Line: Codable, Sendable, Hashable {
        var step: String
        var command: String?
        var note: String?
    }

    /// The target revision's `rollback_prepare:` steps: run first, while inbound mail is still
    /// on; if one fails, nothing else runs and inbound is never touched.
    let prepare: [RunnableCommand]
    /// Whose `inbound:` guard runs around the stages, if any: off (owed, confirmed, drained)
    /// before the first, on (confirmed) after the last, whatever happens in between.
    let inbound: RunnableSteps?
    /// True when the target revision has no `inbound:` and the undone revision's guard is used.
    let guardBorrowed: Bool
    let stages: [Stage]
    /// The `backup_taken` event of the undone run, when it took one.
    let backup: EventRecord?
    /// `backup.fetch` of the undone revision (shared storage), run before anything changes when
    /// the backup a restore needs is not on this machine as the journal recorded it.
    var fetch: RunnableCommand? = nil
    /// What `backup.on_rollback` of the undone revision says.
    let declaredRestore: RestorePolicy
    let requestedRestore: RestorePolicy?
    /// An earlier attempt to roll back the same run restored this backup already.
    let restoredBefore: Bool
    let keepInboundDisabled: Bool

    /// Whether the database stage restores: decided once, before inbound goes off. `ask` is
    /// called only when a person decides; a dry run passes `{ nil }` (what an unattended run does).
    func decide(ask: () -> Bool?) -> RestoreDecision? {
        guard restoreCommand != nil else { return nil }
        return RestoreDecision.resolve(declared: declaredRestore, flag: requestedRestore, restoredBefore: restoredBefore, ask: ask)
    }

    /// The lines `--dry-run` prints, in order: the stages, between inbound off and on.
    func lines() -> [Line] {
        var lines: [Line] = []
        if let fetch, decide(ask: { nil })?.restore == true {
            lines.append(Line(step: "backup.fetch", command: ShellQuote.join(fetch.shownArgv),
                              note: "when the backup is not on this machine as the journal recorded it; checked again after"))
        }
        lines += prepare.map { Line(step: "prepare/\($0.ref.name)", command: ShellQuote.join($0.shownArgv),
                                    note: $0.skipped ? $0.skipReason : "before inbound mail goes off") }
        let guardNote = guardBorrowed ? "the guard of the revision being undone: the target revision declares no inbound:" : nil
        if let inbound {
            lines.append(Line(step: "record", command: nil, note: "inbound re-enable owed by this rollback"))
            if let disable = inbound.inbound(.disable) { lines.append(Line(step: "inbound.disable", command: ShellQuote.join(disable.shownArgv), note: guardNote)) }
            if let status = inbound.inbound(.status) { lines.append(Line(step: "inbound.status", command: ShellQuote.join(status.shownArgv), note: "until it reads disabled")) }
            if let drain = inbound.inbound(.drain) { lines.append(Line(step: "inbound.drain", command: ShellQuote.join(drain.shownArgv), note: "until the queue is empty")) }
        }
        for stage in stages {
            switch stage {
            case .undo(let command): lines.append(Line(step: command.ref.name, command: ShellQuote.join(command.shownArgv), note: nil))
            case .stackRollback(let commands):
                lines += commands.map { Line(step: "rollback/\($0.ref.name)", command: ShellQuote.join($0.shownArgv), note: $0.skipped ? $0.skipReason : nil) }
            case .database(let restore, let check):
                let how = restoredBefore && requestedRestore == nil ? "keeps the database: an earlier attempt already restored it"
                    : RestoreDecision.describe(declared: declaredRestore, flag: requestedRestore)
                lines.append(Line(step: "backup.restore", command: ShellQuote.join(restore.shownArgv),
                                  note: "the backup \(backup?.data["path"]?.description ?? "") taken before the undone run's migrations: \(how)"))
                if let check { lines.append(Line(step: "backup.check", command: ShellQuote.join(check.shownArgv), note: "must print what it printed when the backup was taken")) }
            case .verify(let commands):
                lines += commands.map { Line(step: "verify/\($0.ref.name)", command: ShellQuote.join($0.shownArgv), note: $0.skipped ? $0.skipReason : nil) }
            }
        }
        if let inbound {
            if keepInboundDisabled {
                lines.append(Line(step: "inbound", command: nil, note: "stays DISABLED (--keep-inbound-disabled)"))
            } else {
                if let enable = inbound.inbound(.enable) { lines.append(Line(step: "inbound.enable", command: ShellQuote.join(enable.shownArgv), note: "on every path, failures included")) }
                if let status = inbound.inbound(.status) { lines.append(Line(step: "inbound.status", command: ShellQuote.join(status.shownArgv), note: "until it reads enabled")) }
            }
        }
        return lines
    }

    /// Every command the rollback may start, for the preflight: they must all be runnable. The
    /// database's restore and check only when it restores (`--db-restore keep` runs neither).
    func commands(restoring: Bool) -> [RunnableCommand] {
        var all = prepare.filter { !$0.skipped }
        if let inbound { all += [.disable, .status, .drain, .enable].compactMap { inbound.inbound($0) } }
        for stage in stages {
            switch stage {
            case .undo(let command): all.append(command)
            case .stackRollback(let commands), .verify(let commands): all += commands.filter { !$0.skipped }
            case .database(let restore, let check): if restoring { all += [restore] + (check.map { [$0] } ?? []) }
            }
        }
        return all
    }

    var restoreCommand: RunnableCommand? {
        for case .database(let restore, _) in stages { return restore }
        return nil
    }
}
