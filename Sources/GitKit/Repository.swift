import CGit2

/// An open git repository (bare or with a work tree). Reads objects only: nothing here
/// checks out, writes the index or touches the work tree.
///
/// An ordinary repository is read natively (`Native/`: refs, loose objects, packs, every object
/// checked against its id) and libgit2 is loaded only for what that reader leaves to it: other
/// repository shapes, revision syntax beyond HEAD and full ids, history, remotes, signatures,
/// exports. `status` and `plan` then start without libgit2's ~5 ms and 13 libraries.
///
/// Not Sendable: the libgit2 handle stays inside one task; what it hands out are values.
public final class Repository {
    let native: NativeRepository?
    private var opened: OpaquePointer?
    /// Trees and commits parsed already. An id names its content, so a hit is never stale; path
    /// lookups under a `stacks/` of 500 entries parse it once, not once a lookup.
    private var parsed = ParsedObjects()
    /// The `.git` directory (or the bare repository's directory), with a trailing slash.
    public let gitDirectory: String
    /// The work tree, or nil for a bare repository.
    public let workDirectory: String?

    public var isBare: Bool { workDirectory == nil }

    private init(handle: OpaquePointer) {
        native = nil
        opened = handle
        gitDirectory = String(cString: git_repository_path(handle))
        workDirectory = git_repository_workdir(handle).map { String(cString: $0) }
    }

    private init(native: NativeRepository) {
        self.native = native
        gitDirectory = native.gitDirectory
        workDirectory = native.workDirectory
    }

    deinit {
        if let opened { git_repository_free(opened) }
    }

    /// Finds the repository that contains `path`, walking up as git does.
    public static func discover(from path: String) throws -> Repository {
        if let native = NativeRepository.find(from: path, search: true) { return Repository(native: native) }
        return Repository(handle: try open(path, flags: 0))
    }

    /// Opens the repository at exactly `path` (a work tree, its `.git`, or a bare repository).
    public static func open(at path: String) throws -> Repository {
        if let native = NativeRepository.find(from: path, search: false) { return Repository(native: native) }
        return Repository(handle: try open(path, flags: GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue))
    }

    private static func open(_ path: String, flags: UInt32) throws -> OpaquePointer {
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
        return handle!
    }

    /// Opened by libgit2 alone, the native reader left out: what the tests compare it with.
    static func openThroughLibgit2(at path: String) throws -> Repository {
        Repository(handle: try open(path, flags: GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue))
    }

    /// Directories nested deeper than this are refused by walks and exports (a hostile tree
    /// could nest thousands and exhaust the stack).
    static let depthLimit = 512

    /// True once this repository needed libgit2.
    var usedLibgit2: Bool { opened != nil }

    /// libgit2's handle on this repository, loading libgit2 and opening it the first time.
    func libgit2() throws -> OpaquePointer {
        if let opened { return opened }
        let handle = try Self.open(gitDirectory, flags: GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue)
        opened = handle
        return handle
    }

    /// For calls that answer without throwing: one that cannot reach libgit2 has no answer to give.
    var handle: OpaquePointer? { try? libgit2() }

    /// The native reader's answer, or libgit2's when the native reader leaves it (`NativeMiss`).
    /// A `GitError` from the native reader (a path not in a tree it read and checked) is the answer.
    func natively<T>(_ body: (NativeRepository) throws -> T, else fallback: () throws -> T) throws -> T {
        if let native {
            do { return try body(native) } catch is NativeMiss {}
        }
        return try fallback()
    }

    // MARK: - Revisions

    /// Resolves anything git accepts as a revision (branch, tag, full or short SHA, `HEAD~3`,
    /// `main@{1}`) to the commit it names.
    public func resolve(_ revision: String) throws -> ObjectID {
        try natively({ native in
            let named: ObjectID
            if revision == "HEAD", case .commitish(let id) = try native.references.head() {
                named = id
            } else if revision.utf8.count == 40, let id = ObjectID(hex: revision) {
                named = id
            } else {
                throw NativeMiss("revision syntax is libgit2's")
            }
            // Peel annotated tags down to the commit.
            var id = named
            var declared: ObjectKind?
            for _ in 0..<8 {
                let object = try native.objects.read(id)
                guard declared == nil || declared == object.kind else { throw NativeMiss("a tag names another kind of object") }
                switch object.kind {
                case .commit: return id
                case .tag: (id, declared) = try ObjectFormats.tagTarget(id, object.bytes)
                default: throw NativeMiss("names a \(object.kind.name): libgit2 says so")
                }
            }
            throw NativeMiss("tags of tags")
        }, else: {
            let handle = try libgit2()
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
        })
    }

