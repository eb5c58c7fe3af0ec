import Arguments
import DeployKit
import Foundation

struct RunbookCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Run one of a target's read-only runbooks (no lock) and report what it found; without NAME, list them.",
        discussion: "Exit 0: every check passed. 1: findings (listed, with what to do next). 2: no such runbook or bad inputs.")

    var workspace = WorkspaceOptions()
    var revision = RevisionOption()
    var inputs = InputOptions()
    var format: OutputFormat = .text
    var fetch = FetchOptions()
    var target = ""
    var name: String?

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.revision),
            .group(\.inputs),
            .option(\.format, "--format", help: "text or json (one event per line)"),
            .group(\.fetch),
            .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
            .argument(\.name, "name", help: "The runbook's name."),
        ]
    }

    func run() async throws {
        let ws = try workspace.open()
        let supply = try inputs.supply(environment: ws.environment)
        guard let name else {
            let (resolved, books) = try RunbookAction(workspace: ws).list(target: target, revision: revision.given, supply: supply)
            if format == .json { Terminal.out(try JSONOutput.encode(books)); return }
            if books.isEmpty { Terminal.line("\(resolved) defines no runbooks") }
            for book in books {
                Terminal.line("\(book.name)\(book.description.map { " — \($0)" } ?? "") (\(book.steps.count) checks)")
            }
            if let first = books.first { Terminal.line("run one: deployctl runbook \(resolved) \(first.name)") }
            return
        }
        let display: RunObserver = format == .json ? JSONRunDisplay() : TerminalRunDisplay()
        let cancellation = Cancellation()
        SignalForwarding.install(cancellation, graceMs: 10_000, observer: display)
        let result = try await RunbookAction(workspace: ws).run(
            target: target, name: name, revision: revision.given, supply: supply,
            options: RunOptions(yes: false, parallel: 1, graceMs: 10_000), fetch: fetch.mode, observer: display, cancellation: cancellation)
        (display as? TerminalRunDisplay)?.stop()
        if let json = display as? JSONRunDisplay {
            json.emit(["event": "run_finished", "run": result.run.id, "kind": RunKind.runbook.rawValue, "runbook": name, "target": result.run.target,
                       "revision": result.run.revision, "status": result.outcome.status.rawValue, "message": result.outcome.message,
                       "findings": result.findings.filter { $0.status != .succeeded && $0.status != .skipped }.map(\.name),
                       "next": result.exitStatus == .ok ? [] : result.runbook.next, "journal": ws.store.shown,
                       "report": result.reportPath ?? NSNull(), "exit_code": Int(result.exitStatus.rawValue)])
            throw ExitCode(result.exitStatus.rawValue)
        }
        Terminal.line("")
        Terminal.line("runbook \(name) on \(result.run.target) at \(result.run.revision.prefix(10)): \(result.outcome.message)")
        for finding in result.findings {
            let mark = finding.status == .succeeded ? "✓" : finding.status == .skipped ? "-" : "✗"
            Terminal.line("  \(mark) \(finding.name)" + (finding.status == .succeeded ? "" : ": \(finding.message ?? finding.status.rawValue)"))
        }
        if result.exitStatus != .ok, !result.runbook.next.isEmpty {
            Terminal.line("what to do next:")
            for advice in result.runbook.next { Terminal.line("  - \(advice)") }
        }
        Terminal.line("  run \(result.run.id) (read-only, no lock taken)")
        if let path = result.reportPath { Terminal.line("  report: \(path)") }
        if result.exitStatus != .ok { throw ExitCode(result.exitStatus.rawValue) }
    }
}
