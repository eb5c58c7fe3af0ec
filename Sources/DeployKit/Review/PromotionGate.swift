import Foundation

/// `promotion: {from: staging}`: before `up` changes anything, the last `up` of the named
/// environment must be accepted (and, unless `same_revision: false`, be of the revision
/// about to deploy). Refuses with exit 4 and what is missing.
struct PromotionGate {
    let workspace: Workspace
    let journal: Journal

    func check(_ promotion: Promotion, deploying revision: PinnedRevision, to target: String) throws {
        let from = promotion.from
        guard let last = try journal.runs(RunQuery(target: from, kinds: [.up], limit: 1)).first else {
            throw DeployError(.refused, "\(target) is promoted from \(from) (promotion:), which has no up run yet; nothing was run",
                              next: ["deployctl up \(from) --rev \(revision.short)", "then review and accept it: deployctl review show \(from)"])
        }
        if promotion.sameRevision, last.revision != revision.sha {
            throw DeployError(.refused, "\(target) is promoted from \(from) (promotion:), whose last up (run \(last.id)) deployed \(last.revision.prefix(10)), not \(revision.short); nothing was run",
                              next: ["deployctl up \(from) --rev \(revision.short), have it accepted, then deployctl up \(target) --rev \(revision.short)",
                                     "or deploy what \(from) accepted: deployctl up \(target) --rev \(last.revision.prefix(10))"])
        }
        guard let state = try ReviewAction.state(of: last, workspace: workspace, journal: journal) else {
            throw DeployError(.refused, "\(target) is promoted from \(from), but the checklist of its last up (run \(last.id) at \(last.revision.prefix(10))) cannot be read here; nothing was run",
                              next: ["git fetch in \(workspace.stacks.root), then again"])
        }
        guard state.accepted else {
            throw DeployError(.refused, "\(target) is promoted from \(from) (promotion:), whose last up (run \(last.id) at \(last.revision.prefix(10))) is not accepted: "
                              + state.missing.joined(separator: "; ") + "; nothing was run",
                              next: ["deployctl review show \(last.id)", "then again: deployctl up \(target) --rev \(revision.short)"])
        }
    }
}
