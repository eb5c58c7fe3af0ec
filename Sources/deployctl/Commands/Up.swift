import Arguments
import DeployKit
import Foundation

extension RestorePolicy: ArgumentValue {}

/// Options every mutating run shares (up, resume, rollback).
struct RunFlags: ParameterGroup {
    var yes = false
    var parallel: Int?
    var grace: String = "30s"
    var format: OutputFormat = .text

    static var parameters: [Parameter<Self>] {
        [
            .flag(\.yes, "--yes", help: "Answer yes to every confirm: gate. Nothing else: the database restore has --db-restore, a step stopped part-way has --rerun-interrupted."),
            .option(\.parallel, "--parallel", help: Help("At most this many steps of a phase at once (default: the number of cores).", valueName: "n")),
            .option(\.grace, "--grace", help: Help("After SIGTERM to a step's process group, wait this long before SIGKILL.", valueName: "duration")),
            .option(\.format, "--format", help: "text, or json: one event per line, ending with run_finished for every run started."),
        ]
    }

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

/// What a rollback does with the database backup of the run it undoes.
struct RestoreFlags: ParameterGroup {
    var policy: RestorePolicy?
    var skip = false

    static var parameters: [Parameter<Self>] {
        [
            .option(\.policy, "--db-restore", help: Help("restore, keep or ask: what a rollback does with the undone run's database backup (default: the descriptor's backup.on_rollback, else ask; ask with no terminal restores).", valueName: "policy")),
            .flag(\.skip, "--skip-db-restore", help: "Same as --db-restore keep."),
        ]
    }

    var restore: RestorePolicy? { skip ? .keep : policy }

    func validate() throws {
        if skip, let policy, policy != .keep {
            throw ValidationError("--skip-db-restore and --db-restore \(policy.rawValue) contradict each other; give one")
        }
    }
}

struct UpCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Deploy a target: preflight, migrate (after a verified backup), deploy, verify, postdeploy.",
        discussion: "Reads the descriptor and runs the files of a commit, never the work tree: commit first. A failed deploy or verify rolls back by itself (--no-rollback stops instead).")

    var workspace = WorkspaceOptions()
    var revision = RevisionOption()
    var inputs = InputOptions()
    var run = RunFlags()
    var restore = RestoreFlags()
    var dryRun = false
    var noRollback = false
    var allowBadRevision = false
    var allowUntrackedRevision = false
    var fetch = FetchOptions()
    var reenableInbound = false
    var worktree = false
    var target = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.revision),
            .group(\.inputs),
            .group(\.run),
            .group(\.restore),
            .flag(\.dryRun, "--dry-run", help: "Print the plan and stop: nothing runs, nothing is locked."),
            .flag(\.noRollback, "--no-rollback", help: "When deploy or verify fails, stop instead of rolling back."),
            .flag(\.allowBadRevision, "--allow-bad-revision", help: "Deploy a revision an earlier rollback marked bad."),
            .flag(\.allowUntrackedRevision, "--allow-untracked-revision", help: "Deploy a --rev the tracked branch does not contain (journaled, and shown in the report)."),
            .group(\.fetch),
            .flag(\.reenableInbound, "--reenable-inbound", help: "If inbound mail is still off after an earlier rollback, re-enable it (confirmed) first."),
            .flag(\.worktree, "--worktree", help: .hidden),
            .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
        ]
    }

    func validate() throws {
        if worktree {
            throw ValidationError("up never runs the work tree: what ran must be a commit. Commit first (git commit), or preview with: deployctl plan \(target) --worktree")
        }
    }

    func run() async throws {
        let ws = try workspace.open()
        let (options, display, cancellation) = try run.begin()
        var request = UpAction.Request(target: target, revision: revision.given, supply: try inputs.supply(environment: ws.environment),
                                       options: options, dryRun: dryRun, autoRollback: !noRollback, restore: restore.restore,
                                       allowBadRevision: allowBadRevision)
        request.reenableInbound = reenableInbound
        request.allowUntrackedRevision = allowUntrackedRevision
        request.fetch = fetch.mode
        let result = try await UpAction(workspace: ws).run(request, observer: display, cancellation: cancellation)
        (display as? TerminalRunDisplay)?.stop()
        if dryRun {
            if run.format == .json { Terminal.out(try PlanRenderer.json(result.plan)); return }
            Terminal.out(PlanRenderer.text(result.plan))
            Terminal.line("dry run: nothing ran and nothing was locked. To run it: \(result.next.joined())")
            return
        }
        RunReport.finish(result.runs, status: result.exitStatus, workspace: ws, display: display)
    }
}

