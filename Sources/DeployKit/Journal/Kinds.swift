/// What a run is. Stored by its raw value; `deploys` says which runs change what is deployed.
public enum RunKind: String, Sendable, Codable, CaseIterable {
    case up, rollback, runbook
    /// `deployctl check`: the deployed revision's verify phase, read-only.
    case check
    case inboundStatus = "inbound-status"
    case inboundEnable = "inbound-enable"
    case inboundDisable = "inbound-disable"

    /// Runs that change what is deployed (the others read, or flip only the inbound switch).
    public var deploys: Bool { self == .up || self == .rollback }
}

/// Everything the journal records besides steps. One name per fact: the journal, the status,
/// the reports and the stores all match on these cases, never on text.
public enum EventKind: String, Sendable, Codable, CaseIterable {
    // The deploy lock.
    case lockAcquired = "lock_acquired"
    case lockReleased = "lock_released"
    case lockStaleTakenOver = "lock_stale_taken_over"
    case lockHandedOver = "lock_handed_over"
    case lockBroken = "lock_broken"
    /// `unlock --force --kill`: the live holder was sent SIGTERM first.
    case lockHolderStopped = "lock_holder_stopped"
    // Inbound mail.
    case inboundOwed = "inbound_owed"
    case inboundSettled = "inbound_settled"
    case inboundDisabled = "inbound_disabled"
    case inboundEnabled = "inbound_enabled"
    case inboundEnableFailed = "inbound_enable_failed"
    case inboundKeptDisabled = "inbound_kept_disabled"
    /// A rollback to a revision without `inbound:` used the guard of the revision it undid.
    case inboundGuardBorrowed = "inbound_guard_borrowed"
    // The database backup.
    case backupTaken = "backup_taken"
    /// A rollback on a machine without the backup brought it from shared storage (`backup.fetch`).
    case backupFetched = "backup_fetched"
    /// How a rollback decided about the restore (policy, flag, answer, or no terminal).
    case restoreDecided = "restore_decided"
    case backupRestored = "backup_restored"
    case backupRestoreFailed = "backup_restore_failed"
    /// The restore was not run (`on_rollback: keep`, `--db-restore keep`, or declined).
    case databaseRestoreSkipped = "database_restore_skipped"
    // Gates, runs, marks.
    case confirmed, declined
    case interruptedDetected = "interrupted_detected"
    case resumed
    case revisionMarkedBad = "revision_marked_bad"
    case runbookStarted = "runbook_started"
    case checkStarted = "check_started"
    case notifySent = "notify_sent"
    case notifyFailed = "notify_failed"
    // GitOps: what was deployed against what the team pushed and signed.
    /// `up --rev` of a commit the tracked branch does not contain (`--allow-untracked-revision`).
    case untrackedRevisionAllowed = "untracked_revision_allowed"
    /// Who signed the deployed commit (and each commit since the last deploy, when asked).
    case signatureVerified = "signature_verified"
    /// An `up` passed its `promotion:` gate: from which environment, by which of its runs.
    case promotionPassed = "promotion_passed"
    /// A run with kept releases started: the hosts whose `current` it may move (`ReleaseLayout`).
    case releasePlanned = "release_planned"
    /// An unsigned, badly signed or untrusted commit was refused (no run: the event names the target).
    case signatureRefused = "signature_refused"
    /// `deployctl release TARGET`: `sync` may deploy it again after a rollback held it.
    case holdReleased = "hold_released"
}
