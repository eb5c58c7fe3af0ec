import ArgumentParser
import DeployKit

struct RevisionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revisions",
        abstract: "List the commits that changed a target's descriptor (or a file it extends), newest first.")

    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var revision: RevisionOption
    @Option(help: "text or json") var format: OutputFormat = .text
    @Option(help: "At most this many commits.") var limit: Int?
    @OptionGroup var fetch: FetchOptions
    @Argument(help: "ENV or STACK/ENV.") var target: String

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
