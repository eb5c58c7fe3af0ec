import Foundation

/// A run's database backup: taken and verified before the first migration (with what
/// `backup.check` prints of the database then), and restored when a migration fails or a
/// rollback restores it. A restore counts only when `backup.check` prints the same as when
/// the backup was taken.
struct DatabaseBackup {
    let engine: RunEngine
    /// The descriptor whose `backup:` block applies, planned with the run that took the backup.
    let steps: RunnableSteps

    private var journal: Journal { engine.journal }
    private var run: RunRecord { engine.run }

    /// Takes and verifies the backup; returns the failure that stops the run, if any.
    func take() async throws -> RunOutcome? {
        guard let take = steps.backup(.take), let verify = steps.backup(.verify),
              let path = steps.revealed.phase(.migrate).backup?.path else { return nil }
        if engine.done.contains(take.ref), engine.done.contains(verify.ref) {
            engine.observer.note("backup already taken and verified by this run; not taking another over a half-migrated database")
            // Recorded unless the process that took it stopped first (then: record it now).
            if try journal.events(runID: run.id).contains(where: { $0.kind == .backupTaken }) { return nil }
        }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        for command in [take, verify] where !(engine.done.contains(take.ref) && engine.done.contains(verify.ref)) {
            switch try await engine.attemptAll(command) {
            case .succeeded: continue
            case .cancelled: return engine.cancelledOutcome() ?? RunOutcome(status: .cancelled, message: "stopped during \(command.ref.name)")
            default: return RunOutcome(status: .failed, message: "\(command.ref.name) failed; no migration ran", failedStep: command.ref)
            }
        }
        let planned = steps.masked.phase(.migrate).backup
        let shownPath = planned?.path ?? path
        var data: EventData = ["path": .string(shownPath), "restore": .string(ShellQuote.join(planned?.restore.argv ?? []))]
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeRegular,
           let size = attributes[.size] as? NSNumber {
            data["size"] = .int(size.intValue)
            if let sha = Checksum.sha256(ofFile: path) { data["sha256"] = .string(sha) }
        }
        if let check = steps.backup(.check) {
            switch try await Self.reading(check, engine: engine) {
            case .success(let output): data["check_output"] = .string(output)
            case .failure(let why):
                return RunOutcome(status: .failed, message: "backup.check failed (\(why)); no migration ran", failedStep: check.ref)
            }
        }
        if let push = steps.backup(.push), !engine.done.contains(push.ref) {
            switch try await engine.attemptAll(push) {
            case .succeeded: data["pushed"] = .bool(true)
            case .cancelled: return engine.cancelledOutcome() ?? RunOutcome(status: .cancelled, message: "stopped during \(push.ref.name)")
            default: return RunOutcome(status: .failed, message: "backup.push failed: the backup is only on this machine; no migration ran", failedStep: push.ref)
            }
        }
        try journal.event(.backupTaken, target: run.target, runID: run.id, data: data)
        engine.observer.note("backup taken: \(shownPath)" + (data["sha256"].map { " sha256 \($0.description.prefix(16))…" } ?? ""))
        return nil
    }

    /// Restores the backup `taken` describes with `restore`, then runs `check` against what it
    /// printed when the backup was taken; journals the outcome. Returns why it failed, or nil
    /// when the database is back as it was.
    static func restore(_ taken: EventRecord?, with restore: RunnableCommand, check: RunnableCommand?, engine: RunEngine,
                        backupOfRun: String) async throws -> String? {
        let status = try await engine.attemptAll(restore)
        var failure: String? = status == .succeeded ? nil : "backup.restore \(status.rawValue)"
        if failure == nil, let check {
            switch try await reading(check, expected: taken?.data["check_output"]?.string, engine: engine) {
            case .success: break
            case .failure(let why): failure = "backup.check after the restore: \(why)"
            }
        }
        var data: EventData = ["path": taken?.data["path"] ?? .string(""), "backup_of_run": .string(backupOfRun)]
        if let failure { data["reason"] = .string(failure) }
        try engine.journal.event(failure == nil ? .backupRestored : .backupRestoreFailed, target: engine.run.target, runID: engine.run.id, data: data)
        return failure
    }

    /// Runs `backup.check`; its stdout (secrets masked, trimmed) when it succeeds and, given
    /// `expected`, prints exactly that.
    private static func reading(_ check: RunnableCommand, expected: String? = nil, engine: RunEngine) async throws -> Result<String, ReadingError> {
        var output = "", why: [String] = []
        let status = try await engine.attemptOnce(check) { termination, capture in
            output = capture.tail(of: .stdout).trimmingCharacters(in: .whitespacesAndNewlines)
            why = ExpectationCheck.failures(check.expect, termination: termination, capture: capture)
            if let expected, output != expected {
                why.append("it printed \"\(output.prefix(200))\", but \"\(expected.prefix(200))\" when the backup was taken")
            }
            return why
        }
        if status == .succeeded { return .success(output) }
        return .failure(ReadingError(text: why.isEmpty ? status.rawValue.replacingOccurrences(of: "_", with: " ") : why.joined(separator: "; ")))
    }

    struct ReadingError: Error, CustomStringConvertible {
        let text: String
        var description: String { text }
    }
}
