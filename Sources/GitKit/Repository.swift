import CGit2

/// An open git repository (bare or with a work tree). Reads objects only: nothing here
/// checks out, writes the index or touches the work tree.
///
/// Not Sendable: the libgit2 handle stays inside one task; what it hands out are values.
public final class Repository {
    let handle: OpaquePointer
    /// The `.git` directory (or the bare repository's directory), with a trailing slash.
    public let gitDirectory: String
    /// The work tree, or nil for a bare repository.
    public let workDirectory: String?

    public var isBare: Bool { workDirectory == nil }

    private init(handle: OpaquePointer) {
        self.handle = handle
        gitDirectory = String(cString: git_repository_path(handle))
        workDirectory = git_repository_workdir(handle).map { String(cString: $0) }
    }

    deinit {
        git_repository_free(handle)
    }

    /// Finds the repository that contains `path`, walking up as git does.
    public static func discover(from path: String) throws -> Repository {
        try open(path, flags: 0)
    }

    /// Opens the repository at exactly `path` (a work tree, its `.git`, or a bare repository).
    public static func open(at path: String) throws -> Repository {
        try open(path, flags: GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue)
    }

    private static func open(_ path: String, flags: UInt32) throws -> Repository {
        try Runtime.ensureInitialised()
        var handle: OpaquePointer?
        let code = git_repository_open_ext(&handle, path, flags, nil)
        if code < 0 {
            let message = lastErrorMessage()
            if message.contains("not owned by current user") {
                throw GitError.unsafeOwnership(path: path)
            }
            if code == GIT_ENOTFOUND.rawValue {
                throw GitError.notARepository(path: path, message: message)
            }
            throw GitError.libgit2(function: "git_repository_open_ext", code: code, message: message)
        }
        return Repository(handle: handle!)
    }

    // MARK: - Revisions

