/// Whether a rollback restores the database backup of the run it undoes, and why. Decided
/// once, before inbound mail goes off: nobody sits at a prompt while mail is stopped, and a
/// run with nobody to ask still ends with the environment good or clearly not.
struct RestoreDecision: Sendable, Hashable {
    enum Source: String, Sendable {
        /// `backup.on_rollback` in the descriptor of the undone revision.
        case descriptor
        /// `--db-restore` for this run.
        case flag
        /// A person answered the question.
        case answer
        /// `ask` with no terminal to ask: restore, as README documents.
        case unattended
        /// An earlier attempt to roll back the same run restored this backup already: mail
        /// has been on since, so restoring again would lose those writes (`--db-restore` can).
        case alreadyRestored = "already_restored"
    }

    let restore: Bool
    let policy: RestorePolicy
    let source: Source

    /// `--db-restore` wins over the descriptor; `ask` asks, and with nobody to ask restores:
    /// the rollback's promise is the last verified state, schema included, and the backup is
    /// the verified one the undone run took just before its migrations.
    static func resolve(declared: RestorePolicy, flag: RestorePolicy?, restoredBefore: Bool, ask: () -> Bool?) -> RestoreDecision {
        if restoredBefore, flag == nil { return RestoreDecision(restore: false, policy: declared, source: .alreadyRestored) }
        let policy = flag ?? declared
        let source: Source = flag == nil ? .descriptor : .flag
        switch policy {
        case .restore: return RestoreDecision(restore: true, policy: policy, source: source)
        case .keep: return RestoreDecision(restore: false, policy: policy, source: source)
        case .ask:
            guard let answer = ask() else { return RestoreDecision(restore: true, policy: policy, source: .unattended) }
            return RestoreDecision(restore: answer, policy: policy, source: .answer)
        }
    }

    /// What a dry run says will happen, without asking.
    static func describe(declared: RestorePolicy, flag: RestorePolicy?) -> String {
        switch flag ?? declared {
        case .restore: return "restores it" + (flag == nil ? " (on_rollback: restore)" : " (--db-restore restore)")
        case .keep: return "keeps the database as it is" + (flag == nil ? " (on_rollback: keep)" : " (--db-restore keep)")
        case .ask: return "asks first on a terminal; with no terminal it restores (on_rollback: ask)"
        }
    }

    /// Why, in a few words: `on_rollback: keep`, `--db-restore restore`, …
    var why: String {
        switch source {
        case .descriptor: return "on_rollback: \(policy.rawValue)"
        case .flag: return "--db-restore \(policy.rawValue)"
        case .answer: return "answered at the terminal"
        case .unattended: return "on_rollback: ask with no terminal to ask restores"
        case .alreadyRestored: return "an earlier attempt already restored this backup; --db-restore restore would restore it again"
        }
    }

    var sentence: String {
        (restore ? "restore the database" : "keep the database as the migrations left it") + " (\(why))"
    }

    var eventData: EventData {
        ["restore": .bool(restore), "policy": .string(policy.rawValue), "source": .string(source.rawValue)]
    }
}
