import Foundation

/// One run a command started, as it ended: what the terminal, the JSON event stream and the
/// exit code are made from.
public struct FinishedRun: Sendable {
    public let run: RunRecord
    public let outcome: RunOutcome
    /// The exact next commands, most useful first.
    public var next: [String]
    /// The run's HTML report (Markdown, JSON and JUnit lie beside it).
    public var reportPath: String?

    public init(run: RunRecord, outcome: RunOutcome, next: [String], reportPath: String? = nil) {
        self.run = run
        self.outcome = outcome
        self.next = next
        self.reportPath = reportPath
    }
}

extension ExitStatus {
    /// The one place a command's exit code is decided from the runs it started (an `up` and
    /// its automatic rollback, say): a signal that stopped any of them wins, else the first
    /// run decides: 0 succeeded, 4 a gate nobody could answer or a person declined, 1 failed.
    public static func of(_ runs: [FinishedRun]) -> ExitStatus {
        if let signal = runs.lazy.compactMap(\.outcome.signal).first { return of(signal: signal) }
        guard let first = runs.first?.outcome else { return .ok }
        switch first.status {
        case .succeeded: return .ok
        case .cancelled: return .refused
        default: return first.needsConfirmation ? .refused : .failed
        }
    }

    public static func of(signal: Int32) -> ExitStatus {
        signal == SIGTERM ? .terminated : signal == SIGHUP ? .hangup : .interrupted
    }
}
