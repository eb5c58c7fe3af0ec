import ArgumentParser
import DeployKit
import Foundation

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check descriptors at a revision (all stacks when no target is given).",
        discussion: "Every problem is listed as FILE:LINE:COL: error: …; exit code 2 when any is found.")

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var revision: RevisionOption
    @OptionGroup var inputs: InputOptions
    @Option(help: "text or json") var format: OutputFormat = .text
    @Argument(help: "Targets: ENV or STACK/ENV.") var targets: [String] = []

    func run() async throws {
        let ws = try workspace.open()
        let supply = inputs.given ? try inputs.supply(environment: ws.environment) : nil
        let report = try ValidateAction(workspace: ws).run(targets: targets, revision: revision.rev, supply: supply)
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
                let warnings = result.diagnostics.count
                Terminal.line("✓ \(padded)  \(result.files.joined(separator: " + ")) (\(result.stepCount) steps)"
                              + (warnings > 0 ? ", \(warnings) warning(s)" : ""))
            } else {
                Terminal.line("✗ \(padded)  \(result.diagnostics.errors.count) error(s)")
            }
            Terminal.diagnostics(result.diagnostics)
        }
        let invalid = report.results.filter { !$0.isValid }.count
        let summary = "validated \(report.results.count) target(s) at \(report.revision.short) \"\(report.revision.commit.subject)\""
        if invalid == 0 {
            Terminal.line(summary + ": all valid")
        } else {
            Terminal.error(summary + ": \(invalid) invalid; nothing was run")
        }
    }
}

/// `validate --format json`.
struct ValidateJSON: Encodable {
    struct Problem: Encodable {
        let file: String?
        let line: Int?
        let column: Int?
        let severity: String
        let message: String
    }
    struct Target: Encodable {
        let target: String
        let valid: Bool
        let files: [String]
        let problems: [Problem]
    }
    let revision: String
    let valid: Bool
    let targets: [Target]

    init(_ report: ValidateAction.Report) {
        revision = report.revision.sha
        valid = report.isValid
        targets = report.results.map { result in
            Target(target: result.target, valid: result.isValid, files: result.files, problems: result.diagnostics.map {
                Problem(file: $0.location?.file, line: $0.location?.line, column: $0.location?.column,
                        severity: $0.severity.rawValue, message: $0.message)
            })
        }
    }
}
