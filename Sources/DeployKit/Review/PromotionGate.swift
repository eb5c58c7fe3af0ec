import Foundation

/// `promotion: {from: staging}`: before `up` changes anything, the last `up` of the named
/// environment must be accepted (and, unless `same_revision: false`, be of the revision
/// about to deploy). Refuses with exit 4 and what is missing. The policy is the governing
/// descriptor's (`GoverningDescriptor`) and the new commit's both: a commit that drops its
/// `promotion:` or loosens it still passes the gate the running revision set.
struct PromotionGate {
    let workspace: Workspace
    let journal: Journal

    /// What the gate checked: each promotion with the run of its source environment that
    /// passed it, to journal (`promotion_passed`) once the run exists.
    struct Passed {
        let from: String
        let run: RunRecord
    }

    /// `governing`: when the caller has it already (`RevisionAdmission`), not loaded again.
    func check(target: String, entry: StackCatalog.Entry, deploying revision: PinnedRevision, descriptor: StackDescriptor,
               governing known: GoverningDescriptor? = nil) throws -> [Passed] {
        let governing = try known ?? GoverningDescriptor.of(target: target, entry: entry, workspace: workspace, journal: journal)
        if let refusal = governing.refusal(gate: "promotion", target: target,
                                           inForce: !(try journal.events(target: target, kind: .promotionPassed).isEmpty)) {
            throw refusal
        }
        var policies: [Promotion] = []
        if case .loaded(let running, _) = governing, let promotion = running.promotion { policies.append(promotion) }
        if let own = descriptor.promotion {
            if let index = policies.firstIndex(where: { $0.from == own.from }) {
                policies[index].sameRevision = policies[index].sameRevision || own.sameRevision
            } else {
                policies.append(own)
            }
        }
        return try policies.map { Passed(from: $0.from, run: try check($0, deploying: revision, to: target)) }
    }

    /// The journal's record of a passed promotion.
    static func data(_ passed: Passed) -> EventData {
        ["from": .string(passed.from), "run": .string(passed.run.id), "revision": .string(passed.run.revision)]
    }

    private func check(_ promotion: Promotion, deploying revision: PinnedRevision, to target: String) throws -> RunRecord {
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
        return last
    }
}
