import ArgumentParser
import DeployKit
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "What is deployed, the last run, the lock and any interrupted runs.")

    @OptionGroup var workspace: WorkspaceOptions
    @Option(help: "text or json") var format: OutputFormat = .text
    @Argument(help: "ENV or STACK/ENV (all when omitted).") var target: String?

    func run() async throws {
        let statuses = try RecordActions(workspace: try workspace.open()).status(target: target)
        if format == .json {
            if target != nil, let one = statuses.first { Terminal.out(try JSONOutput.encode(one)) } else { Terminal.out(try JSONOutput.encode(statuses)) }
            return
        }
        if statuses.isEmpty { Terminal.line("no stacks and no runs yet: deployctl stacks") }
        for s in statuses {
            Terminal.line("\(s.target)")
            Terminal.line("  deployed:  " + (s.deployedRevision.map { "\($0.prefix(10)) (run \(s.deployedRun ?? ""))" } ?? "nothing yet"))
            Terminal.line("  last run:  " + (s.lastRun.map { "\($0.id) \($0.kind) \($0.status) at \($0.revision.prefix(10))" } ?? "none"))
            if let lock = s.lock {
                Terminal.line("  lock:      held by run \(lock.runId), \(lock.operator) on \(lock.host), pid \(lock.pid), since \(lock.since)"
                              + (lock.stale ? " — STALE (that process is gone); the next up takes it over" : ""))
            } else {
                Terminal.line("  lock:      free")
            }
            for run in s.interruptedRuns {
                Terminal.line("  INTERRUPTED \(run.kind) run \(run.id) by \(run.operator), started \(run.startedAt): deployctl show \(run.id); \(run.next)")
            }
        }
    }
}

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List runs, newest first.")

    @OptionGroup var workspace: WorkspaceOptions
    @Option(help: "text or json") var format: OutputFormat = .text
    @Option(help: "At most this many.") var limit: Int = 20
    @Argument(help: "ENV or STACK/ENV (all when omitted).") var target: String?

    func run() async throws {
        let runs = try RecordActions(workspace: try workspace.open()).runs(target: target, limit: limit)
        if format == .json { Terminal.out(try JSONOutput.encode(runs)); return }
        if runs.isEmpty { Terminal.line("no runs yet") }
        for run in runs {
            let duration = run.durationMs.map { TerminalRunDisplay.seconds($0) } ?? "-"
            Terminal.line("\(run.id)  \(run.kind.padding(toLength: 8, withPad: " ", startingAt: 0)) \(run.target)  \(run.status.padding(toLength: 11, withPad: " ", startingAt: 0)) \(run.revision.prefix(10))  \(duration)  \(run.revisionSubject)")
        }
    }
}

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Every step and event of one run.")

    @OptionGroup var workspace: WorkspaceOptions
    @Option(help: "text or json") var format: OutputFormat = .text
    @Argument(help: "The run id.") var runID: String

    func run() async throws {
        let run = try RecordActions(workspace: try workspace.open()).show(runID: runID)
        if format == .json { Terminal.out(try JSONOutput.encode(run)); return }
        Terminal.line("run \(run.id): \(run.kind) \(run.target) at \(run.revision.prefix(10)) \"\(run.revisionSubject)\"")
        Terminal.line("  by \(run.operator), pid \(run.pid) on \(run.host); started \(run.startedAt)" + (run.endedAt.map { ", ended \($0)" } ?? ""))
        Terminal.line("  status: \(run.status)" + (run.message.map { " — \($0)" } ?? ""))
        if let of = run.rollbackOf { Terminal.line("  a rollback of run \(of): every step below belongs to the rollback") }
        if let by = run.rolledBackBy { Terminal.line("  rolled back by run \(by): deployctl show \(by)") }
        if let seconds = run.inboundDisabledSeconds { Terminal.line("  inbound mail processing was disabled for \(seconds)s") }
        for step in run.steps {
            let code = step.exitCode.map { "exit \($0)" } ?? step.signal.map { "signal \($0)" } ?? ""
            Terminal.line("  \(step.status.padding(toLength: 11, withPad: " ", startingAt: 0)) \(step.phase)/\(step.name)  \(code)  \(step.attempts) attempt(s)  \(TerminalRunDisplay.seconds(step.durationMs ?? 0))"
                          + (step.message.map { "  \($0)" } ?? ""))
        }
        for event in run.events {
            Terminal.line("  event \(event.kind) \(event.at) " + event.data.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
    }
}

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "The output of a run's steps (secrets masked).")

    @OptionGroup var workspace: WorkspaceOptions
    @Flag(help: "Keep printing while the run is still going.") var follow = false
    @Argument(help: "The run id.") var runID: String
    @Argument(help: "Only this step.") var step: String?

    func run() async throws {
        let actions = RecordActions(workspace: try workspace.open())
        var offsets: [String: UInt64] = [:]
        while true {
            let (run, files) = try actions.logFiles(runID: runID, step: step)
            for (attempt, path) in files {
                let offset = offsets[path] ?? 0
                if offset == 0 { Terminal.line("==> \(attempt.phase)/\(attempt.name) attempt \(attempt.attempt) (\(attempt.status.rawValue)) <==") }
                guard let handle = FileHandle(forReadingAtPath: path) else { continue }
                try handle.seek(toOffset: offset)
                let data = handle.readDataToEndOfFile()
                try handle.close()
                if !data.isEmpty { Terminal.raw(data) }
                offsets[path] = offset + UInt64(data.count)
            }
            let current = try actions.run(runID)
            if !follow || current?.status != .running || run.status != .running { break }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }
}

struct UnlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock", abstract: "Break an environment's deploy lock (recorded with who and why).")

    @OptionGroup var workspace: WorkspaceOptions
    @Flag(help: "Required: breaking a lock is deliberate.") var force = false
    @Option(help: "Why; kept in the journal.") var reason: String?
    @Argument(help: "ENV or STACK/ENV.") var target: String

    func run() async throws {
        guard force, let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DeployError(.usage, "unlock needs --force and --reason \"…\": a broken lock lets a second run start beside the first",
                              next: ["deployctl status \(target)  (is the holder really gone?)",
                                     "deployctl unlock \(target) --force --reason \"holder killed during the outage\""])
        }
        if let broken = try RecordActions(workspace: try workspace.open()).unlock(target: target, reason: reason) {
            Terminal.line("broke the lock of \(broken.target) held by run \(broken.runID) (\(broken.operatorName) on \(broken.host), pid \(broken.pid)); recorded with your reason")
            Terminal.line("next: deployctl status \(broken.target)")
        } else {
            Terminal.line("\(target) was not locked; nothing to do")
        }
    }
}
