import Foundation
import Yams

/// A YAML tree that remembers where every node came from, including which file: descriptors
/// merge several files through `extends`, and every error must still point at the right one.
public indirect enum YAMLNode: Sendable {
    case scalar(Scalar)
    case mapping([Pair], FileLocation)
    case sequence([YAMLNode], FileLocation)

    public struct Scalar: Sendable {
        public let value: String
        /// Unquoted in the source: only plain scalars can be null, booleans or numbers.
        public let plain: Bool
        public let location: FileLocation

        public var isNull: Bool { plain && (value.isEmpty || value == "~" || value == "null" || value == "Null" || value == "NULL") }
    }

    public struct Pair: Sendable {
        public let key: String
        public let keyLocation: FileLocation
        public var value: YAMLNode
    }

    public var location: FileLocation {
        switch self {
        case .scalar(let s): return s.location
        case .mapping(_, let l), .sequence(_, let l): return l
        }
    }

    /// What a person calls this kind of node, for type errors.
    public var kindName: String {
        switch self {
        case .scalar(let s): return s.isNull ? "nothing" : "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    public var isNull: Bool {
        if case .scalar(let s) = self { return s.isNull }
        return false
    }

    /// The pair for `key` in a mapping.
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    public var pairs: [Pair]? {
        if case .mapping(let pairs, _) = self { return pairs }
        return nil
    }
}

/// Parses YAML text into a located tree; syntax errors become diagnostics with line and column.
public enum YAMLReader {
    /// How much tree one file may become once its aliases are expanded. A descriptor is code
    /// anyone can propose: nine aliases of nine aliases of … (the "billion laughs") must be
    /// refused in milliseconds, not expanded into gigabytes. The largest seed stack is a few
    /// thousand nodes; `DEPLOYCTL_YAML_MAX_NODES` raises the node limit for a legitimate giant.
    /// A file is refused before it is parsed when larger than `documentBytes` (the readers
    /// check it before reading: a commit's blob by its header, a file on disk by its size):
    /// the largest seed stack is ~10 KiB, and 5,000 steps (`DEPLOYCTL_MAX_STEPS`) fit in 1 MiB.
    public struct Limits: Sendable {
        public var nodes: Int
        public var scalarBytes: Int
        public var documentBytes: Int

        public static let standard = Limits(
            nodes: ProcessEnvironment.current["DEPLOYCTL_YAML_MAX_NODES"].flatMap(Int.init) ?? 100_000,
            scalarBytes: 16 << 20,
            documentBytes: ProcessEnvironment.current[documentBytesSetting].flatMap(Int.init) ?? 1 << 20)

        public static let documentBytesSetting = "DEPLOYCTL_MAX_DESCRIPTOR_BYTES"

        /// Why a file of `size` bytes is not read, for a refusal at its first line.
        func documentRefusal(size: Int) -> String {
            "this file is \(size) bytes, more than the \(ByteCount(documentBytes)) a descriptor may be; it is not read. For a legitimately larger descriptor set \(Self.documentBytesSetting)"
        }
    }

    public static func parse(_ text: String, file: String, limits: Limits = .standard) -> Result<YAMLNode?, Diagnostic> {
        let size = text.utf8.count
        guard size <= limits.documentBytes else {
            return .failure(.error(limits.documentRefusal(size: size), at: FileLocation(file: file, line: 1, column: 1)))
        }
        let root: Node?
        do {
            // The basic resolver tags nothing: NodeReader types scalars itself (and the default
            // resolver compiles seven regular expressions on first use, a visible start-up cost).
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            return .failure(diagnostic(for: error, file: file))
        } catch {
            return .failure(.error("cannot parse YAML: \(error)", at: FileLocation(file: file, line: 1, column: 1)))
        }
        guard let root else { return .success(nil) }
        var budget = Budget(limits: limits)
        return convert(root, file: file, budget: &budget).map { Optional($0) }
    }

    /// What is left of `Limits` while one file is converted.
    private struct Budget {
        let limits: Limits
        var nodes = 0
        var bytes = 0

        init(limits: Limits) { self.limits = limits }

        /// A refusal when `node` goes past a limit (counted as expanded: an alias counts again).
        mutating func spend(_ node: Node, at location: FileLocation) -> Diagnostic? {
            nodes += 1
            if case .scalar(let scalar) = node { bytes += scalar.string.utf8.count }
            if nodes > limits.nodes {
                return .error("this file expands to more than \(limits.nodes) YAML nodes (YAML aliases repeat what they point to, so a few lines can stand for billions); reading stops here to stay bounded. Drop the aliases, or for a legitimately huge descriptor set DEPLOYCTL_YAML_MAX_NODES", at: location)
            }
            if bytes > limits.scalarBytes {
                return .error("this file's values add up to more than \(limits.scalarBytes >> 20) MiB once YAML aliases are expanded; reading stops here to stay bounded", at: location)
            }
            return nil
        }
    }

    private static func convert(_ node: Node, file: String, budget: inout Budget) -> Result<YAMLNode, Diagnostic> {
        let location = FileLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        if let refusal = budget.spend(node, at: location) { return .failure(refusal) }
        switch node {
        case .scalar(let scalar):
            return .success(.scalar(.init(value: scalar.string, plain: scalar.style == .plain, location: location)))
        case .mapping(let mapping):
            var pairs: [YAMLNode.Pair] = []
            for (key, value) in mapping {
                let keyLocation = FileLocation(file: file, line: key.mark?.line ?? 1, column: key.mark?.column ?? 1)
                guard case .scalar(let keyScalar) = key else {
                    return .failure(.error("a mapping key must be a plain name, not \(key.isMapping ? "a mapping" : "a list")", at: keyLocation))
                }
                if keyScalar.string == "<<" {
                    return .failure(.error("YAML merge keys ('<<') are not supported; use `extends:` to share a base descriptor", at: keyLocation))
                }
                switch convert(value, file: file, budget: &budget) {
                case .success(let converted): pairs.append(.init(key: keyScalar.string, keyLocation: keyLocation, value: converted))
                case .failure(let error): return .failure(error)
                }
            }
            return .success(.mapping(pairs, location))
        case .sequence(let sequence):
            var items: [YAMLNode] = []
            for item in sequence {
                switch convert(item, file: file, budget: &budget) {
                case .success(let converted): items.append(converted)
                case .failure(let error): return .failure(error)
                }
            }
            return .success(.sequence(items, location))
        case .alias:
            return .failure(.error("YAML aliases are not supported here", at: location))
        }
    }

    private static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        func at(_ mark: Mark) -> FileLocation { FileLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let detail = context.map { "\(problem) (\($0.text))" } ?? problem
            return .error("invalid YAML: \(detail)", at: at(mark))
        case let .duplicatedKeysInMapping(duplicates, context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return .error("duplicate key \(names) in the same mapping", at: at(context.mark))
        case let .reader(problem, _, _, _):
            return .error("cannot read the file as UTF-8 YAML: \(problem)", at: FileLocation(file: file, line: 1, column: 1))
        default:
            return .error("invalid YAML: \(error)", at: FileLocation(file: file, line: 1, column: 1))
        }
    }
}

private extension Node {
    var isMapping: Bool { if case .mapping = self { return true } else { return false } }
}
