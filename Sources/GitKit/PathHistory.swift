import CGit2

extension Repository {
    /// The commits that changed any of `paths`, newest first, starting at `start`: the list
    /// `git log --format=%H -- PATHS` prints (default history simplification, no rename
    /// following).
    ///
    /// It mirrors git's walk: commits leave a queue ordered by committer time (first come
    /// first out among equals); a merge that matches one of its parents on the paths follows
    /// only that parent and is not shown; a merge that matches none is shown and follows all;
    /// a root commit is shown when the paths exist in it.
    ///
    /// With a `cache` for the same paths, commits walked before are not read again.
    ///
    /// Globs (`scripts/*.sh`, `db/**`) count as one path whose state is every file they match
    /// under their literal directory: a commit shows when any of those files changed.
    public func history(of paths: [String], from start: ObjectID, limit: Int? = nil,
                        cache: HistoryCache? = nil) throws -> [CommitInfo] {
        try history(of: paths.compactMap(PathPattern.init), from: start, limit: limit, cache: cache)
    }

    public func history(of patterns: [PathPattern], from start: ObjectID, limit: Int? = nil,
                        cache: HistoryCache? = nil) throws -> [CommitInfo] {
        let paths = patterns.map(\.raw)
        precondition(cache == nil || cache!.paths == paths, "a history cache serves one list of paths")
        var walk = PathHistoryWalk(repository: self, patterns: patterns, cache: cache ?? HistoryCache(file: "", paths: paths))
        let ids = try walk.run(from: start, limit: limit ?? Int.max)
        cache?.save()
        return try ids.map { try commit($0) }
    }
}

/// One walk's state: the queue, what it has seen, and memoised path lookups.
struct PathHistoryWalk {
    /// What a path is in one commit: the object and its mode (a chmod counts as a change).
    struct Entry: Hashable {
        let id: ObjectID
        let mode: UInt32
    }

    private let repository: Repository
    private let patterns: [PathPattern]
    /// Each path (for a glob, its literal directory) split into NUL-terminated components.
    private let components: [[[CChar]]]
    /// Per path, per depth: what the rest of the path is below a given tree.
    private var below: [[[ObjectID: Entry?]]]
    /// Per glob, per directory tree: the state of the files it matches there.
    private var globbed: [[ObjectID: Entry?]]
    private let facts: HistoryCache
    private var seen: Set<ObjectID> = []
    private var queue = CommitQueue()

    init(repository: Repository, patterns: [PathPattern], cache: HistoryCache) {
        self.repository = repository
        self.patterns = patterns
        components = patterns.map { pattern in
            (pattern.isLiteral ? pattern.components : pattern.literalPrefix).map { Array($0.utf8CString) }
        }
        below = components.map { Array(repeating: [:], count: $0.count) }
        globbed = patterns.map { _ in [:] }
        facts = cache
    }

    /// The ids of the commits to show, in git's order.
    mutating func run(from start: ObjectID, limit: Int) throws -> [ObjectID] {
        var shown: [ObjectID] = []
        guard limit > 0 else { return shown }
        try enqueue(start)
        while let next = queue.pop() {
            let commit = try record(next)
            var show: Bool
            if commit.parents.isEmpty {
                show = commit.states.contains { $0 != nil }
            } else {
                show = true
                var follow: [ObjectID] = []
                for parent in commit.parents {
                    if try record(parent).states == commit.states {
                        follow = [parent]
                        show = false
                        break
                    }
                    follow.append(parent)
                }
                for parent in follow { try enqueue(parent) }
            }
            if show {
                shown.append(next)
                if shown.count >= limit { break }
            }
        }
        return shown
    }

    private mutating func enqueue(_ id: ObjectID) throws {
        guard seen.insert(id).inserted else { return }
        queue.push(id, time: try record(id).time)
    }

    /// Time, parents and path states of a commit: from the cache, else read and remembered.
    private mutating func record(_ id: ObjectID) throws -> HistoryCache.Record {
        if let known = facts.record(id) { return known }
        let record = try repository.withCommit(id) { commit -> HistoryCache.Record in
            let count = git_commit_parentcount(commit)
            var parents: [ObjectID] = []
            parents.reserveCapacity(Int(count))
            for index in 0..<count { parents.append(ObjectID(git_commit_parent_id(commit, index))) }
            let root = ObjectID(git_commit_tree_id(commit))
            var states: [Entry?] = []
            states.reserveCapacity(components.count)
            for path in components.indices {
                states.append(try state(path: path, root: root))
            }
            return HistoryCache.Record(time: git_commit_time(commit), parents: parents, states: states)
        }
        facts.store(id, record)
        return record
    }

    /// What path number `path` is in the commit whose tree is `root`.
    private mutating func state(path: Int, root: ObjectID) throws -> Entry? {
        guard !patterns[path].isLiteral else { return try entry(path: path, depth: 0, tree: root) }
        // A glob: the files it matches under its literal directory, as one fingerprint.
        let directory: ObjectID
        if components[path].isEmpty {
            directory = root
        } else {
            guard let found = try entry(path: path, depth: 0, tree: root), found.mode == GIT_FILEMODE_TREE.rawValue else { return nil }
            directory = found.id
        }
        if let known = globbed[path][directory] { return known }
        var listing: [UInt8] = []
        let prefix = patterns[path].literalPrefix.map { Substring($0) }
        try repository.walkFiles(in: directory) { relative, id, mode in
            guard patterns[path].matches(prefix + relative) else { return }
            listing += Array("\(mode) \(id.hex) \(relative.joined(separator: "/"))\n".utf8)
        }
        let result = listing.isEmpty ? nil : Entry(id: .blob(of: listing), mode: 0)
        globbed[path][directory] = .some(result)
        return result
    }

    /// The entry of path number `path` from component `depth` on, inside `tree`.
    private mutating func entry(path: Int, depth: Int, tree: ObjectID) throws -> Entry? {
        if let known = below[path][depth][tree] { return known }
        var oid = tree.gitOID
        var treeHandle: OpaquePointer?
        try check(git_tree_lookup(&treeHandle, try repository.libgit2(), &oid), "git_tree_lookup")
        let found: (ObjectID, UInt32, Bool)? = components[path][depth].withUnsafeBufferPointer { name in
            guard let entry = git_tree_entry_byname(treeHandle, name.baseAddress) else { return nil }
            return (ObjectID(git_tree_entry_id(entry)),
                    git_tree_entry_filemode(entry).rawValue,
                    git_tree_entry_type(entry) == GIT_OBJECT_TREE)
        }
        git_tree_free(treeHandle)
        var result: Entry? = nil
        if let (id, mode, isTree) = found {
            if depth == components[path].count - 1 {
                result = Entry(id: id, mode: mode)
            } else if isTree {
                result = try entry(path: path, depth: depth + 1, tree: id)
            }
        }
        below[path][depth][tree] = .some(result)
        return result
    }
}

/// Commits ordered newest first by committer time; equal times leave in arrival order, as
/// in git's `commit_list_insert_by_date`.
struct CommitQueue {
    private var heap: [(id: ObjectID, time: Int64, order: Int)] = []
    private var arrivals = 0

    mutating func push(_ id: ObjectID, time: Int64) {
        heap.append((id, time, arrivals))
        arrivals += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> ObjectID? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0].id
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < heap.count && precedes(heap[left], heap[best]) { best = left }
                if right < heap.count && precedes(heap[right], heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }

    private func precedes(_ a: (id: ObjectID, time: Int64, order: Int), _ b: (id: ObjectID, time: Int64, order: Int)) -> Bool {
        a.time != b.time ? a.time > b.time : a.order < b.order
    }
}