    /// Resolves anything git accepts as a revision (branch, tag, full or short SHA, `HEAD~3`,
    /// `main@{1}`) to the commit it names.
    public func resolve(_ revision: String) throws -> ObjectID {
        var object: OpaquePointer?
        let code = git_revparse_single(&object, handle, revision)
        if code < 0 {
            throw GitError.unknownRevision(revision, message: lastErrorMessage())
        }
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        if git_object_peel(&commit, object, GIT_OBJECT_COMMIT) < 0 {
            throw GitError.unknownRevision(revision, message: "it names a \(objectTypeName(object)), not a commit")
        }
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// The commit's author, times, subject and parents.
    public func commit(_ id: ObjectID) throws -> CommitInfo {
        try withCommit(id) { commit in Self.info(of: commit) }
    }

    static func info(of commit: OpaquePointer) -> CommitInfo {
        let author = git_commit_author(commit)!.pointee
        let count = git_commit_parentcount(commit)
        var parents: [ObjectID] = []
        parents.reserveCapacity(Int(count))
        for index in 0..<count {
            parents.append(ObjectID(git_commit_parent_id(commit, index)))
        }
        return CommitInfo(
            id: ObjectID(git_commit_id(commit)),
            authorName: author.name.map { String(cString: $0) } ?? "",
            authorEmail: author.email.map { String(cString: $0) } ?? "",
            authorTime: author.when.time,
            authorOffsetMinutes: author.when.offset,
            commitTime: git_commit_time(commit),
            subject: git_commit_summary(commit).map { String(cString: $0) } ?? "",
            parents: parents
        )
    }

    /// Looks a commit up, lends it to `body`, and frees it.
    func withCommit<T>(_ id: ObjectID, _ body: (OpaquePointer) throws -> T) throws -> T {
        var oid = id.gitOID
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, handle, &oid), "git_commit_lookup")
        defer { git_commit_free(commit) }
        return try body(commit!)
    }

    private func objectTypeName(_ object: OpaquePointer?) -> String {
        String(cString: git_object_type2string(git_object_type(object)))
    }

    // MARK: - Trees and files

    /// The bytes of the file at `path` in the commit's tree, read from the object database.
    public func readFile(_ path: String, at commitID: ObjectID) throws -> Blob {
        try withTreeEntry(path, at: commitID) { entry in
            guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else {
                throw GitError.wrongObjectType(path: path, commit: commitID, expected: "file")
            }
            var blob: OpaquePointer?
            try check(git_blob_lookup(&blob, handle, git_tree_entry_id(entry)), "git_blob_lookup")
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            let bytes: [UInt8]
            if size == 0 {
                bytes = []
            } else {
                let raw = git_blob_rawcontent(blob)!.assumingMemoryBound(to: UInt8.self)
                bytes = Array(UnsafeBufferPointer(start: raw, count: size))
            }
            return Blob(id: ObjectID(git_tree_entry_id(entry)), bytes: bytes)
        }
    }

    /// True when `path` names anything in the commit's tree.
    public func exists(_ path: String, at commitID: ObjectID) throws -> Bool {
        do {
            return try withTreeEntry(path, at: commitID) { _ in true }
        } catch GitError.pathNotFound {
            return false
        }
    }

    /// The entries of the directory at `path` ("" for the root) in the commit's tree.
    public func listDirectory(_ path: String, at commitID: ObjectID) throws -> [TreeEntry] {
        try withCommit(commitID) { commit in
            var root: OpaquePointer?
            try check(git_commit_tree(&root, commit), "git_commit_tree")
            defer { git_tree_free(root) }
            if path.isEmpty || path == "." || path == "/" {
                return Self.entries(of: root!)
            }
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, root, path)
            if code == GIT_ENOTFOUND.rawValue {
                throw GitError.pathNotFound(path: path, commit: commitID)
            }
            try check(code, "git_tree_entry_bypath")
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else {
                throw GitError.wrongObjectType(path: path, commit: commitID, expected: "directory")
            }
            var tree: OpaquePointer?
            try check(git_tree_lookup(&tree, handle, git_tree_entry_id(entry)), "git_tree_lookup")
            defer { git_tree_free(tree) }
            return Self.entries(of: tree!)
        }
    }

    /// The entries of the tree `id` (a directory's `TreeEntry.id`): listing many directories
    /// under one parent without walking from the root each time.
    public func listTree(_ id: ObjectID) throws -> [TreeEntry] {
        var oid = id.gitOID
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, handle, &oid), "git_tree_lookup")
        defer { git_tree_free(tree) }
        return Self.entries(of: tree!)
    }

    /// The bytes of the blob `id` (a file's `TreeEntry.id`).
    public func readBlob(_ id: ObjectID) throws -> Blob {
        var oid = id.gitOID
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, handle, &oid), "git_blob_lookup")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0 else { return Blob(id: id, bytes: []) }
        let raw = git_blob_rawcontent(blob)!.assumingMemoryBound(to: UInt8.self)
        return Blob(id: id, bytes: Array(UnsafeBufferPointer(start: raw, count: size)))
    }

    private static func entries(of tree: OpaquePointer) -> [TreeEntry] {
        let count = git_tree_entrycount(tree)
        var result: [TreeEntry] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let kind: TreeEntry.Kind
            switch git_tree_entry_filemode(entry) {
            case GIT_FILEMODE_TREE: kind = .directory
            case GIT_FILEMODE_COMMIT: kind = .submodule
            case GIT_FILEMODE_LINK: kind = .symlink
            default: kind = .file
            }
            result.append(TreeEntry(
                name: String(cString: git_tree_entry_name(entry)),
                kind: kind,
                id: ObjectID(git_tree_entry_id(entry))))
        }
        return result
    }

    /// Finds `path` in the commit's tree and lends the entry to `body`.
    func withTreeEntry<T>(_ path: String, at commitID: ObjectID, _ body: (OpaquePointer) throws -> T) throws -> T {
        try withCommit(commitID) { commit in
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, commit), "git_commit_tree")
            defer { git_tree_free(tree) }
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, tree, path)
            if code == GIT_ENOTFOUND.rawValue {
                throw GitError.pathNotFound(path: path, commit: commitID)
            }
            try check(code, "git_tree_entry_bypath")
            defer { git_tree_entry_free(entry) }
            return try body(entry!)
        }
    }
}

