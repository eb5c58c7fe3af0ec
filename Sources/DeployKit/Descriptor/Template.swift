import Foundation

/// A string with `${namespace.name}` references, parsed when the descriptor is read so that an
/// unknown reference is a validation error, never a surprise halfway through a deploy.
/// `$${` writes a literal `${`.
public struct Template: Hashable, Sendable, CustomStringConvertible {
    public enum Segment: Hashable, Sendable {
        case literal(String)
        case reference(Reference)
    }

    public let raw: String
    public let segments: [Segment]
    public let location: FileLocation

    public var description: String { raw }

    public var references: [Reference] {
        segments.compactMap { if case .reference(let r) = $0 { return r } else { return nil } }
    }

    /// A template with no references.
    public init(literal: String, at location: FileLocation) {
        raw = literal
        segments = literal.isEmpty ? [] : [.literal(literal)]
        self.location = location
    }

    /// Templates one after another (a DKIM selector, `._domainkey.`, a domain), located at the last.
    public init(joining parts: [Template]) {
        raw = parts.map(\.raw).joined()
        segments = parts.flatMap(\.segments)
        location = parts.last?.location ?? FileLocation(file: "", line: 0, column: 0)
    }

    /// Parses `text`; a malformed reference is returned as an error message.
    public static func parse(_ text: String, at location: FileLocation) -> Result<Template, TemplateError> {
        // Most words hold no `$`: one pass over the bytes, not a Character walk (the argv of one
        // descriptor, ~1,500 characters, took ~1 M instructions that way).
        guard text.utf8.contains(UInt8(ascii: "$")) else {
            return .success(Template(raw: text, segments: text.isEmpty ? [] : [.literal(text)], location: location))
        }
        var segments: [Segment] = []
        var literal = ""
        var index = text.startIndex
        while index < text.endIndex {
            let rest = text[index...]
            if rest.hasPrefix("$${") {
                literal += "${"
                index = text.index(index, offsetBy: 3)
            } else if rest.hasPrefix("${") {
                guard let close = rest.firstIndex(of: "}") else {
                    return .failure(TemplateError(message: "unterminated '${' in \"\(text)\" (write '$${' for a literal '${')"))
                }
                let body = String(text[text.index(index, offsetBy: 2)..<close])
                guard let reference = Reference(parsing: body) else {
                    return .failure(TemplateError(message: "'${\(body)}' is not a reference; write ${inputs.NAME}, ${secrets.NAME}, ${env.NAME}, ${run.FIELD} or ${backup.path}, or $${\(body)} to hand ${\(body)} to a shell as it is"))
                }
                if !literal.isEmpty { segments.append(.literal(literal)); literal = "" }
                segments.append(.reference(reference))
                index = text.index(after: close)
            } else {
                literal.append(text[index])
                index = text.index(after: index)
            }
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        return .success(Template(raw: text, segments: segments, location: location))
    }

    private init(raw: String, segments: [Segment], location: FileLocation) {
        self.raw = raw
        self.segments = segments
        self.location = location
    }

    /// Substitutes every reference; `value` answers for each one.
    public func render(_ value: (Reference) throws -> String) rethrows -> String {
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let text): out += text
            case .reference(let reference): out += try value(reference)
            }
        }
        return out
    }
}

public struct TemplateError: Error, Hashable, Sendable {
    public let message: String
}

/// `namespace.name`, as in `${inputs.tenant}` or `when: inputs.path == "helm"`.
public struct Reference: Hashable, Sendable, CustomStringConvertible {
    public let namespace: String
    public let name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    init?(parsing text: String) {
        let trimmed = text.trimmingBlanks
        guard let dot = trimmed.firstIndex(of: ".") else { return nil }
        let namespace = String(trimmed[..<dot])
        let name = String(trimmed[trimmed.index(after: dot)...])
        guard Reference.isIdentifier(namespace), !name.isEmpty,
              name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(namespace).\(name)" }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }
}
