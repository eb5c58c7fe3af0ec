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
    /// Reads a file's text (the secret's `file:`); nil when there is none, a throw saying why
    /// when it is refused.
    public var readFile: (String) throws -> String?

    public init(descriptor: StackDescriptor, readFile: @escaping (String) throws -> String? = SecretResolver.secretFile) {
        self.descriptor = descriptor
        self.readFile = readFile
    }

    /// A secret file as deployctl reads it: a regular file (a symlink to one is fine: mounted
    /// secrets are links) of at most 1 MiB. A descriptor names the path, so `/dev/zero` or a
    /// FIFO must be refused, not read forever.
    public static func secretFile(_ path: String) throws -> String? {
        try BoundedFile.read(path, limit: 1 << 20, raise: "a larger value belongs in a file a step reads itself, not in a secret")
            .map { String(decoding: $0, as: UTF8.self) }
    }

    public func resolve(environment: [String: String]) -> (secrets: [ResolvedSecret], problems: [Diagnostic]) {
        var secrets: [ResolvedSecret] = []
        var problems: [Diagnostic] = []
        for spec in descriptor.secrets {
            let source: String
            let value: String?
            var status = SecretStatus.set
            var refusal: String?
            if let file = spec.file {
                source = "file \(file)"
                do {
                    value = try readFile(file).map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }
                } catch {
                    value = nil
                    refusal = "\(error)"
                }
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
            case .unreadable: message = "secret '\(spec.name)' cannot be read from \(source)" + (refusal.map { ": \($0)" } ?? "")
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