extension Repository {
    /// Every file (blobs and symlinks; not submodules) below the tree `id`, depth first, with
    /// its path components relative to that tree.
    func walkFiles(in id: ObjectID, _ visit: ([Substring], ObjectID, UInt32) throws -> Void) throws {
        try walkFiles(in: id, prefix: [], visit)
    }

    private func walkFiles(in id: ObjectID, prefix: [Substring], _ visit: ([Substring], ObjectID, UInt32) throws -> Void) throws {
        var oid = id.gitOID
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, handle, &oid), "git_tree_lookup")
        defer { git_tree_free(tree) }
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let name = Substring(String(cString: git_tree_entry_name(entry)))
            let mode = git_tree_entry_filemode(entry)
            let child = ObjectID(git_tree_entry_id(entry))
            switch mode {
            case GIT_FILEMODE_TREE: try walkFiles(in: child, prefix: prefix + [name], visit)
            case GIT_FILEMODE_COMMIT: continue
            default: try visit(prefix + [name], child, mode.rawValue)
            }
        }
    }

    /// The files under `patterns` that differ between two commits (`from` nil: all of them
    /// are new), sorted by path.
    public func changedFiles(from old: ObjectID?, to new: ObjectID, matching patterns: [PathPattern]) throws -> [FileChange] {
        let before = try old.map { try files(at: $0, matching: patterns) } ?? [:]
        let after = try files(at: new, matching: patterns)
        return FileChange.between(before, after)
    }

    /// Path → (blob id, mode) of every file `patterns` match in the commit.
    public func files(at commitID: ObjectID, matching patterns: [PathPattern]) throws -> [String: FileState] {
        var found: [String: FileState] = [:]
        let root = try withCommit(commitID) { ObjectID(git_commit_tree_id($0)) }
        for directory in Set(patterns.map(\.literalPrefix)) {
            let start: ObjectID
            if directory.isEmpty {
                start = root
            } else {
                let path = directory.joined(separator: "/")
                do {
                    let kind = try withTreeEntry(path, at: commitID) { (git_tree_entry_filemode($0), ObjectID(git_tree_entry_id($0))) }
                    if kind.0 != GIT_FILEMODE_TREE {
                        let components = directory.map { Substring($0) }
                        if patterns.contains(where: { $0.matches(components) }) { found[path] = FileState(id: kind.1, mode: kind.0.rawValue) }
                        continue
                    }
                    start = kind.1
                } catch GitError.pathNotFound {
                    continue
                }
            }
            let prefix = directory.map { Substring($0) }
            try walkFiles(in: start) { relative, id, mode in
                let full = prefix + relative
                if patterns.contains(where: { $0.matches(full) }) { found[full.joined(separator: "/")] = FileState(id: id, mode: mode) }
            }
        }
        return found
    }
}

/// A file as a commit holds it: its blob and its mode (a chmod is a change).
public struct FileState: Hashable, Sendable {
    public let id: ObjectID
    public let mode: UInt32

    public init(id: ObjectID, mode: UInt32) {
        self.id = id
        self.mode = mode
    }
}

/// One file that differs between two snapshots.
public struct FileChange: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable { case added, modified, deleted }
    public let path: String
    public let change: Kind

    public static func between(_ before: [String: FileState], _ after: [String: FileState]) -> [FileChange] {
        var changes: [FileChange] = []
        for (path, state) in after where before[path] != state {
            changes.append(FileChange(path: path, change: before[path] == nil ? .added : .modified))
        }
        for path in before.keys where after[path] == nil { changes.append(FileChange(path: path, change: .deleted)) }
        return changes.sorted { $0.path < $1.path }
    }
}
