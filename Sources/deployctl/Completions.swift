import DeployKit
import Foundation

/// Dynamic completion for the shells (`deployctl completion bash|zsh|fish`): the script calls
/// deployctl back, which lists the targets at HEAD and the newest run ids. Quiet and quick on
/// any error: a completion never prints a problem.
enum Completions {
    @Sendable static func targets(_ words: [String], _ prefix: String) -> [String] {
        guard let workspace = workspace(words), let head = try? workspace.stacks.pin("HEAD"),
              let catalog = try? workspace.shownCatalog(at: head) else { return [] }
        let environments = Dictionary(grouping: catalog.entries, by: \.environment).filter { $0.value.count == 1 }.keys
        return (catalog.entries.map(\.target) + environments).filter { $0.hasPrefix(prefix) }.sorted()
    }

    @Sendable static func runIDs(_ words: [String], _ prefix: String) -> [String] {
        guard let workspace = workspace(words),
              let journal = workspace.existingJournal(),
              let runs = try? journal.runs(limit: 50) else { return [] }
        return runs.map(\.id).filter { $0.hasPrefix(prefix) }
    }

    /// The workspace the command line being completed names (`--repo`, `--state`), else the
    /// usual one. The shells pass words as typed: `~/` is still to expand.
    private static func workspace(_ words: [String]) -> Workspace? {
        let options = WorkspaceOptions.recognized(in: words)
        func expanded(_ path: String?) -> String? {
            guard let path, path.hasPrefix("~/"), let home = ProcessEnvironment.current["HOME"] else { return path }
            return home + path.dropFirst()
        }
        return try? Workspace.open(repo: expanded(options.repo), state: expanded(options.state))
    }
}
