/// What is known of a secret without showing it.
public enum SecretStatus: String, Sendable, Codable {
    case set
    case missing
    case rejected
    case tooShort = "too_short"
    case unreadable
}

/// A secret's state and, when set, its value. The value never goes into a plan, a report or
/// a log: it exists so steps can receive it and so output can be redacted.
public struct ResolvedSecret: Sendable {
    public let name: String
    public let source: String
    public let status: SecretStatus
    public let value: String?
}

/// Reads declared secrets from the environment or files and refuses known defaults.
public struct SecretResolver {
    public let descriptor: StackDescriptor
    /// Reads a file's text (the secret's `file:`); nil when it cannot be read.
    public var readFile: (String) -> String?

    public init(descriptor: StackDescriptor, readFile: @escaping (String) -> String?) {
        self.descriptor = descriptor
        self.readFile = readFile
    }

    public func resolve(environment: [String: String]) -> (secrets: [ResolvedSecret], problems: [Diagnostic]) {
        var secrets: [ResolvedSecret] = []
        var problems: [Diagnostic] = []
        for spec in descriptor.secrets {
            let source: String
            let value: String?
            var status = SecretStatus.set
            if let file = spec.file {
                source = "file \(file)"
                value = readFile(file).map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }
                if value == nil { status = .unreadable }
            } else {
                let variable = spec.env ?? spec.name
                source = "$\(variable)"
                value = environment[variable]
                if value == nil { status = .missing }
            }
            if let value {
                if spec.reject.contains(value) {
                    status = .rejected
                } else if let minimum = spec.minLength, value.count < minimum {
                    status = .tooShort
                }
            }
            let message: String?
            switch status {
            case .set: message = nil
            case .missing: message = spec.optional ? nil : "secret '\(spec.name)' is not set; export \(source.dropFirst()) before running"
            case .unreadable: message = "secret '\(spec.name)' cannot be read from \(source)"
            case .rejected: message = "secret '\(spec.name)' (\(source)) is set to a known default that this descriptor rejects; set a real value"
            case .tooShort: message = "secret '\(spec.name)' (\(source)) is shorter than \(spec.minLength ?? 0) characters"
            }
            if let message { problems.append(.error(message, at: spec.location)) }
            secrets.append(ResolvedSecret(name: spec.name, source: source, status: status,
                                          value: status == .set ? value : nil))
        }
        return (secrets, problems)
    }
}
