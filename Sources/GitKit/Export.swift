import CGit2

#if canImport(Glibc)
import Glibc
#endif

extension Repository {
    /// Writes the commit's tree into `directory` (created; it must not exist yet): files with
    /// their executable bit, symlinks as symlinks, submodules as empty directories. The
    /// repository's own work tree and index are never touched.
    public func export(_ commitID: ObjectID, to directory: String) throws {
        try withCommit(commitID) { commit in
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, commit), "git_commit_tree")
            defer { git_tree_free(tree) }
            try makeDirectory(directory)
            try exportTree(tree!, into: directory)
        }
    }

    private func exportTree(_ tree: OpaquePointer, into directory: String) throws {
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let name = String(cString: git_tree_entry_name(entry))
            guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else { continue }
            let path = directory + "/" + name
            let mode = git_tree_entry_filemode(entry)
            switch mode {
            case GIT_FILEMODE_TREE:
                var subtree: OpaquePointer?
                try check(git_tree_lookup(&subtree, handle, git_tree_entry_id(entry)), "git_tree_lookup")
                defer { git_tree_free(subtree) }
                try makeDirectory(path)
                try exportTree(subtree!, into: path)
            case GIT_FILEMODE_COMMIT:
                try makeDirectory(path)
            case GIT_FILEMODE_LINK:
                let target = try blobBytes(git_tree_entry_id(entry))
                let text = String(decoding: target, as: UTF8.self)
                guard symlink(text, path) == 0 else { throw GitError.libgit2(function: "symlink", code: errno, message: "cannot link \(path)") }
            default:
                let bytes = try blobBytes(git_tree_entry_id(entry))
                let permissions: mode_t = mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0o755 : 0o644
                let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, permissions)
                guard fd >= 0 else { throw GitError.libgit2(function: "open", code: errno, message: "cannot write \(path)") }
                defer { close(fd) }
                var offset = 0
                while offset < bytes.count {
                    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                    guard written > 0 else { throw GitError.libgit2(function: "write", code: errno, message: "cannot write \(path)") }
                    offset += written
                }
            }
        }
    }

    private func blobBytes(_ id: UnsafePointer<git_oid>) throws -> [UInt8] {
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, handle, id), "git_blob_lookup")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let raw = git_blob_rawcontent(blob) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: size))
    }

    private func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 else {
            throw GitError.libgit2(function: "mkdir", code: errno, message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }
}
