/// The stacks and environments a revision holds: `stacks/<stack>/<environment>.yaml`. Files
/// whose name starts with `_` (such as `_base.yaml`) are shared parts, not environments.
public struct StackCatalog: Sendable {
    public struct Entry: Hashable, Sendable, Comparable {
        public let stack: String
        public let environment: String
        public var target: String { "\(stack)/\(environment)" }
        public var path: String { StackCatalog.path(stack: stack, environment: environment) }

        public init(stack: String, environment: String) {
            self.stack = stack
            self.environment = environment
        }

        public static func < (a: Entry, b: Entry) -> Bool { (a.stack, a.environment) < (b.stack, b.environment) }
    }

    public let entries: [Entry]
    /// The blob id of every file directly under a stack's directory (environments and shared
    /// parts), when read from a commit: what a cache keyed by content compares.
    public let blobs: [String: String]

    public init(entries: [Entry], blobs: [String: String] = [:]) {
        self.entries = entries.sorted()
        self.blobs = blobs
    }

    /// From the blob id of every file directly under a stack's directory (`stacks/STACK/FILE`):
    /// the environments are the files named like one.
    public init(blobs: [String: String]) {
        self.init(entries: blobs.keys.compactMap(Self.entry(path:)), blobs: blobs)
    }

    /// The target whose file `path` is (`stacks/STACK/ENV.yaml`), or nil.
    static func entry(path: String) -> Entry? {
        let slash = UInt8(ascii: "/"), prefix = directory + "/"
        // By UTF-8 offsets: splitting 2,000 paths by Character took most of a cached listing.
        guard path.utf8.starts(with: prefix.utf8) else { return nil }
        let rest = path.utf8.dropFirst(prefix.utf8.count)
        guard let end = rest.firstIndex(of: slash) else { return nil }
        let file = path.utf8[path.utf8.index(after: end)...]
        guard !file.contains(slash), let environment = environment(fromFileName: String(Substring(file))) else { return nil }
        return Entry(stack: String(Substring(rest[..<end])), environment: environment)
    }

    public static let directory = "stacks"

    /// The most stack directories a listing reads (one tree each): 200,000 took `stacks` 28 s
    /// and 1.9 GB. `DEPLOYCTL_MAX_STACKS` raises it.
    static let maxStacks = ProcessEnvironment.current[maxStacksSetting].flatMap(Int.init) ?? 10_000
    static let maxStacksSetting = "DEPLOYCTL_MAX_STACKS"
    /// The most entries one stack directory may hold (its descriptors and shared parts): the
    /// same number, raised by the same setting.
    static var maxFilesPerStack: Int { maxStacks }

    /// The refusal when `stacks/` at `source` goes past the limits, or nil.
    static func refusal(stacks: Int, largest: (name: String, count: Int)?, at source: String) -> DeployError? {
        if stacks > maxStacks {
            return DeployError(.usage, "\(directory)/ at \(source) holds \(stacks) directories, more than the \(maxStacks) deployctl lists; nothing was read past them",
                               next: ["for a legitimately larger repository set \(maxStacksSetting)"])
        }
        if let largest, largest.count > maxFilesPerStack {
            return DeployError(.usage, "\(directory)/\(largest.name)/ at \(source) holds \(largest.count) entries, more than the \(maxFilesPerStack) deployctl reads of a stack's directory; nothing was read past them",
                               next: ["move what is not a descriptor out of \(directory)/\(largest.name)/, or for a legitimately larger stack set \(maxStacksSetting)"])
        }
        return nil
    }

    public static func path(stack: String, environment: String) -> String {
        "\(directory)/\(stack)/\(environment).yaml"
    }

    /// The environment a file name stands for, or nil when it is not one.
    public static func environment(fromFileName name: String) -> String? {
        // `.yaml` only: every path deployctl derives from a target ends in `.yaml`.
        guard !name.hasPrefix("_"), !name.hasPrefix("."), name.hasSuffix(".yaml") else { return nil }
        let base = String(name.dropLast(".yaml".count))
        return base.isEmpty ? nil : base
    }

    public enum ResolveError: Error, Equatable, CustomStringConvertible {
        case unknown(String, suggestion: String?, known: [String])
        case ambiguous(String, candidates: [String])
        case empty

        public var description: String {
            switch self {
            case let .unknown(target, suggestion, known):
                let hint = suggestion.map { " Did you mean '\($0)'?" } ?? ""
                let list = known.isEmpty ? "" : " Targets here: \(known.joined(separator: ", "))."
                return "no stack environment '\(target)'.\(hint)\(list)"
            case let .ambiguous(target, candidates):
                return "'\(target)' is an environment of several stacks: \(candidates.joined(separator: ", ")). Name one as STACK/ENV."
            case .empty:
                return "this revision has no stacks (expected files like stacks/<stack>/<environment>.yaml)"
            }
        }
    }

    /// `ENV` when exactly one stack has that environment, else `STACK/ENV`.
    public func resolve(_ target: String) -> Result<Entry, ResolveError> {
        guard !entries.isEmpty else { return .failure(.empty) }
        let parts = target.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let matches: [Entry]
        if parts.count == 2 {
            matches = entries.filter { $0.stack == parts[0] && $0.environment == parts[1] }
        } else if parts.count == 1 {
            matches = entries.filter { $0.environment == parts[0] }
        } else {
            matches = []
        }
        if matches.count == 1 { return .success(matches[0]) }
        if matches.count > 1 { return .failure(.ambiguous(target, candidates: matches.map(\.target))) }
        let names = entries.map(\.target) + Set(entries.map(\.environment)).sorted()
        return .failure(.unknown(target, suggestion: Suggestion.closest(to: target, in: names), known: entries.map(\.target)))
    }
}
