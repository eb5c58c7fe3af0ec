import Foundation

/// What a reviewer can record about a run: seed 004's sign-off table and readiness score, the
/// manual checklist every seed keeps, and its "deviations from the standard process".
public enum ReviewKind: String, Sendable, Codable, CaseIterable {
    /// A manual item confirmed (`subject`: the item's text).
    case tick
    /// A readiness category rated (`subject`: the category, `score`: 1…scale). The newest counts.
    case score
    /// A role signed (`subject`: the role).
    case sign
    /// Free text for the record (`text`).
    case note
}

/// One review action as the store keeps it: who, from where, when, about which run. Reviews
/// live in their own table so a reviewer's role can be allowed to add them and nothing else.
public struct ReviewRecord: Sendable, Codable, Hashable {
    public var id: Int64
    public var runID: String
    public var target: String
    public var kind: ReviewKind
    public var subject: String?
    public var score: Int?
    public var text: String?
    public var reviewer: String
    public var host: String
    public var at: Date

    public init(id: Int64 = 0, runID: String, target: String, kind: ReviewKind, subject: String? = nil, score: Int? = nil,
                text: String? = nil, reviewer: String, host: String, at: Date) {
        self.id = id
        self.runID = runID
        self.target = target
        self.kind = kind
        self.subject = subject
        self.score = score
        self.text = text
        self.reviewer = reviewer
        self.host = host
        self.at = at
    }

    /// The same review as another store recorded it (an import seen twice): ids differ between stores.
    func sameReview(as other: ReviewRecord) -> Bool {
        runID == other.runID && kind == other.kind && subject == other.subject && score == other.score && text == other.text
            && reviewer == other.reviewer && abs(at.timeIntervalSince(other.at)) < 0.001
    }
}
