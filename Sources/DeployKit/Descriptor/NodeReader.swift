import Foundation

/// Typed reads from a located YAML tree that collect every problem instead of stopping at the
/// first: descriptors are validated all at once, each error at its own line and column.
final class NodeReader {
    private(set) var diagnostics: [Diagnostic] = []

    func error(_ message: String, at location: FileLocation) {
        diagnostics.append(.error(message, at: location))
    }

    func warning(_ message: String, at location: FileLocation) {
        diagnostics.append(.warning(message, at: location))
    }

    /// The pairs of a mapping, after reporting keys outside `allowed` (with a suggestion).
    /// Returns nil (and reports) when the node is not a mapping.
    func mapping(_ node: YAMLNode, _ what: String, allowed: [String]) -> Mapping? {
        guard case .mapping(let pairs, let location) = node else {
            error("\(what) must be a mapping of keys, not \(node.kindName)", at: node.location)
            return nil
        }
        for pair in pairs where !allowed.contains(pair.key) {
            error("unknown key '\(pair.key)' in \(what)\(Suggestion.hint(for: pair.key, in: allowed))", at: pair.keyLocation)
        }
        return Mapping(pairs: pairs, location: location)
    }

    struct Mapping {
        let pairs: [YAMLNode.Pair]
        let location: FileLocation

        subscript(key: String) -> YAMLNode? {
            pairs.first { $0.key == key }?.value
        }

        func keyLocation(_ key: String) -> FileLocation? {
            pairs.first { $0.key == key }?.keyLocation
        }
    }

    // MARK: - Scalars

    func string(_ node: YAMLNode?, _ what: String) -> String? {
        guard let node, !node.isNull else { return nil }
        guard case .scalar(let scalar) = node else {
            error("\(what) must be a string, not \(node.kindName)", at: node.location)
            return nil
        }
        return scalar.value
    }

    func bool(_ node: YAMLNode?, _ what: String) -> Bool? {
        guard let node, !node.isNull else { return nil }
        if case .scalar(let s) = node, s.plain {
            switch s.value.lowercased() {
            case "true": return true
            case "false": return false
            default: break
            }
        }
        error("\(what) must be true or false, not \(describe(node))", at: node.location)
        return nil
    }

    func int(_ node: YAMLNode?, _ what: String, range: ClosedRange<Int>) -> Int? {
        guard let node, !node.isNull else { return nil }
        guard case .scalar(let s) = node, s.plain, let value = Int(s.value) else {
            error("\(what) must be a whole number, not \(describe(node))", at: node.location)
            return nil
        }
        guard range.contains(value) else {
            error("\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(value)", at: node.location)
            return nil
        }
        return value
    }

    /// `30s`, `5m`, `1h30m`, `250ms` or a number of seconds, in milliseconds.
    func duration(_ node: YAMLNode?, _ what: String) -> Int? {
        guard let node, !node.isNull else { return nil }
        guard case .scalar(let s) = node, let value = DurationValue.parse(s.value) else {
            error("\(what) is not a duration: \(describe(node)) (write e.g. 30s, 5m, 1h30m or 250ms)", at: node.location)
            return nil
        }
        return value
    }

    /// A string or a list of strings.
    func strings(_ node: YAMLNode?, _ what: String) -> [String] {
        guard let node, !node.isNull else { return [] }
        switch node {
        case .scalar(let s): return [s.value]
        case .sequence(let items, _): return items.compactMap { string($0, "each item of \(what)") }
        case .mapping: error("\(what) must be a string or a list of strings, not a mapping", at: node.location); return []
        }
    }

    /// The longest argument Linux passes to a program (MAX_ARG_STRLEN): a template is an
    /// argument, an environment value or a path, so a longer one could never run anyway.
    static let maxTemplateBytes = 128 << 10

    func template(_ node: YAMLNode?, _ what: String) -> Template? {
        guard let text = string(node, what), let node else { return nil }
        if text.utf8.count > Self.maxTemplateBytes {
            error("\(what) is \(text.utf8.count) bytes, over 128 KiB, the longest argument or environment value Linux passes to a program (MAX_ARG_STRLEN); keep the text in a file in the repository and pass its path", at: node.location)
            return nil
        }
        switch Template.parse(text, at: node.location) {
        case .success(let template): return template
        case .failure(let failure): error(failure.message, at: node.location); return nil
        }
    }

    func regex(_ node: YAMLNode?, _ what: String) -> String? {
        guard let pattern = string(node, what), let node else { return nil }
        checkRegex(pattern, what, at: node.location)
        return pattern
    }

    func checkRegex(_ pattern: String, _ what: String, at location: FileLocation) {
        if !Regex.isValid(pattern) {
            error("\(what) is not a valid regular expression: /\(pattern)/", at: location)
        }
    }

    func describe(_ node: YAMLNode) -> String {
        if case .scalar(let s) = node, !s.isNull { return "\"\(s.value)\"" }
        return node.kindName
    }
}
