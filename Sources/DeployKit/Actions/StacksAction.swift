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
        let catalog = try workspace.shownCatalog(at: pinned)
        let cache = StackSummaryCache(state: workspace.state)
        let cached = cache.load()
        let files = SourceFiles(stacks: workspace.stacks, source: .commit(pinned), catalog: catalog)
        // A file outside the stack directories (an `extends:` elsewhere) is looked up by path;
        // "-" stands for a file that was not there (creating it changes the verdict too).
        func blob(_ path: String) -> String { catalog.blobs[path] ?? files.blob(path) ?? "-" }
        var records: [String: StackSummaryCache.Record] = [:]
        var misses: [StackCatalog.Entry] = []
        for entry in catalog.entries {
            if let record = cached[entry.path], record.files.allSatisfy({ blob($0.path) == $0.blob }) {
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
        if !misses.isEmpty || records.count != cached.count { cache.save(records) }
        let summaries = catalog.entries.map { entry in
            let record = records[entry.path]
            return Summary(target: entry.target, stack: entry.stack, environment: entry.environment, path: entry.path,
                           description: record?.description, valid: record?.valid ?? false)
        }
        return (pinned, summaries)
    }
}
