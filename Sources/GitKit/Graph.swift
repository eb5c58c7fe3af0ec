import CGit2

/// A commit's signature as git stores it (the `gpgsig` header) and the bytes it signs.
public struct CommitSignature: Sendable {
    public let signature: [UInt8]
    public let signedData: [UInt8]

    /// `ssh` for an SSH signature, `openpgp` for an OpenPGP one, else `unknown`.
    public var format: String {
        let text = String(decoding: signature.prefix(64), as: UTF8.self)
        if text.hasPrefix("-----BEGIN SSH SIGNATURE-----") { return "ssh" }
        if text.hasPrefix("-----BEGIN PGP SIGNATURE-----") { return "openpgp" }
        return "unknown"
    }
}

extension Repository {
    /// True when `ancestor` is `commit` or reachable from it.
    public func isAncestor(_ ancestor: ObjectID, of commit: ObjectID) -> Bool {
        if ancestor == commit { return true }
        guard let handle else { return false }
        var a = commit.gitOID, b = ancestor.gitOID
        return git_graph_descendant_of(handle, &a, &b) == 1
    }

    /// The commits reachable from `tip` but not from `hidden`, newest first (`git rev-list
    /// tip ^hidden`), at most `limit`.
    public func commits(from tip: ObjectID, hiding hidden: ObjectID?, limit: Int = 100_000) throws -> [ObjectID] {
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, try libgit2()), "git_revwalk_new")
        defer { git_revwalk_free(walk) }
        try check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue), "git_revwalk_sorting")
        var start = tip.gitOID
        try check(git_revwalk_push(walk, &start), "git_revwalk_push")
        if let hidden {
            var stop = hidden.gitOID
            try check(git_revwalk_hide(walk, &stop), "git_revwalk_hide")
        }
        var result: [ObjectID] = []
        var oid = git_oid()
        while result.count < limit, git_revwalk_next(&oid, walk) == 0 {
            result.append(ObjectID(oid))
        }
        return result
    }

    /// The commit's signature, or nil when it is not signed.
    public func signature(of commit: ObjectID) throws -> CommitSignature? {
        var oid = commit.gitOID
        var signature = git_buf(), data = git_buf()
        let code = git_commit_extract_signature(&signature, &data, try libgit2(), &oid, nil)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_commit_extract_signature")
        defer {
            git_buf_dispose(&signature)
            git_buf_dispose(&data)
        }
        func bytes(_ buffer: git_buf) -> [UInt8] {
            guard let pointer = buffer.ptr, buffer.size > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: pointer, count: buffer.size).bindMemory(to: UInt8.self))
        }
        return CommitSignature(signature: bytes(signature), signedData: bytes(data))
    }
}
