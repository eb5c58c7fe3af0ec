/// Reads a descriptor and the chain of files it `extends`, merges them and validates the
/// result. Where the bytes come from is the caller's business (a commit through GitKit in the
/// tool, a dictionary in tests), so loading stays pure.
public struct DescriptorLoader {
    /// Returns a file's text by its repository path, or nil when there is no such file.
    public typealias Read = (String) throws -> String?

    private let read: Read

    public init(read: @escaping Read) {
        self.read = read
    }

    public struct Result: Sendable {
        public let descriptor: StackDescriptor?
        public let diagnostics: [Diagnostic]
        public var isValid: Bool { descriptor != nil && !diagnostics.hasErrors }
    }

    /// Loads `stacks/<stack>/<environment>.yaml`.
    public func load(stack: String, environment: String) -> Result {
        load(path: StackCatalog.path(stack: stack, environment: environment), stack: stack, environment: environment)
    }

    public func load(path: String, stack: String, environment: String) -> Result {
        var diagnostics: [Diagnostic] = []
        guard let (tree, files) = chain(path, visited: [], diagnostics: &diagnostics) else {
            return Result(descriptor: nil, diagnostics: diagnostics)
        }
        let reader = NodeReader()
        let decoded = DescriptorDecoder(reader: reader).decode(tree, files: files, stack: stack, environment: environment)
        diagnostics += reader.diagnostics
        if let decoded {
            diagnostics += DescriptorValidator(descriptor: decoded).check()
        }
        let sorted = diagnostics.sortedByLocation()
        guard !sorted.hasErrors, var descriptor = decoded else { return Result(descriptor: nil, diagnostics: sorted) }
        descriptor.warnings = sorted.filter { $0.severity == .warning }
        return Result(descriptor: descriptor, diagnostics: sorted)
    }

    /// The file at `path` merged over everything it extends, and the files involved.
    private func chain(_ path: String, visited: [String], diagnostics: inout [Diagnostic],
                       extendsAt: FileLocation? = nil) -> (YAMLNode, [String])? {
        let text: String?
        do {
            text = try read(path)
        } catch let refusal as DescriptorTooLarge {
            diagnostics.append(.error(refusal.why, at: FileLocation(file: path, line: 1, column: 1)))
            return nil
        } catch {
            diagnostics.append(.error("cannot read \(path): \(error)", at: extendsAt ?? FileLocation(file: path, line: 1, column: 1)))
            return nil
        }
        guard let text else {
            let message = extendsAt == nil ? "\(path) does not exist at this revision" : "extends '\(path)', which does not exist at this revision"
            diagnostics.append(.error(message, at: extendsAt))
            return nil
        }
        let root: YAMLNode
        switch YAMLReader.parse(text, file: path) {
        case .failure(let error):
            diagnostics.append(error)
            return nil
        case .success(nil):
            diagnostics.append(.error("the descriptor is empty", at: FileLocation(file: path, line: 1, column: 1)))
            return nil
        case .success(let node?):
            root = node
        }
        guard case .mapping(var pairs, let location) = root,
              let index = pairs.firstIndex(where: { $0.key == "extends" }) else {
            return (root, [path])
        }
        let extendsPair = pairs.remove(at: index)
        guard case .scalar(let scalar) = extendsPair.value, !scalar.isNull else {
            diagnostics.append(.error("'extends' must name a file, e.g. _base.yaml", at: extendsPair.value.location))
            return nil
        }
        guard let basePath = Self.resolve(scalar.value, relativeTo: path) else {
            diagnostics.append(.error("'extends: \(scalar.value)' points outside the repository", at: scalar.location))
            return nil
        }
        if basePath == path || visited.contains(basePath) {
            let cycle = (visited + [path, basePath]).joined(separator: " → ")
            diagnostics.append(.error("extends cycle: \(cycle)", at: scalar.location))
            return nil
        }
        // Each file of the chain is a frame of this recursion (and of the merge), on threads
        // whose stacks are small (validate loads on every core): a chain is refused past 32.
        guard visited.count + 1 < Self.extendsLimit else {
            diagnostics.append(.error("'extends' chains more than \(Self.extendsLimit) files; deployctl stops here. Flatten the chain into fewer bases", at: scalar.location))
            return nil
        }
        guard let (base, baseFiles) = chain(basePath, visited: visited + [path], diagnostics: &diagnostics,
                                            extendsAt: scalar.location) else { return nil }
        return (DescriptorMerge.merge(base: base, child: .mapping(pairs, location)), [path] + baseFiles)
    }

    static let extendsLimit = 32

    /// `other.yaml` next to `stacks/x/prod.yaml` → `stacks/x/other.yaml`; nil if it climbs out.
    static func resolve(_ reference: String, relativeTo file: String) -> String? {
        var parts = reference.hasPrefix("/") ? [] : file.split(separator: "/").dropLast().map(String.init)
        for component in reference.split(separator: "/") {
            switch component {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(String(component))
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }
}

/// How a descriptor overrides the file it extends: mappings merge key by key (the child
/// wins), step lists (each phase, `rollback`) merge by step name (a step of the same name is
/// merged in place, new steps are appended), every other value is replaced whole.
enum DescriptorMerge {
    static func merge(base: YAMLNode, child: YAMLNode, path: [String] = []) -> YAMLNode {
        switch (base, child) {
        case (.mapping(let basePairs, _), .mapping(let childPairs, let location)):
            var merged = basePairs
            for pair in childPairs {
                // In a step, `key: null` removes the base's key (a probe step becoming a command on hosts).
                if path.last == "step", pair.value.isNull, let index = merged.firstIndex(where: { $0.key == pair.key }) {
                    merged.remove(at: index)
                    continue
                }
                if let index = merged.firstIndex(where: { $0.key == pair.key }) {
                    merged[index] = .init(key: pair.key, keyLocation: pair.keyLocation,
                                          value: merge(base: merged[index].value, child: pair.value, path: path + [pair.key]))
                } else {
                    merged.append(pair)
                }
            }
            return .mapping(merged, location)
        case (.sequence(let baseItems, _), .sequence(let childItems, let location)) where isStepList(path):
            var merged = baseItems
            for item in childItems {
                if let name = stepName(item), let index = merged.firstIndex(where: { stepName($0) == name }) {
                    merged[index] = merge(base: merged[index], child: item, path: path + ["step"])
                } else {
                    merged.append(item)
                }
            }
            return .sequence(merged, location)
        default:
            return child
        }
    }

    private static func isStepList(_ path: [String]) -> Bool {
        path == ["rollback"] || (path.count == 2 && path[0] == "phases")
    }

    private static func stepName(_ node: YAMLNode) -> String? {
        if case .scalar(let s)? = node["name"] { return s.value }
        return nil
    }
}

/// A descriptor refused from its size before it was read (`YAMLReader.Limits.documentBytes`);
/// `why` says so and how to raise the limit.
public struct DescriptorTooLarge: Error, CustomStringConvertible {
    public let why: String
    public var description: String { why }
}
