/// The descriptor whose gates (`signatures:`, `promotion:`) govern a deploy: the one of the
/// revision the target runs or, degraded, of its last good one. A commit must not be able to
/// lift a gate for itself, so its own policy can only add to this one's.
enum GoverningDescriptor {
    /// Nothing deployed yet: the new commit's own policy is all there is.
    case nothingDeployed
    case loaded(StackDescriptor, revision: String)
    /// The governing revision is not in this clone, or its descriptor no longer loads (a
    /// newer deployctl's stricter rules, a limit lowered).
    case unavailable(revision: String, why: String)

    static func of(target: String, entry: StackCatalog.Entry, workspace: Workspace, journal: Journal?) throws -> GoverningDescriptor {
        let state = try journal?.environmentState(target: target)
        guard let revision = state?.deployed?.revision ?? state?.lastGood?.revision else { return .nothingDeployed }
        guard let pinned = try? workspace.stacks.pin(revision) else {
            return .unavailable(revision: revision, why: "which this clone does not have")
        }
        do {
            return .loaded(try workspace.load(entry, at: pinned), revision: revision)
        } catch {
            return .unavailable(revision: revision, why: "whose descriptor does not load here")
        }
    }

    var revision: String? {
        switch self {
        case .nothingDeployed: nil
        case .loaded(_, let revision), .unavailable(let revision, _): revision
        }
    }

    /// When unavailable and the gate was in force (`inForce`: its events in the journal), the
    /// refusal: failing open would let the new commit decide. Nil otherwise.
    func refusal(gate: String, target: String, inForce: Bool) -> DeployError? {
        guard case .unavailable(let revision, let why) = self, inForce else { return nil }
        return DeployError(.refused, "the \(gate) policy of \(target) comes from the revision it runs, \(revision.prefix(10)), \(why); nothing was run",
                           next: ["fetch it (git fetch origin; if it was force-pushed away, from a clone that still has it) and check `deployctl validate \(target) --rev \(revision.prefix(10))`, then run it again"])
    }
}