    /// False for a repository whose HEAD names a branch with no commit yet (just `git init`).
    public var hasCommits: Bool {
        if let native, let head = try? native.references.head() {
            if case .unborn = head { return false }
            return true
        }
        guard let handle else { return false }
        return git_repository_head_unborn(handle) != 1
    }

    /// The commit's author, times, subject and parents.
    public func commit(_ id: ObjectID) throws -> CommitInfo {
        try commitObject(id).info
    }

    /// A commit's tree and what GitKit tells of it.
    func commitObject(_ id: ObjectID) throws -> ObjectFormats.Commit {
        if let known = parsed.commits[id] { return known }
        let commit = try natively({ native in
            try ObjectFormats.commit(id, native.objects.read(id, as: .commit))
        }, else: {
            try withCommit(id) { commit in ObjectFormats.Commit(tree: ObjectID(git_commit_tree_id(commit)), info: Self.info(of: commit)) }
        })
        parsed.keep(commit, as: id)
        return commit
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
        let handle = try libgit2()
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

    /// The largest tree read: ~500,000 entries. Git sets no limit, and one tree of millions
    /// (a few seconds and gigabytes to parse) in a pushed commit would stall every command.
    public static let treeLimit = 16 << 20

    /// The entries of tree `id` with their normalised modes, from either reader.
    func treeEntries(_ id: ObjectID) throws -> [(entry: TreeEntry, mode: UInt32)] {
        if let known = parsed.trees[id] { return known }
        let entries = try natively({ native in
            try ObjectFormats.tree(id, native.objects.read(id, as: .tree, limit: Self.treeLimit))
        }, else: {
            let handle = try libgit2()
            var oid = id.gitOID
            try refuseLarger(&oid, than: Self.treeLimit, in: handle)
            var tree: OpaquePointer?
            try check(git_tree_lookup(&tree, handle, &oid), "git_tree_lookup")
            defer { git_tree_free(tree) }
            return (0..<git_tree_entrycount(tree)).compactMap { index in
                guard let entry = git_tree_entry_byindex(tree, index) else { return nil }
                let mode = git_tree_entry_filemode(entry).rawValue
                return (TreeEntry(name: String(cString: git_tree_entry_name(entry)), kind: ObjectFormats.kind(mode),
                                  id: ObjectID(git_tree_entry_id(entry))), mode)
            }
        })
        parsed.keep(entries, as: id)
        return entries
    }

    /// The bytes of the blob `id` (a file's `TreeEntry.id`). With a `limit`, a larger blob is
    /// refused from its header (`GitError.objectTooLarge`) before any of it is inflated.
    public func readBlob(_ id: ObjectID, limit: Int? = nil) throws -> Blob {
        try natively({ native in
            Blob(id: id, bytes: try native.objects.read(id, as: .blob, limit: limit))
        }, else: {
            let handle = try libgit2()
            var oid = id.gitOID
            if let limit { try refuseLarger(&oid, than: limit, in: handle) }
            var blob: OpaquePointer?
            try check(git_blob_lookup(&blob, handle, &oid), "git_blob_lookup")
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            guard size > 0 else { return Blob(id: id, bytes: []) }
            let raw = git_blob_rawcontent(blob)!.assumingMemoryBound(to: UInt8.self)
            return Blob(id: id, bytes: Array(UnsafeBufferPointer(start: raw, count: size)))
        })
    }

    /// libgit2's half of a limit: the object's size from its header, before it is read.
    private func refuseLarger(_ oid: inout git_oid, than limit: Int, in handle: OpaquePointer) throws {
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, handle), "git_repository_odb")
        defer { git_odb_free(odb) }
        var size = 0
        var type = GIT_OBJECT_ANY
        try check(git_odb_read_header(&size, &type, odb, &oid), "git_odb_read_header")
        if size > limit { throw GitError.objectTooLarge(id: ObjectID(oid), size: size, limit: limit) }
    }

    /// The entry at `path` in the commit's tree (as `git_tree_entry_bypath`: every component
    /// but the last must be a directory).
    func entry(_ path: String, at commitID: ObjectID) throws -> (entry: TreeEntry, mode: UInt32) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false)
        // "dir/" names a directory, never a file.
        let directoryOnly = components.count > 1 && components.last == ""
        if directoryOnly { components.removeLast() }
        var tree = try commitObject(commitID).tree
        for (index, component) in components.enumerated() {
            // Bytes, as git compares names (String == would match canonically equivalent ones).
            guard let found = try treeEntries(tree).first(where: { $0.entry.name.utf8.elementsEqual(component.utf8) }) else {
                throw GitError.pathNotFound(path: path, commit: commitID)
            }
            if index == components.count - 1 {
                guard !directoryOnly || found.entry.kind == .directory else { throw GitError.pathNotFound(path: path, commit: commitID) }
                return found
            }
            guard found.entry.kind == .directory else { throw GitError.pathNotFound(path: path, commit: commitID) }
            tree = found.entry.id
        }
        throw GitError.pathNotFound(path: path, commit: commitID)
    }

    /// The bytes of the file at `path` in the commit's tree, read from the object database;
    /// with a `limit`, as `readBlob`.
    public func readFile(_ path: String, at commitID: ObjectID, limit: Int? = nil) throws -> Blob {
        let found = try entry(path, at: commitID)
        guard found.entry.kind == .file || found.entry.kind == .symlink else {
            throw GitError.wrongObjectType(path: path, commit: commitID, expected: "file")
        }
        return try readBlob(found.entry.id, limit: limit)
    }

    /// True when `path` names anything in the commit's tree.
    public func exists(_ path: String, at commitID: ObjectID) throws -> Bool {
        do {
            _ = try entry(path, at: commitID)
            return true
        } catch GitError.pathNotFound {
            return false
        }
    }

    /// The entries of the directory at `path` ("" for the root) in the commit's tree.
    public func listDirectory(_ path: String, at commitID: ObjectID) throws -> [TreeEntry] {
        if path.isEmpty || path == "." || path == "/" {
            return try treeEntries(commitObject(commitID).tree).map(\.entry)
        }
        let found = try entry(path, at: commitID)
        guard found.entry.kind == .directory else {
            throw GitError.wrongObjectType(path: path, commit: commitID, expected: "directory")
        }
        return try listTree(found.entry.id)
    }

    /// The entries of the tree `id` (a directory's `TreeEntry.id`): listing many directories
    /// under one parent without walking from the root each time.
    public func listTree(_ id: ObjectID) throws -> [TreeEntry] {
        try treeEntries(id).map(\.entry)
    }
}

