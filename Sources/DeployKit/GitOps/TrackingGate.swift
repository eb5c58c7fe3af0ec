import Foundation
import GitKit

/// What `up` (and `plan`, `revisions`) read when the stacks repository has a remote: the
/// tracked head unless a revision is named, and never a commit the tracked branch lacks
/// (an unpushed commit on a laptop) unless asked, and then on the record.
struct TrackingGate {
    let workspace: Workspace
    let tracker: Tracker

    init(workspace: Workspace, mode: FetchMode) {
        self.workspace = workspace
        tracker = Tracker(workspace: workspace, mode: mode)
    }

    /// The revision to pin: the one named, else the tracked head, else HEAD (no remote).
    func revision(for target: String, requested: String?) throws -> (revision: String, tracked: TrackedBranch?) {
        let tracked = try tracker.tracked(target: target)
        return (requested ?? tracked?.head ?? "HEAD", tracked)
    }

    /// Throws exit 4 when `pinned` is not on the tracked branch, unless `allow`; returns
    /// whether it is off the branch (then the run journals `untracked_revision_allowed`).
    /// `retry`: the command that names this revision again (default: `up`'s).
    func admit(_ pinned: PinnedRevision, tracked: TrackedBranch?, target: String, allow: Bool, retry: String? = nil) throws -> Bool {
        guard let tracked, let head = ObjectID(hex: tracked.head) else { return false }
        if workspace.stacks.repository.isAncestor(pinned.id, of: head) { return false }
        if allow { return true }
        let again = retry ?? "deployctl up \(target) --rev \(pinned.short)"
        throw DeployError(.refused, "\(pinned.short) (\(pinned.requested)) is not on \(tracked.name), which \(target) tracks (\(Tracker.freshness(tracked))): only what the team pushed deploys; nothing was run",
                          next: ["push it: git push \(tracked.remote) \(pinned.short):\(tracked.branch), then: \(again)",
                                 "or, on the record: \(again) --allow-untracked-revision"])
    }

    static func untrackedData(_ pinned: PinnedRevision, tracked: TrackedBranch) -> EventData {
        ["revision": .string(pinned.sha), "branch": .string(tracked.name), "head": .string(tracked.head)]
    }
}

extension Workspace {
    /// What `plan` and `revisions` read without `--rev`: the head `up` would deploy.
    public func trackedRevision(target: String, requested: String?, fetch: FetchMode) throws -> (revision: String, tracked: TrackedBranch?) {
        try TrackingGate(workspace: self, mode: fetch).revision(for: target, requested: requested)
    }
}
