import Foundation
import GitKit

/// How a target stands against the branch it tracks: what `status` shows and `sync` decides on.
public struct Drift: Sendable, Codable {
    public struct Commit: Sendable, Codable {
        public let commit: String
        public let subject: String
        public let author: String
    }

    public let tracked: TrackedBranch
    /// What the journal says is live (nil: never deployed, or degraded).
    public let deployed: String?
    /// Commits on the tracked branch the deployed revision does not contain.
    public let behind: Int
    /// Those of them that change the stack (its descriptor or `paths:`), newest first.
    public let touching: [Commit]
    /// The deployed revision is not on the tracked branch (deployed with --allow-untracked-revision,
    /// or the branch was rewritten).
    public let deployedOffBranch: Bool
    /// A rollback went back from the tracked head.
    public let headMarkedBad: Bool
    /// `sync` leaves the target alone until a newer commit touches the stack or `release`.
    public let hold: Hold?

    public var upToDate: Bool { deployed == tracked.head }
}

/// After a rollback (automatic or by hand) `sync` holds the target: it does not deploy again
/// until a commit touching the stack lands after the revision rolled back from, or someone
/// runs `deployctl release`. Derived from the journal and the branch, never stored.
public struct Hold: Sendable, Codable {
    /// The rollback that started it.
    public let run: String
    public let since: Date
    /// The revision that rollback went back from.
    public let from: String
    public let reason: String
}

struct DriftReader {
    let workspace: Workspace
    let journal: Journal?

    /// `deployed`: what the journal says is live (nil: never deployed, or degraded).
    func drift(target: String, tracked: TrackedBranch, deployed: String?) throws -> Drift {
        let stacks = workspace.stacks
        guard let head = ObjectID(hex: tracked.head) else { throw DeployError(.failed, "bad tracked head \(tracked.head)") }
        let pinnedHead = try stacks.pin(head.hex)
        let entry = try stacks.entry(for: target, at: pinnedHead)
        let patterns = stacks.patterns(of: entry, at: pinnedHead)
        let deployedID = deployed.flatMap(ObjectID.init(hex:)).flatMap { id in (try? stacks.repository.commit(id)).map { _ in id } }
        let (looked, touching) = try stacks.commitsTouching(patterns, from: head, since: deployedID)
        let bad = try journal?.badRevisions(target: target) ?? []
        return Drift(
            tracked: tracked, deployed: deployed, behind: looked,
            touching: touching.map { Drift.Commit(commit: $0.id.hex, subject: $0.subject, author: "\($0.authorName) <\($0.authorEmail)>") },
            deployedOffBranch: deployedID.map { !stacks.repository.isAncestor($0, of: head) } ?? false,
            headMarkedBad: bad.contains(tracked.head),
            hold: try hold(target: target, head: head, patterns: patterns))
    }

    /// The hold a rollback put on `target`, unless released or outgrown (see `Hold`).
    func hold(target: String, head: ObjectID, patterns: [PathPattern]) throws -> Hold? {
        guard let journal else { return nil }
        // An up by hand since the rollback ends the hold: someone chose what runs.
        guard let rollback = try journal.runs(RunQuery(target: target, kinds: [.up, .rollback], limit: 1)).first,
              rollback.kind == .rollback, rollback.status != .running else { return nil }
        if let released = try journal.events(target: target, kind: .holdReleased).last, released.at >= rollback.startedAt { return nil }
        let undone = try rollback.relatedRun.flatMap { try journal.run($0) }
        guard let fromHex = undone?.revision, let from = ObjectID(hex: fromHex) else { return nil }
        // A commit touching the stack after the bad one is the fix the hold waits for.
        if (try? workspace.stacks.repository.commit(from)) != nil,
           !(try workspace.stacks.commitsTouching(patterns, from: head, since: from, limit: 500).touching.isEmpty) { return nil }
        let how = rollback.operatorName.isEmpty ? "" : " by \(rollback.operatorName)"
        return Hold(run: rollback.id, since: rollback.startedAt, from: fromHex,
                    reason: "rollback \(rollback.id)\(how) went back from \(fromHex.prefix(10)); no commit touching the stack has landed since")
    }
}
