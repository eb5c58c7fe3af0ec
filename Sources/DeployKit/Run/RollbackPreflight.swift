import Foundation

/// What a rollback checks before inbound mail goes off, so one that cannot finish fails before
/// it changes anything: the backup it will restore is on this machine with the SHA-256 the
/// journal recorded, and every program it will start can be found.
enum RollbackPreflight {
    /// Each problem as a sentence naming the thing and where it was looked for; empty when none:
    /// what a dry run says. With shared storage (`backup.fetch`) the run fetches the backup
    /// first and checks it again, so its absence here is no refusal the dry run can foresee.
    static func problems(_ plan: RollbackPlan, restoring: Bool, environment: [String: String],
                         backupPath: String?, takenOn: String) -> [String] {
        (plan.fetch == nil ? backupProblems(plan, restoring: restoring, backupPath: backupPath, takenOn: takenOn) : [])
            + programProblems(plan, restoring: restoring, environment: environment)
    }

    /// The backup the rollback will restore, when it restores one (hashing it: asked once).
    static func backupProblems(_ plan: RollbackPlan, restoring: Bool, backupPath: String?, takenOn: String) -> [String] {
        guard restoring, let taken = plan.backup else { return [] }
        return backupProblems(taken, realPath: backupPath, takenOn: takenOn)
    }

    /// Every program the sequence will start.
    static func programProblems(_ plan: RollbackPlan, restoring: Bool, environment: [String: String]) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for command in plan.commands(restoring: restoring) where command.probe == nil {
            // Named as shown (secrets masked); a shell script's own programs count too.
            var programs = command.shownArgv.first.map { [$0] } ?? []
            if command.shownArgv.count == 3, command.shownArgv[0] == "/bin/sh", command.shownArgv[1] == "-c" {
                programs += ShellWords.commands(in: command.shownArgv[2]).filter { !$0.contains(secretMask) }
            }
            let path = command.env["PATH"] ?? environment["PATH"] ?? "/usr/bin:/bin"
            for program in programs where seen.insert("\(command.directory ?? "")\u{0}\(program)").inserted {
                if case .failure(let missing) = ProgramLookup.find(program, directory: command.directory, path: path) {
                    problems.append("\(command.ref): \(missing)")
                }
            }
        }
        return problems
    }

    /// The file `backup_taken` describes: there, and the same bytes.
    static func backupProblems(_ taken: EventRecord, realPath: String?, takenOn: String) -> [String] {
        let shown = taken.data["path"]?.description ?? "?"
        guard let path = realPath, let expected = taken.data["sha256"]?.string else {
            // Not a regular file when it was taken (a directory, a remote URL): nothing to compare.
            return []
        }
        guard FileManager.default.fileExists(atPath: path) else {
            let elsewhere = takenOn == ProcessIdentity.hostName ? "" : " on \(takenOn)"
            return ["the backup \(shown) (taken by run \(taken.runID ?? "?")\(elsewhere)) is not on this machine (\(ProcessIdentity.hostName)) at \(path); restore it where it is (deployctl rollback on \(takenOn)), copy it to \(path), or declare backup.push and backup.fetch so it is kept in shared storage"]
        }
        guard let actual = Checksum.sha256(ofFile: path) else { return ["the backup \(shown) cannot be read"] }
        if actual != expected {
            return ["the backup \(shown) is not the one run \(taken.runID ?? "?") took: its SHA-256 is \(actual.prefix(16))…, the journal recorded \(expected.prefix(16))…"]
        }
        return []
    }
}
