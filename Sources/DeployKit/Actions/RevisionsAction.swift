import Foundation

/// `deployctl revisions TARGET`: the commits that changed the target's descriptor or any
/// file it extends, newest first.
public struct RevisionsAction {
    public struct Entry: Codable, Sendable {
        public let commit: String
        public let author: String
        public let time: String
        public let subject: String
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
        let commits = try workspace.stacks.history(of: paths, from: pinned, limit: limit)
        return (paths, commits.map { commit in
            Entry(commit: commit.id.hex, author: "\(commit.authorName) <\(commit.authorEmail)>",
                  time: Self.iso8601(commit.authorTime, offsetMinutes: commit.authorOffsetMinutes),
                  subject: commit.subject)
        })
    }

    /// `2026-11-22T18:48:12+01:00`: the author's own clock, as git shows it.
    static func iso8601(_ seconds: Int64, offsetMinutes: Int32) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: Int(offsetMinutes) * 60)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxxxx"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
