/// `deployctl stacks`: what stacks and environments a revision holds.
public struct StacksAction {
    public struct Summary: Codable, Sendable {
        public let target: String
        public let stack: String
        public let environment: String
        public let path: String
        public let description: String?
        public let valid: Bool
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Targets whose files are unchanged since the last listing come from the cache; the others
    /// are loaded in parallel and cached.
    public func run(revision: String) throws -> (revision: PinnedRevision, stacks: [Summary]) {
        let pinned = try workspace.stacks.pin(revision)
        let tree = try workspace.stacks.stacksTree(at: pinned)?.hex
        let cache = StackSummaryCache(state: workspace.state)
        let cached = cache.load()
        // The `stacks/` tree of the last listing: the same targets, each file under it the same.
        // Only a file read from elsewhere (an `extends:` outside stacks/) is looked up again.
        if let tree, cached.tree == tree {
            let outside = SourceFiles(stacks: workspace.stacks, source: .commit(pinned))
            let prefix = StackCatalog.directory + "/"
            if cached.records.values.allSatisfy({ $0.files.allSatisfy { $0.path.utf8.starts(with: prefix.utf8) || (outside.blob($0.path) ?? "-") == $0.blob } }) {
                return (pinned, Self.summaries(cached.records))
            }
        }
        let catalog = try workspace.shownCatalog(at: pinned)
        let files = SourceFiles(stacks: workspace.stacks, source: .commit(pinned), catalog: catalog)
        // A file outside the stack directories (an `extends:` elsewhere) is looked up by path;
        // "-" stands for a file that was not there (creating it changes the verdict too).
        func blob(_ path: String) -> String { catalog.blobs[path] ?? files.blob(path) ?? "-" }
        var records: [String: StackSummaryCache.Record] = [:]
        var misses: [StackCatalog.Entry] = []
        for entry in catalog.entries {
            if let record = cached.records[entry.path], record.files.allSatisfy({ blob($0.path) == $0.blob }) {
                records[entry.path] = record
            } else {
                misses.append(entry)
            }
        }
        for (entry, loaded) in zip(misses, files.load(misses)) {
            var seen = Set<String>()
            let read = loaded.read.filter { seen.insert($0).inserted }.map { StackSummaryCache.FileBlob(path: $0, blob: blob($0)) }
            records[entry.path] = .init(files: read, description: loaded.result.descriptor?.description, valid: loaded.result.isValid)
        }
        if !misses.isEmpty || records.count != cached.records.count || cached.tree != tree { cache.save(records, tree: tree) }
        return (pinned, Self.summaries(records))
    }

    /// Every target of a listing, in catalog order.
    private static func summaries(_ records: [String: StackSummaryCache.Record]) -> [Summary] {
        records.compactMap { path, record in
            StackCatalog.entry(path: path).map { entry in
                Summary(target: entry.target, stack: entry.stack, environment: entry.environment, path: path,
                        description: record.description, valid: record.valid)
            }
        }.sorted { ($0.stack, $0.environment) < ($1.stack, $1.environment) }
    }
}
