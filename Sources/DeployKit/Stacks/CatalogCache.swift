import Foundation

/// The catalog of the `stacks/` tree listed last, kept by the tree's id: a listing of hundreds of
/// stacks (`stacks`, `status`, shell completion) then reads one tree, the root's, instead of one
/// per stack directory. The id names the tree's whole content, so a cache hit is never stale;
/// this build's stamp keys it too (what counts as an environment file is deployctl's rule).
/// Only for what is shown (see `Workspace.shownCatalog`).
struct CatalogCache {
    let file: String?

    /// Kept only where the state directory's `cache/` already is: completion runs on a
    /// half-typed `--state` and must not make directories there.
    init(state: StateDirectory) {
        file = state.existingDirectory("cache").map { "\($0)/catalog.tsv" }
    }

    // A header (name, stamp, tree id), then one line per file: path, blob id (`CacheFields.records`).
    private static let header = "deployctl catalog cache 1"

    /// The catalog of `tree`, when it is the one cached; anything else (another tree, another
    /// build, an unreadable file) is a miss.
    func load(tree: String) -> StackCatalog? {
        guard let file, let data = FileManager.default.contents(atPath: file),
              let records = CacheFields.records(in: data, header: { $0 == [Self.header, CacheFields.escape(StateDirectory.cacheStamp), tree] })
        else { return nil }
        var blobs: [String: String] = [:]
        for fields in records {
            guard fields.count == 2 else { return nil }
            blobs[CacheFields.unescape(fields[0])] = String(decoding: fields[1], as: UTF8.self)
        }
        return StackCatalog(blobs: blobs)
    }

    func save(_ catalog: StackCatalog, tree: String) {
        guard let file else { return }
        let records = catalog.blobs.sorted { $0.key < $1.key }.map { "\(CacheFields.escape($0.key))\t\($0.value)" }
        try? CacheFields.file(header: [Self.header, CacheFields.escape(StateDirectory.cacheStamp), tree], records: records)
            .write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
