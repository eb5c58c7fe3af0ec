import Foundation

/// `deployctl review …`: a reviewer ticks a manual item, scores readiness, signs for a role or
/// adds a note on an `up` run, checked against the descriptor *at the run's revision* and
/// journaled with who and when (in the shared store when there is one).
public struct ReviewAction {
    public enum Change: Sendable {
        case tick([String])
        case score([(category: String, score: Int)])
        case sign(String)
        case note(String)
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// A run's review as it stands. `runOrTarget`: a run id (or unique prefix), or a target
    /// for the run deployed there (else its newest `up`).
    public func show(_ runOrTarget: String) throws -> RunReview {
        let journal = try workspace.openJournal()
        let run = try resolve(runOrTarget, journal: journal)
        return RunReview(run: run, state: try Self.state(of: run, checklist: try Self.checklist(of: run, workspace: workspace), journal: journal))
    }

    /// Records `change`; returns the review after it and what was said (already ticked, …).
    public func record(_ change: Change, on runOrTarget: String) throws -> (review: RunReview, notes: [String]) {
        let journal = try workspace.openJournal()
        let run = try resolve(runOrTarget, journal: journal)
        let checklist = try Self.checklist(of: run, workspace: workspace)
        let before = try Self.state(of: run, checklist: checklist, journal: journal)
        var notes: [String] = []
        var records: [ReviewRecord] = []
        func record(_ kind: ReviewKind, subject: String? = nil, score: Int? = nil, text: String? = nil) {
            records.append(ReviewRecord(runID: run.id, target: run.target, kind: kind, subject: subject, score: score, text: text,
                                        reviewer: workspace.operatorName, host: ProcessIdentity.hostName, at: Date()))
        }
        if case .note = change {} else { try Self.requireReviewable(run) }
        switch change {
        case .tick(let items):
            for given in items {
                let item = try Self.manualItem(given, in: checklist, run: run)
                if let tick = before.ticks[item.text] {
                    notes.append("'\(item.text)' was already ticked by \(tick.reviewer) \(Timestamp.human(tick.at))")
                } else if !records.contains(where: { $0.subject == item.text }) {
                    record(.tick, subject: item.text)
                }
            }
        case .score(let scores):
            guard let readiness = checklist.readiness else {
                throw DeployError(.usage, "\(run.target) at \(run.revision.prefix(10)) declares no readiness score; nothing was recorded",
                                  next: ["deployctl review show \(run.id)"])
            }
            for (given, score) in scores {
                guard let category = readiness.categories.first(where: { $0.caseInsensitiveCompare(given) == .orderedSame }) else {
                    throw DeployError(.usage, "'\(given)' is not a readiness category of \(run.target) at \(run.revision.prefix(10))"
                                      + Suggestion.hint(for: given, in: readiness.categories) + "; nothing was recorded",
                                      next: ["categories: " + readiness.categories.joined(separator: ", ")])
                }
                guard (1...readiness.scale).contains(score) else {
                    throw DeployError(.usage, "a readiness score is 1…\(readiness.scale), not \(score) ('\(category)'); nothing was recorded")
                }
                record(.score, subject: category, score: score)
            }
        case .sign(let given):
            guard let role = checklist.signoff.first(where: { $0.caseInsensitiveCompare(given) == .orderedSame }) else {
                throw DeployError(.usage, "'\(given)' is not a sign-off role of \(run.target) at \(run.revision.prefix(10))"
                                  + Suggestion.hint(for: given, in: checklist.signoff) + "; nothing was recorded",
                                  next: [checklist.signoff.isEmpty ? "the descriptor declares no signoff: roles" : "roles: " + checklist.signoff.joined(separator: ", ")])
            }
            if let signature = before.signatures[role] {
                notes.append("\(role) was already signed by \(signature.reviewer) \(Timestamp.human(signature.at))")
            } else {
                record(.sign, subject: role)
            }
        case .note(let text):
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw DeployError(.usage, "a note needs some text; nothing was recorded") }
            guard trimmed.utf8.count <= 16_384 else { throw DeployError(.usage, "a note is at most 16 KiB (this one is \(trimmed.utf8.count) bytes); nothing was recorded") }
            record(.note, text: trimmed)
        }
        do {
            for review in records { _ = try journal.addReview(review) }
        } catch let failure as StoreFailure where failure.isPermissionDenied {
            throw DeployError(.refused, "the store refused the review: this role may not add reviews (\(failure)); nothing was recorded",
                              next: ["ask the store's owner for: GRANT INSERT ON <schema>.reviews, USAGE ON SEQUENCE <schema>.reviews_id_seq TO <role>   (README: Reviews)"])
        }
        let after = try Self.state(of: run, checklist: checklist, journal: journal)
        // The reports in this machine's state directory say what the journal now says.
        if !records.isEmpty, let paths = try? ReportAction(workspace: workspace).writeAll(runID: run.id, journal: journal), let html = paths[.html] {
            notes.append("reports regenerated: \(html)")
        }
        return (RunReview(run: run, state: after), notes)
    }

