import Foundation

/// `deployctl revisions TARGET`: the commits that changed the target's descriptor or any
/// file it extends, newest first.
public struct RevisionsAction {
    public struct Entry: Codable, Sendable {
        public let commit: String
        public let author: String
        public let time: String
        public let subject: String
        /// `deployed` (what the last successful run put there), `bad` (rolled back from).
        public let marks: [String]
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public func run(target: String, revision: String, limit: Int?) throws -> (paths: [String], entries: [Entry]) {
        let pinned = try workspace.stacks.pin(revision)
        let entry = try workspace.stacks.entry(for: target, at: pinned)
        // The extends chain at the tip decides which files count; a broken descriptor still
        // has a history, so fall back to its own file.
        let loaded = workspace.stacks.loader(at: pinned).load(stack: entry.stack, environment: entry.environment)
        let paths = loaded.descriptor?.files ?? [entry.path]
        let cacheFile = workspace.state.historyCacheFile(for: paths)
        let commits = try workspace.stacks.history(of: paths, from: pinned, limit: limit, cacheFile: cacheFile)
        var bad: Set<String> = [], deployed: String? = nil
        if FileManager.default.fileExists(atPath: workspace.stateDirectory + "/journal.sqlite3") {
            let journal = try Journal(directory: workspace.stateDirectory)
            bad = Set(try journal.events(target: entry.target, kind: "revision_marked_bad").compactMap { $0.data["revision"] })
            deployed = try journal.lastSucceeded(target: entry.target)?.revision
        }
        return (paths, commits.map { commit in
            let sha = commit.id.hex
            return Entry(commit: sha, author: "\(commit.authorName) <\(commit.authorEmail)>",
                         time: Self.iso8601(commit.authorTime, offsetMinutes: commit.authorOffsetMinutes),
                         subject: commit.subject, marks: (sha == deployed ? ["deployed"] : []) + (bad.contains(sha) ? ["bad"] : []))
        })
    }

    /// `2026-11-22T18:48:12+01:00`: the author's own clock, as git shows it.
    static func iso8601(_ seconds: Int64, offsetMinutes: Int32) -> String {
        let offset = Int(offsetMinutes)
        let local = Int(seconds) + offset * 60
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondsOfDay = local - days * 86_400
        let date = RunClock.civil(days: days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let sign = offset < 0 ? "-" : "+"
        return "\(date.year)-\(two(date.month))-\(two(date.day))T\(two(secondsOfDay / 3600)):\(two(secondsOfDay % 3600 / 60)):\(two(secondsOfDay % 60))"
            + "\(sign)\(two(abs(offset) / 60)):\(two(abs(offset) % 60))"
    }
}
