import Foundation

/// What a run's descriptor asks people to confirm: its manual items, sign-off roles and
/// readiness score. Read from the descriptor at the run's revision, never from HEAD.
public struct Checklist: Sendable, Hashable {
    public var manual: [ManualItem]
    public var signoff: [String]
    public var readiness: Readiness?

    public init(manual: [ManualItem], signoff: [String], readiness: Readiness?) {
        self.manual = manual
        self.signoff = signoff
        self.readiness = readiness
    }

    public init(_ descriptor: StackDescriptor) {
        self.init(manual: descriptor.manual, signoff: descriptor.signoff, readiness: descriptor.readiness)
    }

    public var isEmpty: Bool { manual.isEmpty && signoff.isEmpty && readiness == nil }
}

/// A run's reviews against its checklist: what is ticked, scored and signed, by whom, and
/// whether the run is *accepted* — it succeeded, every manual item is ticked, the readiness
/// total reaches the pass mark and every role has signed. Pure: status, show, the reports and
/// the promotion rule all read acceptance from here.
public struct ReviewState: Sendable {
    public let checklist: Checklist
    public let runStatus: RunStatus
    /// Each item's tick (the first one counts: later ticks of the same item add nothing).
    public let ticks: [String: ReviewRecord]
    /// Each category's newest score.
    public let scores: [String: ReviewRecord]
    /// Each role's signature (the first).
    public let signatures: [String: ReviewRecord]
    public let notes: [ReviewRecord]

    public init(checklist: Checklist, runStatus: RunStatus, reviews: [ReviewRecord]) {
        self.checklist = checklist
        self.runStatus = runStatus
        var ticks: [String: ReviewRecord] = [:], scores: [String: ReviewRecord] = [:], signatures: [String: ReviewRecord] = [:]
        var notes: [ReviewRecord] = []
        for review in reviews.sorted(by: { ($0.at, $0.id) < ($1.at, $1.id) }) {
            switch review.kind {
            case .tick: if let item = review.subject, ticks[item] == nil { ticks[item] = review }
            case .score: if let category = review.subject { scores[category] = review }
            case .sign: if let role = review.subject, signatures[role] == nil { signatures[role] = review }
            case .note: notes.append(review)
            }
        }
        self.ticks = ticks
        self.scores = scores
        self.signatures = signatures
        self.notes = notes
    }

    /// The readiness total so far (unscored categories count 0).
    public var readinessTotal: Int {
        checklist.readiness?.categories.reduce(0) { $0 + (scores[$1]?.score ?? 0) } ?? 0
    }

    /// What still stands between the run and acceptance, one line each, in checklist order.
    public var missing: [String] {
        var missing: [String] = []
        if runStatus != .succeeded { missing.append("the run \(runStatus == .running ? "is still running" : "did not succeed (\(runStatus.rawValue))")") }
        let unticked = checklist.manual.filter { ticks[$0.text] == nil }
        if !unticked.isEmpty {
            missing.append("\(unticked.count) of \(checklist.manual.count) manual item\(checklist.manual.count == 1 ? "" : "s") not ticked: "
                           + unticked.prefix(3).map { "'\($0.text)'" }.joined(separator: ", ") + (unticked.count > 3 ? ", …" : ""))
        }
        if let readiness = checklist.readiness, readinessTotal < readiness.pass {
            let unscored = readiness.categories.filter { scores[$0] == nil }
            missing.append("readiness \(readinessTotal)/\(readiness.maximum), passing at \(readiness.pass)"
                           + (unscored.isEmpty ? "" : " (not scored: \(unscored.joined(separator: ", ")))"))
        }
        let unsigned = checklist.signoff.filter { signatures[$0] == nil }
        if !unsigned.isEmpty { missing.append("not signed by: \(unsigned.joined(separator: ", "))") }
        return missing
    }

    public var accepted: Bool { missing.isEmpty }

    /// When the last review that completed acceptance was recorded (nil while not accepted).
    public var acceptedAt: Date? {
        guard accepted else { return nil }
        return (Array(ticks.values) + Array(scores.values) + Array(signatures.values)).map(\.at).max()
    }
}

extension Readiness {
    public var maximum: Int { categories.count * scale }
}
