#if canImport(Glibc)
import Glibc
#endif

extension Repository {
    /// Writes the commit's tree into `directory` (created; it must not exist yet): files with
    /// their executable bit, symlinks as symlinks, submodules as empty directories. The
    /// repository's own work tree and index are never touched.
    public func export(_ commitID: ObjectID, to directory: String) throws {
        let tree = try commitObject(commitID).tree
        try makeDirectory(directory)
        try exportTree(tree, into: directory, depth: 0)
    }

    private func exportTree(_ tree: ObjectID, into directory: String, depth: Int) throws {
        guard depth < Self.depthLimit else { throw GitError.tooDeep(path: directory) }
        for (entry, mode) in try treeEntries(tree) {
            let name = entry.name
            guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else { continue }
            let path = directory + "/" + name
            switch entry.kind {
            case .directory:
                try makeDirectory(path)
                try exportTree(entry.id, into: path, depth: depth + 1)
            case .submodule:
                try makeDirectory(path)
            case .symlink:
                let text = String(decoding: try readBlob(entry.id).bytes, as: UTF8.self)
                guard symlink(text, path) == 0 else { throw GitError.libgit2(function: "symlink", code: errno, message: "cannot link \(path)") }
            case .file:
                let bytes = try readBlob(entry.id).bytes
                let permissions: mode_t = mode == 0o100755 ? 0o755 : 0o644
                // A new file, never through a link: a tree naming "x" twice (a symlink, then a
                // file) must not write outside the export.
                let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, permissions)
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

    private func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 else {
            throw GitError.libgit2(function: "mkdir", code: errno, message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }
}
