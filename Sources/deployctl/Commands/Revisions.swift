import Arguments
import DeployKit

struct RevisionsCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "revisions",
        abstract: "List the commits that changed a target's descriptor (or a file it extends), newest first.")

    var workspace = WorkspaceOptions()
    var revision = RevisionOption()
    var format: OutputFormat = .text
    var limit: Int?
    var fetch = FetchOptions()
    var target = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.revision),
            .option(\.format, "--format", help: "text or json"),
            .option(\.limit, "--limit", help: "At most this many commits."),
            .group(\.fetch),
            .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        let (paths, entries) = try RevisionsAction(workspace: try workspace.open())
            .run(target: target, revision: revision.given, fetch: fetch.mode, limit: limit)
        switch format {
        case .json:
            Terminal.out(try JSONOutput.encode(entries))
        case .text:
            Terminal.line("commits that changed \(paths.joined(separator: ", ")) (newest first):")
            for entry in entries {
                let marks = entry.marks.isEmpty ? "" : "  [" + entry.marks.joined(separator: ", ") + "]"
                Terminal.line("\(entry.commit.prefix(10))  \(entry.authorTime)  \(entry.author)  \(entry.subject)\(marks)")
            }
            if entries.isEmpty { Terminal.line("(none)") }
        }
    }
}
