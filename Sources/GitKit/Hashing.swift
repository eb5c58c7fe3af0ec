import CGit2

extension ObjectID {
    /// The id git gives these bytes as a blob (`git hash-object`): what a file on disk would be
    /// once committed, so uncommitted descriptors still have a stable name.
    public static func blob(of bytes: [UInt8]) -> ObjectID {
        Runtime.ensureInitialisedOrExit()
        var oid = git_oid()
        _ = bytes.withUnsafeBytes { git_odb_hash(&oid, $0.baseAddress, $0.count, GIT_OBJECT_BLOB) }
        return ObjectID(oid)
    }
}

extension Repository {
    /// False for a repository whose HEAD names a branch with no commit yet (just `git init`).
    public var hasCommits: Bool {
        git_repository_head_unborn(handle) != 1
    }
}

extension Repository {
    /// True when git would ignore `path` (relative to the work tree): `.gitignore`,
    /// `.git/info/exclude` and the core.excludesFile rules.
    public func isIgnored(_ path: String) -> Bool {
        var ignored: Int32 = 0
        return git_ignore_path_is_ignored(&ignored, handle, path) == 0 && ignored == 1
    }
}