struct RollbackCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Go back to the last good revision: inbound off (confirmed), undo, restore, verify, inbound on (confirmed).")

    var workspace = WorkspaceOptions()
    var run = RunFlags()
    var restore = RestoreFlags()
    var to: String?
    var dryRun = false
    var keepInboundDisabled = false
    var allowBadRevision = false
    var allowUntrackedRevision = false
    var fetch = FetchOptions()
    var target = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.run),
            .group(\.restore),
            .option(\.to, "--to", help: Help("The revision (branch, tag, SHA) or run id (or a unique prefix) to go back to (default: the last good run before the current one).", valueName: "rev|run")),
            .flag(\.dryRun, "--dry-run", help: "Print the exact sequence (and why it would refuse, if it would) and stop."),
            .flag(\.keepInboundDisabled, "--keep-inbound-disabled", help: "Leave inbound mail off at the end (recorded and reported)."),
            .flag(\.allowBadRevision, "--allow-bad-revision", help: "Go --to a revision an earlier rollback marked bad."),
            .flag(\.allowUntrackedRevision, "--allow-untracked-revision", help: "Go --to a revision no run deployed that the tracked branch lacks (journaled)."),
            .group(\.fetch),
            .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        let ws = try workspace.open()
        let (options, display, cancellation) = try run.begin()
        var request = RollbackAction.Request(target: target, to: to, options: options, dryRun: dryRun,
                                             restore: restore.restore, keepInboundDisabled: keepInboundDisabled)
        request.allowBadRevision = allowBadRevision
        request.allowUntrackedRevision = allowUntrackedRevision
        request.fetch = fetch.mode
        let result = try await RollbackAction(workspace: ws).run(request, observer: display, cancellation: cancellation)
        (display as? TerminalRunDisplay)?.stop()
        switch result {
        case .preview(let preview):
            if run.format == .json {
                Terminal.out(try JSONOutput.encode(preview))
            } else {
                Terminal.line("rollback of run \(preview.fromRun) (\(preview.fromRevision.prefix(10))) to \(preview.toRevision.prefix(10)) \"\(preview.toRevisionSubject)\", in this order:")
                for line in preview.steps {
                    Terminal.line(line.number.leftPadded(to: 3) + "  " + line.step + (line.command.map { "   \($0)" } ?? "") + (line.note.map { "   (\($0))" } ?? ""))
                }
                for problem in preview.problems { Terminal.line("refused: \(problem)") }
                Terminal.line(preview.problems.isEmpty ? "dry run: nothing ran and nothing was locked. To run it: \(preview.next.joined())"
                              : "dry run: the rollback would refuse before changing anything (exit 4); fix what is listed first")
            }
            if !preview.problems.isEmpty { throw ExitCode(ExitStatus.refused.rawValue) }
        case .finished(let finished):
            RunReport.finish([finished], status: ExitStatus.of([finished]), workspace: ws, display: display)
        }
    }
}

struct ResumeCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a failed, cancelled or interrupted run from the first step that did not succeed.",
        discussion: "Same revision, same inputs, same rules as up: it refuses while inbound mail is owed, and a failed deploy or verify rolls back by itself.")

    var workspace = WorkspaceOptions()
    var run = RunFlags()
    var restore = RestoreFlags()
    var rerunInterrupted = false
    var noRollback = false
    var runID = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.run),
            .group(\.restore),
            .flag(\.rerunInterrupted, "--rerun-interrupted", help: "Run again the steps a crash or a signal stopped part-way, even those not marked idempotent."),
            .flag(\.noRollback, "--no-rollback", help: "When deploy or verify fails, stop instead of rolling back."),
            .argument(\.runID, "run-id", help: "The run id, or a unique prefix of it (deployctl runs lists them).", completion: .custom(Completions.runIDs)),
        ]
    }

    func run() async throws {
        let ws = try workspace.open()
        let (options, display, cancellation) = try run.begin()
        let request = ResumeAction.Request(runID: runID, options: options, rerunInterrupted: rerunInterrupted,
                                           autoRollback: !noRollback, restore: restore.restore)
        let result = try await ResumeAction(workspace: ws).run(request, observer: display, cancellation: cancellation)
        (display as? TerminalRunDisplay)?.stop()
        RunReport.finish(result.runs, status: result.exitStatus, workspace: ws, display: display)
    }
}

/// The last lines of a command that ran something: for each run, what happened and where it
/// is recorded; then what to run next; then the exit code `ExitStatus.of` decided.
enum RunReport {
    static func finish(_ runs: [FinishedRun], status: ExitStatus, workspace: Workspace, display: RunObserver) -> Never {
        let journal = workspace.store.shown
        if let json = display as? JSONRunDisplay {
            for finished in runs {
                json.emit(["event": "run_finished", "run": finished.run.id, "kind": finished.run.kind.rawValue, "target": finished.run.target,
                           "revision": finished.run.revision, "status": finished.run.status.rawValue, "message": finished.outcome.message,
                           "next": finished.next, "journal": journal, "exit_code": Int(status.rawValue), "report": finished.reportPath ?? NSNull()])
            }
        } else {
            for finished in runs {
                line(finished)
                Terminal.line("  run \(finished.run.id), recorded in \(journal)")
                if let report = finished.reportPath { Terminal.line("  report: \(report)") }
            }
            for next in runs.last?.next ?? [] { Terminal.line("next: \(next)") }
        }
        workspace.close()
        Main.end(status.rawValue)
    }

    /// `✗ up x/prod at abc1234 "subject": failed — why`.
    static func line(_ finished: FinishedRun) {
        let run = finished.run, outcome = finished.outcome
        let mark = outcome.status == .succeeded ? "✓" : "✗"
        Terminal.line("")
        Terminal.line("\(mark) \(run.kind.rawValue) \(run.target) at \(run.revision.prefix(10)) \"\(run.revisionSubject)\": \(run.status.rawValue) — \(outcome.message)")
    }
}