/// The bounded memory of `Repository.parsed`: forgotten wholesale past 20,000 entries (a
/// history walk reads more trees than a command ever reads twice).
struct ParsedObjects {
    private(set) var trees: [ObjectID: [(entry: TreeEntry, mode: UInt32)]] = [:]
    private(set) var commits: [ObjectID: ObjectFormats.Commit] = [:]

    mutating func keep(_ entries: [(entry: TreeEntry, mode: UInt32)], as id: ObjectID) {
        if trees.count >= 20_000 { trees.removeAll() }
        trees[id] = entries
    }

    mutating func keep(_ commit: ObjectFormats.Commit, as id: ObjectID) {
        if commits.count >= 20_000 { commits.removeAll() }
        commits[id] = commit
    }
}

extension Repository {
    /// Every file (blobs and symlinks; not submodules) below the tree `id`, depth first, with
    /// its path components relative to that tree.
    func walkFiles(in id: ObjectID, _ visit: ([Substring], ObjectID, UInt32) throws -> Void) throws {
        try walkFiles(in: id, prefix: [], visit)
    }

    private func walkFiles(in id: ObjectID, prefix: [Substring], _ visit: ([Substring], ObjectID, UInt32) throws -> Void) throws {
        guard prefix.count < Self.depthLimit else { throw GitError.tooDeep(path: prefix.joined(separator: "/")) }
        for (entry, mode) in try treeEntries(id) {
            let name = Substring(entry.name)
            switch entry.kind {
            case .directory: try walkFiles(in: entry.id, prefix: prefix + [name], visit)
            case .submodule: continue
            case .file, .symlink: try visit(prefix + [name], entry.id, mode)
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
        let root = try commitObject(commitID).tree
        for directory in Set(patterns.map(\.literalPrefix)) {
            let start: ObjectID
            if directory.isEmpty {
                start = root
            } else {
                let path = directory.joined(separator: "/")
                do {
                    let (entry, mode) = try entry(path, at: commitID)
                    if entry.kind != .directory {
                        let components = directory.map { Substring($0) }
                        if patterns.contains(where: { $0.matches(components) }) { found[path] = FileState(id: entry.id, mode: mode) }
                        continue
                    }
                    start = entry.id
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
