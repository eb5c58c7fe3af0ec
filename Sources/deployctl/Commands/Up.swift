import ArgumentParser
import DeployKit
import Foundation

/// Options every mutating run shares (up, resume).
struct RunFlags: ParsableArguments {
    @Flag(help: "Answer yes to every confirm gate.") var yes = false
    @Option(help: ArgumentHelp("At most this many steps of a phase at once (default: the number of cores).", valueName: "n"))
    var parallel: Int?
    @Option(help: ArgumentHelp("After SIGTERM to a step's process group, wait this long before SIGKILL.", valueName: "duration"))
    var grace: String = "30s"
    @Option(help: "text or json (one event per line)") var format: OutputFormat = .text

    func options() throws -> RunOptions {
        guard let graceMs = DurationValue.parse(grace) else {
            throw DeployError(.usage, "--grace \(grace) is not a duration", next: ["e.g. --grace 30s"])
        }
        return RunOptions(yes: yes, parallel: parallel ?? ProcessInfo.processInfo.activeProcessorCount, graceMs: graceMs)
    }

    /// What every mutating run sets up first: its options, its display, and Ctrl-C handling.
    func begin() throws -> (RunOptions, RunObserver, Cancellation) {
        let options = try options()
        let display: RunObserver = format == .json ? JSONRunDisplay() : TerminalRunDisplay()
        let cancellation = Cancellation()
        SignalForwarding.install(cancellation, graceMs: options.graceMs, observer: display)
        return (options, display, cancellation)
    }
}

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Deploy a target: preflight, migrate (after a verified backup), deploy, verify, postdeploy.")

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var revision: RevisionOption
    @OptionGroup var inputs: InputOptions
    @OptionGroup var run: RunFlags
    @Flag(name: .customLong("dry-run"), help: "Print the plan and stop: nothing runs, nothing is locked.") var dryRun = false
    @Flag(name: .customLong("no-rollback"), help: "When deploy or verify fails, stop instead of rolling back.") var noRollback = false
    @Flag(name: .customLong("allow-bad-revision"), help: "Deploy a revision an earlier rollback marked bad.") var allowBadRevision = false
    @Flag(name: .customLong("reenable-inbound"), help: "If inbound mail is still off after an earlier rollback, re-enable it (confirmed) first.")
    var reenableInbound = false
    @Argument(help: "ENV or STACK/ENV.") var target: String

    func run() async throws {
        let ws = try workspace.open()
        let (options, display, cancellation) = try run.begin()
        var request = UpAction.Request(target: target, revision: revision.rev, supply: try inputs.supply(environment: ws.environment),
                                       options: options, dryRun: dryRun, autoRollback: !noRollback, allowBadRevision: allowBadRevision)
        request.reenableInbound = reenableInbound
        let result = try await UpAction(workspace: ws).run(request, observer: display, cancellation: cancellation)
        (display as? TerminalRunDisplay)?.stop()
        if dryRun {
            if run.format == .json { Terminal.out(try PlanRenderer.json(result.plan)) } else { Terminal.out(PlanRenderer.text(result.plan)) }
            Terminal.line("dry run: nothing ran and nothing was locked. To run it: \(result.next.joined())")
            return
        }
        if let rollback = result.rollback, let run = result.run, let outcome = result.outcome {
            RunReport.line(run: run, outcome: outcome, display: display)
            if !(display is JSONRunDisplay), let path = result.reportPath { Terminal.line("  report: \(path)") }
            RunReport.finish(run: rollback.run, outcome: rollback.outcome, next: rollback.next, status: result.exitStatus,
                             journal: ws.stateDirectory + "/journal.sqlite3", report: rollback.reportPath, display: display,
                             cancellation: cancellation)
        }
        RunReport.finish(result, journal: ws.stateDirectory + "/journal.sqlite3", display: display, cancellation: cancellation)
    }
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Go back to the last good revision: inbound off (confirmed), undo, restore, verify, inbound on (confirmed).")

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var run: RunFlags
    @Option(help: ArgumentHelp("The revision (branch, tag, SHA) or run id to go back to (default: the last good run before the current one).", valueName: "rev|run"))
    var to: String?
    @Flag(name: .customLong("dry-run"), help: "Print the exact sequence and stop.") var dryRun = false
    @Flag(name: .customLong("skip-db-restore"), help: "Do not restore the database backup (recorded and reported).") var skipDBRestore = false
    @Flag(name: .customLong("keep-inbound-disabled"), help: "Leave inbound mail off at the end (recorded and reported).") var keepInboundDisabled = false
    @Argument(help: "ENV or STACK/ENV.") var target: String

    func run() async throws {
        let ws = try workspace.open()
        let (options, display, cancellation) = try run.begin()
        let request = RollbackAction.Request(target: target, to: to, options: options, dryRun: dryRun,
                                             skipDatabaseRestore: skipDBRestore, keepInboundDisabled: keepInboundDisabled)
        let result = try await RollbackAction(workspace: ws).run(request, observer: display, cancellation: cancellation)
        (display as? TerminalRunDisplay)?.stop()
        if dryRun {
            Terminal.line("rollback of run \(result.from.id) (\(result.from.revision.prefix(10))) to \(result.toRevision.prefix(10)), in this order:")
            for (index, line) in result.sequence.enumerated() { Terminal.line(String(format: "%3d  ", index + 1) + line) }
            Terminal.line("dry run: nothing ran and nothing was locked. To run it: \(result.next.joined())")
            return
        }
        let status: ExitStatus = result.outcome?.status == .succeeded ? .ok : result.outcome?.needsConfirmation == true ? .refused : .failed
        RunReport.finish(run: result.run, outcome: result.outcome, next: result.next, status: status,
                         journal: ws.stateDirectory + "/journal.sqlite3", report: result.reportPath, display: display, cancellation: cancellation)
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a failed, cancelled or interrupted run from the first step that did not succeed.")

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var run: RunFlags
    @Argument(help: "The run id (deployctl runs lists them).") var runID: String

    func run() async throws {
        let ws = try workspace.open()
        let (options, display, cancellation) = try run.begin()
        let result = try await ResumeAction(workspace: ws).run(runID: runID, options: options, observer: display, cancellation: cancellation)
        (display as? TerminalRunDisplay)?.stop()
        RunReport.finish(result, journal: ws.stateDirectory + "/journal.sqlite3", display: display, cancellation: cancellation)
    }
}

