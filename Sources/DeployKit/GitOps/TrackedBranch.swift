import Foundation
import GitKit

/// The branch of the stacks repository's remote an environment follows, and its head as of
/// the last fetch: what `up` deploys without `--rev`, what drift is measured against.
public struct TrackedBranch: Sendable, Codable {
    public let remote: String
    public let branch: String
    /// The commit `refs/remotes/REMOTE/BRANCH` names.
    public let head: String
    /// When the remote was last fetched (this command, or an earlier one with `--offline`).
    public let fetchedAt: Date?
    /// False with `--offline`: `head` is what an earlier fetch left.
    public let fetchedNow: Bool

    /// `origin/main`.
    public var name: String { "\(remote)/\(branch)" }
}

/// Whether a command may reach the remote first.
public enum FetchMode: Sendable {
    case fetch
    /// `--offline`: what is already fetched, and how old it is.
    case offline
}

/// Finds which branch a target tracks, fetching the remote first (once per command).
/// A repository without a remote tracks nothing: every command behaves as before.
public final class Tracker {
    let workspace: Workspace
    let mode: FetchMode
    private var fetched = false

    public init(workspace: Workspace, mode: FetchMode) {
        self.workspace = workspace
        self.mode = mode
    }

    var repository: Repository { workspace.stacks.repository }

    /// `DEPLOYCTL_REMOTE`, else `origin`, else the only remote; nil when there is none.
    public func remoteName() throws -> String? {
        let remotes = repository.remotes()
        if let named = workspace.environment["DEPLOYCTL_REMOTE"], !named.isEmpty {
            guard remotes.contains(named) else {
                throw DeployError(.usage, "DEPLOYCTL_REMOTE names '\(named)', which the stacks repository at \(workspace.stacks.root) does not have (it has: \(remotes.isEmpty ? "none" : remotes.joined(separator: ", ")))",
                                  next: ["git remote -v", "unset DEPLOYCTL_REMOTE, or name one of those"])
            }
            return named
        }
        if remotes.isEmpty { return nil }
        if remotes.contains("origin") { return "origin" }
        if remotes.count == 1 { return remotes[0] }
        throw DeployError(.usage, "the stacks repository has several remotes (\(remotes.joined(separator: ", "))) and none is called origin: deployctl cannot tell which one the team pushes to",
                          next: ["DEPLOYCTL_REMOTE=NAME deployctl …"])
    }

    /// Fetches the remote (once), unless offline; then its default branch and that branch's
    /// head. Nil when the repository has no remote.
    public func defaultHead() throws -> (remote: String, branch: String, head: ObjectID)? {
        guard let remote = try remoteName() else { return nil }
        try fetchOnce(remote)
        guard let branch = repository.remoteDefaultBranch(remote) else {
            throw DeployError(.usage, "\(remote) has no default branch recorded (refs/remotes/\(remote)/HEAD)\(mode == .offline ? " and --offline fetches nothing" : ": is the remote empty?")",
                              next: mode == .offline ? ["run it once without --offline"] : ["push a branch to \(remote), then run it again"])
        }
        guard let head = repository.referenceTarget("refs/remotes/\(remote)/\(branch)") else {
            throw DeployError(.usage, "\(remote)/\(branch), the remote's default branch, was not fetched", next: ["git fetch \(remote)"])
        }
        return (remote, branch, head)
    }

    /// The target's tracked branch and its head (fetching first, once, unless offline).
    public func tracked(target: String) throws -> TrackedBranch? {
        guard let (remote, defaultBranch, defaultHead) = try defaultHead() else { return nil }
        let branch = try trackedBranchName(target: target, defaultHead: defaultHead) ?? defaultBranch
        guard let head = repository.referenceTarget("refs/remotes/\(remote)/\(branch)") else {
            throw DeployError(.usage, "\(target) tracks \(remote)/\(branch) (track:), which \(remote) does not have\(mode == .offline ? " as of the last fetch" : "")",
                              next: ["push it: git push \(remote) HEAD:\(branch)", "or change track: in the descriptor on \(remote)/\(defaultBranch)"])
        }
        return TrackedBranch(remote: remote, branch: branch, head: head.hex, fetchedAt: repository.lastFetch, fetchedNow: mode == .fetch)
    }

    /// The descriptor on the remote's default branch says which branch the target follows
    /// (`track:`): never a local commit, which nobody else has seen.
    private func trackedBranchName(target: String, defaultHead: ObjectID) throws -> String? {
        guard let pinned = try? workspace.stacks.pin(defaultHead.hex),
              let entry = try? workspace.stacks.entry(for: target, at: pinned) else { return nil }
        return workspace.stacks.loader(at: pinned).load(stack: entry.stack, environment: entry.environment).descriptor?.track?.branch
    }

    private func fetchOnce(_ remote: String) throws {
        guard mode == .fetch, !fetched else {
            if mode == .offline, repository.lastFetch == nil, repository.remoteDefaultBranch(remote) == nil {
                throw DeployError(.usage, "--offline, but \(remote) was never fetched into \(workspace.stacks.root)",
                                  next: ["run it once without --offline (or git fetch \(remote))"])
            }
            return
        }
        let url = repository.remoteURL(remote) ?? remote
        do {
            try repository.fetch(remote: remote, authority: RemoteAccess(url: url, environment: workspace.environment, repositoryRoot: workspace.stacks.root))
            fetched = true
        } catch let error as GitError {
            let age = repository.lastFetch.map { " (last fetched \(Timestamp.human($0)))" } ?? ""
            throw DeployError(.failed, RemoteURL.shown("cannot fetch \(remote) (\(url)): \(Self.reason(error)); nothing was run"),
                              next: ["check the remote: git ls-remote \(remote)",
                                     "or use what was fetched before\(age): the same command with --offline"])
        }
    }

    private static func reason(_ error: GitError) -> String {
        if case .libgit2(_, _, let message) = error { return message }
        return "\(error)"
    }

    /// "fetched just now", or how old the offline view is.
    public static func freshness(_ tracked: TrackedBranch, now: Date = Date()) -> String {
        if tracked.fetchedNow { return "fetched just now" }
        guard let at = tracked.fetchedAt else { return "never fetched" }
        return "as of the last fetch, \(DurationValue.format(milliseconds: max(0, Int(now.timeIntervalSince(at))) * 1000)) ago"
    }
}
