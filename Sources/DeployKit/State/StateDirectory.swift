import Foundation

/// The state directory (`.deployctl/` by default): journal, logs, backups, caches. It ignores
/// itself in git with its own `.gitignore`, so the stacks repository never needs editing.
public struct StateDirectory: Sendable {
    public let path: String

    public init(path: String) {
        // `--state /x/` names /x: paths made from it read /x/cache, not /x//cache.
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        self.path = path
    }

    /// `path/sub`, created (with the directory's self-ignoring `.gitignore`) when missing.
    /// Returns nil when it cannot be created: callers that only cache can go on without.
    public func directory(_ sub: String) -> String? {
        let full = path + "/" + sub
        let ignore = path + "/.gitignore"
        // Two stats when both are there, as on nearly every command: URL's appending and
        // FileManager's walk up the path took ~0.4 M instructions for the same answer.
        if existingDirectory(sub) != nil, access(ignore, F_OK) == 0 { return full }
        do {
            try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: ignore) {
                try "# deployctl state: journal, logs, backups, caches. Never commit it.\n*\n".write(toFile: ignore, atomically: true, encoding: .utf8)
            }
            return full
        } catch {
            return nil
        }
    }

    /// `path/sub` when it is already a directory; nil otherwise (nothing is made).
    public func existingDirectory(_ sub: String) -> String? {
        var isDirectory: ObjCBool = false
        let full = path + "/" + sub
        return FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) && isDirectory.boolValue ? full : nil
    }

    /// Where the path-history facts for one list of paths are cached.
    public func historyCacheFile(for paths: [String]) -> String? {
        directory("cache").map { "\($0)/history-\(Self.fingerprint(paths.joined(separator: "\n"))).bin" }
    }

    /// What a cached verdict on a descriptor depends on besides the bytes it read: this binary
    /// (size and modification time of /proc/self/exe) and the limits that change a verdict.
    static let cacheStamp: String = {
        var info = stat()
        let binary = stat("/proc/self/exe", &info) == 0 ? "\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)" : UUID().uuidString
        let environment = ProcessEnvironment.current
        return [binary, environment["DEPLOYCTL_MAX_STEPS"] ?? "", environment["DEPLOYCTL_YAML_MAX_NODES"] ?? "",
                environment[YAMLReader.Limits.documentBytesSetting] ?? ""].joined(separator: "|")
    }()

    /// FNV-1a, 64 bits, as hex: a stable short name for a key (not a security boundary).
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
