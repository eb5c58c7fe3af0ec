import CGit2

extension ObjectID {
    /// The id git gives these bytes as a blob (`git hash-object`): what a file on disk would be
    /// once committed, so uncommitted descriptors still have a stable name.
    public static func blob(of bytes: [UInt8]) -> ObjectID {
        bytes.withUnsafeBytes { naming("blob", $0) }
    }
}

extension Repository {
    /// True when git would ignore `path` (relative to the work tree): `.gitignore`,
    /// `.git/info/exclude` and the core.excludesFile rules.
    public func isIgnored(_ path: String) -> Bool {
        var ignored: Int32 = 0
        guard let handle else { return false }
        return git_ignore_path_is_ignored(&ignored, handle, path) == 0 && ignored == 1
    }
}
