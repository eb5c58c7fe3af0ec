import Foundation

/// A run's review as people read it — `review show`, `show`, `status`, every report: each
/// checklist line with who confirmed it and when, and whether the run is accepted.
public struct RunReview: Codable, Sendable, Hashable {
    public struct Item: Codable, Sendable, Hashable {
        public var item: String
        public var section: String?
        public var tickedBy: String?
        public var tickedAt: Date?
    }
    public struct Score: Codable, Sendable, Hashable {
        public var category: String
        public var score: Int?
        public var scoredBy: String?
        public var scoredAt: Date?
    }
    public struct Readiness: Codable, Sendable, Hashable {
        public var scores: [Score]
        public var total: Int
        public var pass: Int
        public var scale: Int
        public var maximum: Int
    }
    public struct Signature: Codable, Sendable, Hashable {
        public var role: String
        public var signedBy: String?
        public var signedAt: Date?
    }
    public struct Note: Codable, Sendable, Hashable {
        public var text: String
        public var by: String
        public var at: Date
    }

    public var runId: String
    public var target: String
    public var revision: String
    public var accepted: Bool
    public var acceptedAt: Date?
    /// What still stands between the run and acceptance.
    public var missing: [String]
    public var manual: [Item]
    public var readiness: Readiness?
    public var signoff: [Signature]
    public var notes: [Note]

    public init(run: RunRecord, state: ReviewState) {
        runId = run.id
        target = run.target
        revision = run.revision
        accepted = state.accepted
        acceptedAt = state.acceptedAt
        missing = state.missing
        manual = state.checklist.manual.map { item in
            let tick = state.ticks[item.text]
            return Item(item: item.text, section: item.section, tickedBy: tick?.reviewer, tickedAt: tick?.at)
        }
        readiness = state.checklist.readiness.map { readiness in
            Readiness(scores: readiness.categories.map { category in
                          let score = state.scores[category]
                          return Score(category: category, score: score?.score, scoredBy: score?.reviewer, scoredAt: score?.at)
                      },
                      total: state.readinessTotal, pass: readiness.pass, scale: readiness.scale, maximum: readiness.maximum)
        }
        signoff = state.checklist.signoff.map { role in
            let signature = state.signatures[role]
            return Signature(role: role, signedBy: signature?.reviewer, signedAt: signature?.at)
        }
        notes = state.notes.map { Note(text: $0.text ?? "", by: $0.reviewer, at: $0.at) }
    }

    /// One line: accepted, or what is pending.
    public var summary: String {
        accepted ? "accepted" : "pending: " + missing.joined(separator: "; ")
    }
}
