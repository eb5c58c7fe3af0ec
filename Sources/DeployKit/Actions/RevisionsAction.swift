import Foundation
import GitKit

/// `deployctl revisions TARGET`: the commits that changed the target's descriptor, any file it
/// extends, or anything under its `paths:` (what its steps run), newest first.
public struct RevisionsAction {
    public struct Entry: Codable, Sendable {
        public let commit: String
        public let author: String
        /// When it was authored, RFC 3339 UTC like every time in JSON.
        public let time: Date
        /// The same on the author's own clock, as git's `%aI`: what people read.
        public let authorTime: String
        public let subject: String
        /// `deployed` (a deploy or rollback to it succeeded), `live` (what is deployed now),
        /// `bad` (rolled back from), `tracked` (the head of the branch the target tracks).
        public let marks: [String]
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// `revision` nil: the tracked head (fetched first unless `fetch` is offline), else HEAD.
    public func run(target: String, revision: String?, fetch: FetchMode = .offline, limit: Int?) throws -> (paths: [String], entries: [Entry]) {
        let (rev, tracked) = try workspace.trackedRevision(target: target, requested: revision, fetch: fetch)
        let pinned = try workspace.stacks.pin(rev)
        let entry = try workspace.stacks.entry(for: target, at: pinned)
        // The extends chain and `paths:` at the tip decide which files count.
        let patterns = workspace.stacks.patterns(of: entry, at: pinned)
        let paths = patterns.map(\.raw)
        let cacheFile = workspace.state.historyCacheFile(for: paths)
        let commits = try workspace.stacks.history(of: patterns, from: pinned, limit: limit, cacheFile: cacheFile)
        var bad: Set<String> = [], deployed: Set<String> = [], live: String? = nil
        if let journal = workspace.existingJournal() {
            bad = try journal.badRevisions(target: entry.target)
            deployed = Set(try journal.runs(target: entry.target, limit: 10_000).filter { $0.kind.deploys && $0.status == .succeeded }.map(\.revision))
            live = try journal.environmentState(target: entry.target).deployed?.revision
        }
        return (paths, commits.map { commit in
            let sha = commit.id.hex
            return Entry(commit: sha, author: "\(commit.authorName) <\(commit.authorEmail)>",
                         time: Date(timeIntervalSince1970: TimeInterval(commit.authorTime)),
                         authorTime: Timestamp.gitAuthorTime(commit.authorTime, offsetMinutes: commit.authorOffsetMinutes),
                         subject: commit.subject,
                         marks: (deployed.contains(sha) ? ["deployed"] : []) + (sha == live ? ["live"] : []) + (bad.contains(sha) ? ["bad"] : [])
                             + (sha == tracked?.head ? ["tracked"] : []))
        })
    }
}