/// The last lines of a run: what happened, what state things are in, what to run next.
enum RunReport {
    static func finish(_ result: UpAction.Result, journal: String, display: RunObserver, cancellation: Cancellation) -> Never {
        finish(run: result.run, outcome: result.outcome, next: result.next, status: result.exitStatus,
               journal: journal, report: result.reportPath, display: display, cancellation: cancellation)
    }

    static func finish(run: RunRecord?, outcome: RunOutcome?, next: [String], status: ExitStatus,
                       journal: String, report: String?, display: RunObserver, cancellation: Cancellation) -> Never {
        guard let run, let outcome else { exit(0) }
        var status = status
        if outcome.status == .cancelled, outcome.failedStep == nil || run.kind == "rollback" {
            status = cancellation.signal == SIGTERM ? .terminated : cancellation.signal == SIGHUP ? .hangup : .interrupted
        }
        if let json = display as? JSONRunDisplay {
            json.emit(["event": "run_finished", "run": run.id, "kind": run.kind, "target": run.target, "revision": run.revision,
                       "status": outcome.status.rawValue, "message": outcome.message, "next": next, "journal": journal,
                       "exit_code": Int(status.rawValue), "report": report ?? NSNull()])
        } else {
            line(run: run, outcome: outcome, display: display)
            Terminal.line("  run \(run.id), recorded in \(journal)")
            if let report { Terminal.line("  report: \(report)") }
            for next in next { Terminal.line("next: \(next)") }
        }
        exit(status.rawValue)
    }

    /// `✗ x/prod at abc1234 "subject": failed — why`.
    static func line(run: RunRecord, outcome: RunOutcome, display: RunObserver) {
        guard !(display is JSONRunDisplay) else { return }
        let mark = outcome.status == .succeeded ? "✓" : "✗"
        Terminal.line("")
        Terminal.line("\(mark) \(run.kind) \(run.target) at \(run.revision.prefix(10)) \"\(run.revisionSubject)\": \(outcome.status.rawValue) — \(outcome.message)")
    }
}
