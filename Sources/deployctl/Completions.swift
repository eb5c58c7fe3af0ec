import DeployKit
import Foundation

/// Dynamic completion for the shells (`deployctl completion bash|zsh|fish`): the script calls
/// deployctl back, which lists the targets at HEAD and the newest run ids. Quiet and quick on
/// any error: a completion never prints a problem.
enum Completions {
    @Sendable static func targets(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let workspace = workspace(words), let head = try? workspace.stacks.pin("HEAD"),
              let catalog = try? workspace.shownCatalog(at: head) else { return [] }
        let environments = Dictionary(grouping: catalog.entries, by: \.environment).filter { $0.value.count == 1 }.keys
        return (catalog.entries.map(\.target) + environments).filter { $0.hasPrefix(prefix) }.sorted()
    }

    @Sendable static func runIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let workspace = workspace(words),
              let journal = workspace.existingJournal(),
              let runs = try? journal.runs(limit: 50) else { return [] }
        return runs.map(\.id).filter { $0.hasPrefix(prefix) }
    }

    /// The workspace the command line being completed names (`--repo`, `--state`), else the usual one.
    private static func workspace(_ words: [String]) -> Workspace? {
        func value(_ option: String) -> String? {
            if let index = words.firstIndex(of: option), index + 1 < words.count { return words[index + 1] }
            return words.first { $0.hasPrefix(option + "=") }.map { String($0.dropFirst(option.count + 1)) }
        }
        return try? Workspace.open(repo: value("--repo"), state: value("--state"))
    }
}
