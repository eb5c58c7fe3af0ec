import Arguments
import DeployKit
import Foundation

/// `deployctl review show|tick|score|sign|note RUN …`: reviews recorded with who and when.
struct ReviewCommand: CommandGroup {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Tick manual items, score readiness, sign for a role or add a note on an up run (journaled with who and when).",
        discussion: "RUN is a run id (or a unique prefix), or a target for the run deployed there. A run is accepted when it succeeded, every manual item is ticked, the readiness total reaches its pass mark and every sign-off role has signed; a descriptor's promotion: rule can require that before up.",
        subcommands: [Show.self, Tick.self, Score.self, Sign.self, Note.self], defaultSubcommand: Show.self)

    struct Show: Command {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "The run's checklist: what is ticked, scored and signed, and what is missing.")
        var workspace = WorkspaceOptions()
        var format: OutputFormat = .text
        var run = ""

        static var parameters: [Parameter<Self>] {
            [
                .group(\.workspace),
                .option(\.format, "--format", help: "text or json"),
                .argument(\.run, "run", help: "A run id (or prefix), or ENV / STACK/ENV.", completion: .custom(Completions.runIDs)),
            ]
        }

        func run() async throws {
            let review = try ReviewAction(workspace: try workspace.open()).show(run)
            if format == .json { Terminal.out(try JSONOutput.encode(review)); return }
            ReviewCommand.print(review)
            if !review.accepted { throw ExitCode(ExitStatus.failed.rawValue) }
        }
    }

    struct Tick: Command {
        static let configuration = CommandConfiguration(commandName: "tick", abstract: "Confirm manual items (by their text or their number in review show).")
        var workspace = WorkspaceOptions()
        var run = ""
        var items: [String] = []

        static var parameters: [Parameter<Self>] {
            [
                .group(\.workspace),
                .argument(\.run, "run", help: "A run id (or prefix), or ENV / STACK/ENV.", completion: .custom(Completions.runIDs)),
                .argument(\.items, "items", required: true, help: "The items."),
            ]
        }

        func run() async throws { try ReviewCommand.record(.tick(items), on: run, workspace: workspace) }
    }

    struct Score: Command {
        static let configuration = CommandConfiguration(commandName: "score", abstract: "Rate readiness categories, CATEGORY=N each (the newest score counts).")
        var workspace = WorkspaceOptions()
        var run = ""
        var scores: [String] = []

        static var parameters: [Parameter<Self>] {
            [
                .group(\.workspace),
                .argument(\.run, "run", help: "A run id (or prefix), or ENV / STACK/ENV.", completion: .custom(Completions.runIDs)),
                .argument(\.scores, "scores", required: true, help: "CATEGORY=N, one or more."),
            ]
        }

        func run() async throws {
            let parsed = try scores.map { pair -> (category: String, score: Int) in
                guard let eq = pair.lastIndex(of: "="), let n = Int(pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("'\(pair)' is not CATEGORY=N (for example Security=4)")
                }
                return (String(pair[..<eq]).trimmingCharacters(in: .whitespaces), n)
            }
            try ReviewCommand.record(.score(parsed), on: run, workspace: workspace)
        }
    }

    struct Sign: Command {
        static let configuration = CommandConfiguration(commandName: "sign", abstract: "Sign for a role the descriptor's signoff: lists.")
        var workspace = WorkspaceOptions()
        var run = ""
        var role = ""

        static var parameters: [Parameter<Self>] {
            [
                .group(\.workspace),
                .argument(\.run, "run", help: "A run id (or prefix), or ENV / STACK/ENV.", completion: .custom(Completions.runIDs)),
                .argument(\.role, "role", help: "The role, as the descriptor names it."),
            ]
        }

        func run() async throws { try ReviewCommand.record(.sign(role), on: run, workspace: workspace) }
    }

    struct Note: Command {
        static let configuration = CommandConfiguration(commandName: "note", abstract: "Add a note to the run's record (deviations from the standard process, …).")
        var workspace = WorkspaceOptions()
        var run = ""
        var text = ""

        static var parameters: [Parameter<Self>] {
            [
                .group(\.workspace),
                .argument(\.run, "run", help: "A run id (or prefix), or ENV / STACK/ENV.", completion: .custom(Completions.runIDs)),
                .argument(\.text, "text", help: "The note."),
            ]
        }

        func run() async throws { try ReviewCommand.record(.note(text), on: run, workspace: workspace) }
    }

    static func record(_ change: ReviewAction.Change, on run: String, workspace: WorkspaceOptions) throws {
        let (review, notes) = try ReviewAction(workspace: try workspace.open()).record(change, on: run)
        for note in notes { Terminal.line(note) }
        Terminal.line("run \(review.runId) of \(review.target): " + (review.accepted ? "ACCEPTED" : "not accepted yet"))
        for missing in review.missing { Terminal.line("  missing: \(missing)") }
        if !review.accepted { Terminal.line("next: deployctl review show \(review.runId)") }
    }

    static func print(_ review: RunReview) {
        Terminal.line("run \(review.runId) of \(review.target) at \(review.revision.prefix(10)): "
                      + (review.accepted ? "ACCEPTED\(review.acceptedAt.map { " " + Timestamp.human($0) } ?? "")" : "not accepted"))
        if !review.manual.isEmpty { Terminal.line("manual items:") }
        for (index, item) in review.manual.enumerated() {
            Terminal.line("  \(index + 1). [\(item.tickedBy == nil ? " " : "x")] \(item.section.map { "\($0): " } ?? "")\(item.item)"
                          + (item.tickedBy.map { " — \($0), \(item.tickedAt.map { Timestamp.human($0) } ?? "")" } ?? ""))
        }
        if let readiness = review.readiness {
            Terminal.line("readiness: \(readiness.total)/\(readiness.maximum), passing at \(readiness.pass)")
            for score in readiness.scores {
                Terminal.line("  \(score.category): " + (score.score.map { "\($0)/\(readiness.scale) — \(score.scoredBy ?? ""), \(score.scoredAt.map { Timestamp.human($0) } ?? "")" } ?? "not scored"))
            }
        }
        if !review.signoff.isEmpty { Terminal.line("sign-off:") }
        for signature in review.signoff {
            Terminal.line("  \(signature.role): " + (signature.signedBy.map { "signed by \($0), \(signature.signedAt.map { Timestamp.human($0) } ?? "")" } ?? "not signed"))
        }
        for note in review.notes { Terminal.line("note (\(note.by), \(Timestamp.human(note.at))): \(note.text)") }
        for missing in review.missing { Terminal.line("missing: \(missing)") }
    }
}
