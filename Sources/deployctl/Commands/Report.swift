import Arguments
import DeployKit
import Foundation

extension ReportRenderer.Format: ArgumentValue {}

struct ReportCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a run's post-deployment report (also written after every up and rollback).")

    var workspace = WorkspaceOptions()
    var format: ReportRenderer.Format = .md
    var output: String?
    var runID = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .option(\.format, "--format", help: "md, json, html or junit"),
            .option(\.output, "--output", short: "-o", help: Help("Write to this file instead of standard output.", valueName: "file"), completion: .files),
            .argument(\.runID, "run-id", help: "The run id, or a unique prefix of it (deployctl runs lists them).", completion: .custom(Completions.runIDs)),
        ]
    }

    func run() async throws {
        let ws = try workspace.open()
        let report = try ReportAction(workspace: ws).report(runID: runID)
        let text = ReportRenderer.render(report, as: format)
        guard let output else {
            Terminal.out(text)
            return
        }
        do {
            try text.utf8Data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw DeployError(.usage, "cannot write \(output): \(error.localizedDescription)", next: ["choose a writable path with --output"])
        }
        Terminal.line("wrote \(output)")
    }
}

struct DoctorCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the CLIs a target calls and run its DNS and TLS probes.",
        discussion: "Exit 0: all good. 1: problems found (each listed with its fix). 2: cannot diagnose (repository, descriptor or resolver unavailable).")

    var workspace = WorkspaceOptions()
    var source = SourceOptions()
    var inputs = InputOptions()
    var format: OutputFormat = .text
    var target = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.source),
            .group(\.inputs),
            .option(\.format, "--format", help: "text or json"),
            .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        let ws = try workspace.open()
        let result = try await DoctorAction(workspace: ws).run(target: target, source: try source.source(ws, labelling: format == .text),
                                                               supply: try inputs.supply(environment: ws.environment))
        switch format {
        case .json:
            Terminal.out(try JSONOutput.encode(result))
        case .text:
            Terminal.line("doctor \(result.target) at \(result.uncommitted ? "uncommitted files" : String(result.revision.prefix(10)))")
            for check in result.checks {
                let mark = check.status == .ok ? "✓" : check.status == .problem ? "✗" : "?"
                Terminal.line("  \(mark) \(check.kind.rawValue) \(check.name): \(check.detail)")
                if let fix = check.fix, check.status != .ok { Terminal.line("      fix: \(fix)") }
            }
            let problems = result.checks.filter { $0.status == .problem }.count
            let again = "deployctl doctor \(result.target)" + (result.uncommitted ? " --worktree" : "")
            switch result.verdict {
            case .ok: Terminal.line("all \(result.checks.count) checks passed")
            case .problems: Terminal.line("\(problems) problem(s) found; fix them, then: \(again)")
            case .cannotDiagnose: Terminal.line("cannot diagnose: a resolver did not answer (see ? above); fix that, then: \(again)")
            }
        }
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }
}
