import Arguments
import DeployKit
import Foundation

struct ValidateCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check descriptors at a revision (all stacks when no target is given).",
        discussion: "Every problem is listed as FILE:LINE:COL: error: …; exit code 2 when any is found (with --strict, when any warning is).")

    var workspace = WorkspaceOptions()
    var source = SourceOptions()
    var inputs = InputOptions()
    var requireInputs = false
    var strict = false
    var format: OutputFormat = .text
    var targets: [String] = []

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.source),
            .group(\.inputs),
            .flag(\.requireInputs, "--require-inputs", help: "A required input with no value from defaults, the environment, --input or --input-file is an error, not a note."),
            .flag(\.strict, "--strict", help: "Every warning is an error (exit 2): a gate for CI."),
            .option(\.format, "--format", help: "text or json"),
            .argument(\.targets, "targets", help: "Targets: ENV or STACK/ENV.", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        let ws = try workspace.open()
        let source = try self.source.source(ws, labelling: format == .text)
        let report = try ValidateAction(workspace: ws).run(targets: targets, source: source, supply: try inputs.supply(environment: ws.environment),
                                                           requireInputs: requireInputs, strict: strict)
        switch format {
        case .json: Terminal.out(try JSONOutput.encode(ValidateJSON(report)))
        case .text: printText(report)
        }
        if !report.isValid { throw ExitCode(ExitStatus.usage.rawValue) }
    }

    private func printText(_ report: ValidateAction.Report) {
        let width = report.results.map(\.target.count).max() ?? 0
        for result in report.results {
            let padded = result.target.padding(toLength: width, withPad: " ", startingAt: 0)
            if result.isValid {
                let warnings = result.diagnostics.filter { $0.severity == .warning }.count
                let notes = result.diagnostics.filter { $0.severity == .note }.count
                Terminal.line("✓ \(padded)  \(result.files.joined(separator: " + ")) (\(result.stepCount) steps)"
                              + (warnings > 0 ? ", \(warnings) warning(s)" : "") + (notes > 0 ? ", \(notes) note(s)" : ""))
            } else {
                Terminal.line("✗ \(padded)  \(result.diagnostics.errors.count) error(s)")
            }
            Terminal.diagnostics(result.diagnostics)
        }
        let invalid = report.results.filter { !$0.isValid }.count
        let summary = "validated \(report.results.count) target(s) at \(report.source.label)"
            + (report.source.isWorktree ? "" : " \"\(report.source.revision?.commit.subject ?? "")\"")
        if invalid == 0 {
            Terminal.line(summary + ": all valid")
        } else {
            Terminal.error(summary + ": \(invalid) invalid; nothing was run")
        }
    }
}

/// A diagnostic in JSON: where (when known), how bad, what.
struct ProblemJSON: Encodable {
    let file: String?
    let line: Int?
    let column: Int?
    let severity: String
    let message: String

    init(_ diagnostic: Diagnostic) {
        file = diagnostic.location?.file
        line = diagnostic.location?.line
        column = diagnostic.location?.column
        severity = diagnostic.severity.rawValue
        message = diagnostic.message
    }
}

/// `validate --format json`.
struct ValidateJSON: Encodable {
    struct Target: Encodable {
        let target: String
        let valid: Bool
        let files: [String]
        let problems: [ProblemJSON]
    }
    let revision: String
    /// Read from the files on disk (`--worktree`), not from `revision`.
    let uncommitted: Bool
    let valid: Bool
    let targets: [Target]

    init(_ report: ValidateAction.Report) {
        revision = report.source.sha
        uncommitted = report.source.isWorktree
        valid = report.isValid
        targets = report.results.map { result in
            Target(target: result.target, valid: result.isValid, files: result.files, problems: result.diagnostics.map(ProblemJSON.init))
        }
    }
}
