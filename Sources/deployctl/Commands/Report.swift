import ArgumentParser
import DeployKit
import Foundation

extension ReportRenderer.Format: ExpressibleByArgument {}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a run's post-deployment report (also written after every up and rollback).")

    @OptionGroup var workspace: WorkspaceOptions
    @Option(help: "md, json, html or junit") var format: ReportRenderer.Format = .md
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?
    @Argument(help: "The run id, or a unique prefix of it (deployctl runs lists them).") var runID: String

    func run() async throws {
        let ws = try workspace.open()
        let report = try ReportAction(workspace: ws).report(runID: runID)
        let text = ReportRenderer.render(report, as: format)
        guard let output else {
            Terminal.out(text)
            return
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw DeployError(.usage, "cannot write \(output): \(error.localizedDescription)", next: ["choose a writable path with --output"])
        }
        Terminal.line("wrote \(output)")
    }
}

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the CLIs a target calls and run its DNS and TLS probes.",
        discussion: "Exit 0: all good. 1: problems found (each listed with its fix). 2: cannot diagnose (repository, descriptor or resolver unavailable).")

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var source: SourceOptions
    @OptionGroup var inputs: InputOptions
    @Option(help: "text or json") var format: OutputFormat = .text
    @Argument(help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)) var target: String

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
