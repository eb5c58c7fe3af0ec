import Arguments
import DeployKit
import Foundation

struct InboundCommand: CommandGroup {
    static let configuration = CommandConfiguration(
        commandName: "inbound",
        abstract: "Read or flip the inbound mail switch of a target by hand (journaled).",
        subcommands: [Status.self, Enable.self, Disable.self])

    struct Status: Command {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Ask the real system whether inbound processing is on.")
        var workspace = WorkspaceOptions()
        var format: OutputFormat = .text
        var target = ""

        static var parameters: [Parameter<Self>] {
            [
                .group(\.workspace),
                .option(\.format, "--format", help: "text or json"),
                .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
            ]
        }

        func run() async throws {
            let report = try await InboundAction(workspace: try workspace.open()).status(target: target, observer: QuietDisplay())
            if format == .json { Terminal.out(try JSONOutput.encode(report)); return }
            Terminal.line("inbound mail processing for \(report.target): \(report.state.rawValue)"
                          + (report.owedBy.map { " (deployctl owes a re-enable: run \($0) since \(report.owedSince.map { Timestamp.human($0) } ?? "?"))" } ?? ""))
            if report.state == .unknown { throw ExitCode(ExitStatus.failed.rawValue) }
        }
    }

    struct Enable: Command {
        static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable inbound processing and confirm it; clears what deployctl owes.")
        var workspace = WorkspaceOptions()
        var target = ""

        static var parameters: [Parameter<Self>] {
            [
                .group(\.workspace),
                .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
            ]
        }

        func run() async throws { try await InboundCommand.set(enabled: true, target: target, workspace: workspace) }
    }

    struct Disable: Command {
        static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable inbound processing and confirm it; every command then reminds you.")
        var workspace = WorkspaceOptions()
        var target = ""

        static var parameters: [Parameter<Self>] {
            [
                .group(\.workspace),
                .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
            ]
        }

        func run() async throws { try await InboundCommand.set(enabled: false, target: target, workspace: workspace) }
    }

    static func set(enabled: Bool, target: String, workspace: WorkspaceOptions) async throws {
        let display = TerminalRunDisplay()
        let cancellation = Cancellation()
        SignalForwarding.install(cancellation, graceMs: 30_000, observer: display)
        let (run, confirmed) = try await InboundAction(workspace: try workspace.open())
            .set(enabled: enabled, target: target, observer: display, cancellation: cancellation)
        display.stop()
        let word = enabled ? "enabled" : "disabled"
        if confirmed {
            Terminal.line("inbound mail processing for \(run.target) is \(word) (confirmed); run \(run.id)")
            if !enabled { Terminal.line("next: when ready, deployctl inbound enable \(run.target)") }
        } else {
            Terminal.error("error: inbound mail processing for \(run.target) could not be confirmed \(word); run \(run.id)")
            Terminal.error("next: deployctl logs \(run.id)")
            Terminal.error("next: deployctl inbound status \(run.target), then try again: deployctl inbound \(enabled ? "enable" : "disable") \(run.target)")
            throw ExitCode(ExitStatus.failed.rawValue)
        }
    }
}

/// Shows nothing: for read-only checks whose answer is the whole output.
final class QuietDisplay: RunObserver, Sendable {
    func stepStarted(_ step: StepRef, attempt: Int, argv: [String]) {}
    func output(_ step: StepRef, line: String, stream: OutputChannel) {}
    func stepFinished(_ step: StepRef, attempt: Int, status: StepStatus, durationMs: Int, detail: String?) {}
    func stepSkipped(_ step: StepRef, reason: String) {}
    func note(_ text: String) {}
    func confirm(_ question: String, step: StepRef) -> Bool? { nil }
}
