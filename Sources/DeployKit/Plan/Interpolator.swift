/// The mask every secret value is shown as.
public let secretMask = "••••"

/// Fills `${…}` references. In a plan, secrets are masked; when a step really runs they are
/// revealed to that step only. Unset environment variables are collected as diagnostics.
public struct Interpolator {
    public enum SecretMode: Sendable { case mask, reveal }

    public var inputs: [String: String]
    public var secrets: [String: String]
    public var environment: [String: String]
    public var run: [String: String]
    public var backupPath: String?
    public var mode: SecretMode
    /// Optional secrets that are not set: they read as empty (optional credentials, seed 003).
    public var unsetOptionalSecrets: Set<String> = []
    public private(set) var problems: [Diagnostic] = []

    public init(inputs: [String: String], secrets: [String: String], environment: [String: String],
                run: [String: String], backupPath: String?, mode: SecretMode) {
        self.inputs = inputs
        self.secrets = secrets
        self.environment = environment
        self.run = run
        self.backupPath = backupPath
        self.mode = mode
    }

    public mutating func render(_ template: Template) -> String {
        var missing: [String] = []
        let text = template.render { reference -> String in
            switch reference.namespace {
            case "inputs": return inputs[reference.name] ?? ""
            case "secrets":
                if unsetOptionalSecrets.contains(reference.name) { return "" }
                if mode == .mask { return secretMask }
                if let value = secrets[reference.name] { return value }
                missing.append("secret '\(reference.name)' has no value")
                return ""
            case "env":
                if let value = environment[reference.name] { return value }
                missing.append("environment variable \(reference.name) is not set (used as ${env.\(reference.name)})")
                return ""
            case "run": return run[reference.name] ?? ""
            case "backup": return backupPath ?? ""
            default: return ""
            }
        }
        for message in missing where !problems.contains(where: { $0.message == message }) {
            problems.append(.error(message, at: template.location))
        }
        return text
    }

    /// A problem found while filling in values (a port that is not a number).
    public mutating func report(_ message: String, at location: FileLocation) {
        if !problems.contains(where: { $0.message == message }) { problems.append(.error(message, at: location)) }
    }

    public mutating func render(_ command: CommandSpec) -> [String] {
        switch command {
        case .argv(let items): return items.map { render($0) }
        case .shell(let script): return ["/bin/sh", "-c", render(script)]
        }
    }
}
