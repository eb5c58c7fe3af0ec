/// A step as runs and observers name it.
public struct StepRef: Sendable, Hashable, CustomStringConvertible {
    public let phase: String
    public let name: String

    public init(phase: String, name: String) {
        self.phase = phase
        self.name = name
    }

    public var description: String { "\(phase)/\(name)" }
}

extension StepRef {
    /// The parts of a run that are not one of the five phases (`StepRef.phase` holds either).
    public enum Section {
        public static let rollback = "rollback"
        /// Rounds of the bake window after postdeploy (`bake:`), named `CHECK#ROUND`.
        public static let bake = "bake"
        /// `rollback_prepare:` steps, run before the inbound guard.
        public static let prepare = "prepare"
        public static let inbound = "inbound"
        public static let runbook = "runbook"
    }

    /// A step run on a host is journaled as `NAME@HOST` (step and host names hold no `@`).
    public static let hostSeparator: Character = "@"

    static func name(_ step: String, on host: String) -> String {
        step + String(hostSeparator) + host
    }

    /// The step and the host of a `NAME@HOST` name; nil for a step that ran here.
    static func hostParts(of name: String) -> (step: Substring, host: Substring)? {
        guard let at = name.lastIndex(of: hostSeparator) else { return nil }
        return (name[..<at], name[name.index(after: at)...])
    }
}

/// Whoever shows a run as it happens (the terminal, JSON events). Called from several
/// threads at once: implementations serialise their own output.
public protocol RunObserver: AnyObject, Sendable {
    /// A run's record was created (or a resumed run reopened): its id is known from here on.
    func runStarted(_ run: RunRecord)
    func stepStarted(_ step: StepRef, attempt: Int, argv: [String])
    func output(_ step: StepRef, line: String, stream: OutputChannel)
    func stepFinished(_ step: StepRef, attempt: Int, status: StepStatus, durationMs: Int, detail: String?)
    func stepSkipped(_ step: StepRef, reason: String)
    func note(_ text: String)
    /// Asks a person; nil when nobody can be asked (no terminal).
    func confirm(_ question: String, step: StepRef) -> Bool?
}

extension RunObserver {
    public func runStarted(_ run: RunRecord) {}
}

/// Forwards one step's output lines to the run's observer.
final class StepLines: OutputObserver, @unchecked Sendable {
    let step: StepRef
    let observer: RunObserver

    init(step: StepRef, observer: RunObserver) {
        self.step = step
        self.observer = observer
    }

    func line(_ text: String, stream: OutputChannel) {
        observer.output(step, line: text, stream: stream)
    }
}
