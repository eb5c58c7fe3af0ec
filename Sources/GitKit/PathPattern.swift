/// A path or glob naming files of a repository, as descriptors' `paths:` write them:
/// `db/migrations` (that path and everything under it), `scripts/*.sh` (`*` and `?` within one
/// component), `site/**/*.html` (`**` spans any number of components, none included).
public struct PathPattern: Hashable, Sendable, CustomStringConvertible {
    public let raw: String
    let components: [String]

    /// Nil for a pattern that is empty, absolute or climbs out of the repository.
    public init?(_ raw: String) {
        let parts = raw.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        guard !raw.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else { return nil }
        self.raw = raw
        components = parts
    }

    public var description: String { raw }

    /// No wildcard anywhere: the path itself (a file, or a directory and all below it).
    public var isLiteral: Bool { !components.contains(where: Self.isGlob) }

    /// The leading components without wildcards: the directory every match lies under.
    public var literalPrefix: [String] { Array(components.prefix { !Self.isGlob($0) }) }

    /// Whether the file at `path` (components from the repository root) is named.
    public func matches(_ path: [Substring]) -> Bool {
        if isLiteral {
            return path.count >= components.count && zip(components, path).allSatisfy { $0 == $1 }
        }
        return Self.match(components[...], path[...])
    }

    private static func isGlob(_ component: String) -> Bool {
        component.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            return (path.startIndex...path.endIndex).contains { match(rest, path[$0...]) }
        }
        guard let name = path.first, component(Array(head.utf8)[...], Array(name.utf8)[...]) else { return false }
        // A literal last component also names everything below it (a directory).
        if pattern.count == 1, !isGlob(head) { return true }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    /// fnmatch within one component: `*`, `?` and `[...]` (with `!` or `^` to negate).
    private static func component(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        guard let p = pattern.first else { return name.isEmpty }
        switch p {
        case UInt8(ascii: "*"):
            return (name.startIndex...name.endIndex).contains { component(pattern.dropFirst(), name[$0...]) }
        case UInt8(ascii: "?"):
            return !name.isEmpty && component(pattern.dropFirst(), name.dropFirst())
        case UInt8(ascii: "["):
            guard let c = name.first, let close = pattern.dropFirst(2).firstIndex(of: UInt8(ascii: "]")) else {
                return name.first == p && component(pattern.dropFirst(), name.dropFirst())
            }
            var set = pattern[(pattern.startIndex + 1)..<close]
            let negate = set.first == UInt8(ascii: "!") || set.first == UInt8(ascii: "^")
            if negate { set = set.dropFirst() }
            var hit = false, index = set.startIndex
            while index < set.endIndex {
                if index + 2 < set.endIndex, set[index + 1] == UInt8(ascii: "-") {
                    if set[index] <= c && c <= set[index + 2] { hit = true }
                    index += 3
                } else {
                    if set[index] == c { hit = true }
                    index += 1
                }
            }
            return hit != negate && component(pattern[(close + 1)...], name.dropFirst())
        default:
            return name.first == p && component(pattern.dropFirst(), name.dropFirst())
        }
    }
}
