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
    /// `retry`: the command that names this revision again (default: `up`'s); `overridable`:
    /// it takes `--allow-untracked-revision` (`up`, `rollback`).
    func admit(_ pinned: PinnedRevision, tracked: TrackedBranch?, target: String, allow: Bool, retry: String? = nil,
               overridable: Bool = true) throws -> Bool {
        guard let tracked, let head = ObjectID(hex: tracked.head) else { return false }
        if workspace.stacks.repository.isAncestor(pinned.id, of: head) { return false }
        if allow { return true }
        let again = retry ?? "deployctl up \(target) --rev \(pinned.short)"
        throw DeployError(.refused, "\(pinned.short) (\(pinned.requested)) is not on \(tracked.name), which \(target) tracks (\(Tracker.freshness(tracked))): only what the team pushed runs; nothing was run",
                          next: ["push it: git push \(tracked.remote) \(pinned.short):\(tracked.branch), then: \(again)"]
                              + (overridable ? ["or, on the record: \(again) --allow-untracked-revision"] : []))
    }

    /// Throws exit 4 when the tracked branch no longer contains the revision the target runs:
    /// someone force-pushed or reset it back. Deploying its head as a plain `up` would go back
    /// without a rollback's steps (and `sync` would do it unasked). A revision deployed off the
    /// branch on purpose (`untracked_revision_allowed`) is no such sign: the head takes over.
    func refuseRewound(_ head: PinnedRevision, tracked: TrackedBranch, target: String, journal: Journal) throws {
        guard let deployed = try journal.environmentState(target: target).deployed, deployed.revision != head.sha else { return }
        // A commit this clone lacks (a shallow CI checkout) says nothing either way, as in `status`.
        let repository = workspace.stacks.repository
        guard let id = ObjectID(hex: deployed.revision), (try? repository.commit(id)) != nil else { return }
        if repository.isAncestor(id, of: head.id) { return }
        // Deployed off the branch on purpose, by whichever run (a rollback back to it carries no event).
        if try journal.events(target: target, kind: .untrackedRevisionAllowed).contains(where: { $0.data["revision"]?.string == deployed.revision }) { return }
        throw DeployError(.refused, "\(tracked.name), which \(target) tracks (\(Tracker.freshness(tracked))), no longer contains \(deployed.revision.prefix(10)), the revision \(target) runs (run \(deployed.run)): the branch was force-pushed or reset. Deploying its head \(head.short) would go back without a rollback's steps; nothing was run",
                          next: ["go back properly: deployctl rollback \(target) --to \(head.short)",
                                 "or deploy the head as a new revision, on purpose: deployctl up \(target) --rev \(head.short)",
                                 "or, if the push was a mistake, push \(deployed.revision.prefix(10)) back: git push \(tracked.remote) \(deployed.revision.prefix(10)):\(tracked.branch)"])
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
