import Foundation

/// What a revision passes before its steps run with an environment's secrets for the first
/// time: only what the team pushed (`TrackingGate`), signed where the governing descriptor
/// asks (`SignatureGate`), promoted where it asks (`PromotionGate`). `up` passes all three;
/// so does `rollback --to` a revision no run of the target deployed, which is a deploy of
/// untried code under another name. What passed is journaled on the run that follows.
struct RevisionAdmission {
    var offBranch: TrackedBranch?
    var signatures: [SignatureVerdict] = []
    var promotions: [PromotionGate.Passed] = []

    /// The signature and promotion gates, on one reading of the governing descriptor (the
    /// tracking gate is the caller's: `up` reads its revision from it; `offBranch` is what it said).
    static func check(_ pinned: PinnedRevision, entry: StackCatalog.Entry, descriptor: StackDescriptor, offBranch: TrackedBranch?,
                      workspace: Workspace, journal: Journal) throws -> RevisionAdmission {
        let governing = try GoverningDescriptor.of(target: entry.target, entry: entry, workspace: workspace, journal: journal)
        var admitted = RevisionAdmission(offBranch: offBranch)
        admitted.signatures = try SignatureGate(workspace: workspace, journal: journal)
            .check(target: entry.target, entry: entry, deploying: pinned, descriptor: descriptor, governing: governing) ?? []
        admitted.promotions = try PromotionGate(workspace: workspace, journal: journal)
            .check(target: entry.target, entry: entry, deploying: pinned, descriptor: descriptor, governing: governing)
        return admitted
    }

    /// The gates for a revision no deploy admitted that a command runs without deploying it
    /// (`runbook --rev`, the inbound switch of a target never deployed): on the tracked branch
    /// and signed where the governing descriptor asks. Promotion is about deploys.
    static func checkUndeployed(_ pinned: PinnedRevision, entry: StackCatalog.Entry, descriptor: StackDescriptor,
                                workspace: Workspace, journal: Journal, retry: String, fetch: FetchMode = .fetch) throws -> RevisionAdmission {
        let gate = TrackingGate(workspace: workspace, mode: fetch)
        _ = try gate.admit(pinned, tracked: try gate.tracker.tracked(target: entry.target), target: entry.target, allow: false, retry: retry,
                           overridable: false)
        var admitted = RevisionAdmission()
        admitted.signatures = try SignatureGate(workspace: workspace, journal: journal)
            .check(target: entry.target, entry: entry, deploying: pinned, descriptor: descriptor) ?? []
        return admitted
    }

    /// Refuses (exit 4) a revision an earlier rollback marked bad, unless `allow`; with
    /// `since`, only a mark made after it (a resumed run was admitted, maybe with the flag).
    static func refuseBad(_ pinned: PinnedRevision, target: String, journal: Journal, allow: Bool, retry: String, since: Date? = nil) throws {
        guard !allow, let bad = try journal.events(target: target, kind: .revisionMarkedBad).last(where: { event in
            event.data["revision"]?.string == pinned.sha && since.map { event.at > $0 } ?? true
        }) else { return }
        throw DeployError(.refused, "\(pinned.short) is marked bad for \(target): run \(bad.runID ?? "?") was rolled back from it (\(Timestamp.human(bad.at))); nothing was run",
                          next: ["deploy a fixed revision, or if you are sure: \(retry) --allow-bad-revision"])
    }

    /// The journal's record of what passed, on the run `runID` (once it exists).
    func record(_ pinned: PinnedRevision, target: String, runID: String, in journal: Journal) throws {
        if let offBranch {
            try journal.event(.untrackedRevisionAllowed, target: target, runID: runID, data: TrackingGate.untrackedData(pinned, tracked: offBranch))
        }
        for passed in promotions {
            try journal.event(.promotionPassed, target: target, runID: runID, data: PromotionGate.data(passed))
        }
        for verdict in signatures {
            try journal.event(.signatureVerified, target: target, runID: runID, data: SignatureGate.data(verdict))
        }
    }
}
