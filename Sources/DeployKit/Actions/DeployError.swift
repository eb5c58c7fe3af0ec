/// deployctl's exit codes, as README documents them.
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    /// A step or check failed.
    case failed = 1
    /// Usage error or invalid descriptor.
    case usage = 2
    /// The environment is locked by another run.
    case locked = 3
    /// Refused by a safety rule.
    case refused = 4
    /// SIGHUP: the terminal went away (a closed SSH session).
    case hangup = 129
    case interrupted = 130
    case terminated = 143
}

/// An error meant for a person at a terminal: what failed, and the exact next commands.
public struct DeployError: Error, CustomStringConvertible, Sendable {
    public let status: ExitStatus
    public let message: String
    /// Diagnostics behind the error (descriptor problems), printed before the message.
    public let diagnostics: [Diagnostic]
    /// The commands or actions to try next, most useful first.
    public let next: [String]

    public init(_ status: ExitStatus, _ message: String, diagnostics: [Diagnostic] = [], next: [String] = []) {
        self.status = status
        self.message = message
        self.diagnostics = diagnostics
        self.next = next
    }

    public var description: String { message }
}