    /// The review state of `run`, from its descriptor at its revision (`kept`: or the checklist
    /// the state directory keeps, for display only). Nil when that descriptor cannot be read
    /// here (the repository lacks the commit).
    static func state(of run: RunRecord, workspace: Workspace, journal: Journal, kept: Bool = false) throws -> ReviewState? {
        guard run.kind == .up,
              let checklist = try? (kept ? keptChecklist(of: run, workspace: workspace) : checklist(of: run, workspace: workspace)) else { return nil }
        return try state(of: run, checklist: checklist, journal: journal)
    }

    /// The review as `show` and `status` print it: nil when the run has nothing to review (not
    /// an up, a descriptor that asks for nothing, or one this clone cannot read).
    static func review(of run: RunRecord, workspace: Workspace, journal: Journal) throws -> RunReview? {
        try state(of: run, workspace: workspace, journal: journal, kept: true).flatMap { $0.checklist.isEmpty ? nil : RunReview(run: run, state: $0) }
    }

    /// The checklist against what the journal holds of the run's reviews.
    private static func state(of run: RunRecord, checklist: Checklist, journal: Journal) throws -> ReviewState {
        ReviewState(checklist: checklist, runStatus: run.status, reviews: try journal.reviews(runID: run.id))
    }

    /// What the descriptor at the run's revision asks people to confirm, read from the
    /// descriptor (and kept for display: see `ChecklistCache`).
    static func checklist(of run: RunRecord, workspace: Workspace) throws -> Checklist {
        guard run.kind == .up else {
            throw DeployError(.usage, "run \(run.id) is a \(run.kind.rawValue); only an up run has a checklist to review",
                              next: ["deployctl runs \(run.target)   (its up runs)"])
        }
        let checklist = try readChecklist(of: run, workspace: workspace)
        ChecklistCache(state: workspace.state, revision: run.revision, target: run.target).save(checklist)
        return checklist
    }

    /// The same, from the state directory when it keeps it: for what `status` and `show` print.
    private static func keptChecklist(of run: RunRecord, workspace: Workspace) throws -> Checklist {
        guard run.kind == .up, let kept = ChecklistCache(state: workspace.state, revision: run.revision, target: run.target).load() else {
            return try checklist(of: run, workspace: workspace)
        }
        return kept
    }

    private static func readChecklist(of run: RunRecord, workspace: Workspace) throws -> Checklist {
        let pinned: PinnedRevision
        do {
            pinned = try workspace.stacks.pin(run.revision)
        } catch {
            throw DeployError(.usage, "the stacks repository here has no commit \(run.revision.prefix(12)) (run \(run.id)'s revision), so its checklist cannot be read",
                              next: ["git fetch   (in \(workspace.stacks.root)), then again"])
        }
        let entry = try workspace.stacks.entry(for: run.target, at: pinned)
        return Checklist(try workspace.load(entry, at: pinned))
    }

    /// A run id (or prefix), else a target: the run deployed there, else its newest `up`.
    func resolve(_ runOrTarget: String, journal: Journal) throws -> RunRecord {
        do {
            return try journal.resolveRun(runOrTarget)
        } catch let error as JournalError {
            // Several runs start so: say which, rather than trying it as a target.
            if case .ambiguousRun = error { throw DeployError(.usage, "\(error)", next: ["deployctl runs"]) }
        }
        let target: String
        do {
            target = try workspace.stacks.entry(for: runOrTarget, at: workspace.stacks.pin("HEAD")).target
        } catch {
            throw DeployError(.usage, "'\(runOrTarget)' is neither a run id nor a target",
                              next: ["deployctl runs   (run ids; any unique prefix of one works)", "deployctl stacks   (targets)"])
        }
        let (runs, state) = try journal.recentHistory(target: target)
        if let deployed = state.deployed, deployed.kind == .up,
           let run = try runs.first(where: { $0.id == deployed.run }) ?? journal.run(deployed.run) { return run }
        guard let newest = runs.first(where: { $0.kind == .up }) else {
            throw DeployError(.usage, "\(target) has no up run to review", next: ["deployctl up \(target)"])
        }
        return newest
    }

    /// Ticks, scores and signatures confirm a finished, succeeded deploy; notes go on any up run.
    static func requireReviewable(_ run: RunRecord) throws {
        guard run.status == .succeeded else {
            throw DeployError(.refused, "run \(run.id) of \(run.target) \(run.status == .running ? "is still running" : "ended \(run.status.rawValue)"): only a succeeded run can be ticked, scored or signed; nothing was recorded",
                              next: ["a note still can: deployctl review note \(run.id) \"…\"", "deployctl status \(run.target)"])
        }
    }

    /// A manual item by its exact text (any case) or its number as `review show` lists it.
    static func manualItem(_ given: String, in checklist: Checklist, run: RunRecord) throws -> ManualItem {
        if let number = Int(given.trimmingCharacters(in: CharacterSet(charactersIn: "#"))), checklist.manual.indices.contains(number - 1) {
            return checklist.manual[number - 1]
        }
        if let item = checklist.manual.first(where: { $0.text.caseInsensitiveCompare(given) == .orderedSame }) { return item }
        throw DeployError(.usage, "'\(given)' is not a manual item of \(run.target) at \(run.revision.prefix(10))"
                          + Suggestion.hint(for: given, in: checklist.manual.map(\.text)) + "; nothing was recorded",
                          next: [checklist.manual.isEmpty ? "the descriptor declares no manual: items" : "the items, numbered: deployctl review show \(run.id)"])
    }
}
