import Foundation

/// The catalog of the `stacks/` tree listed last, kept by the tree's id: a listing of hundreds of
/// stacks (`stacks`, `status`, shell completion) then reads one tree, the root's, instead of one
/// per stack directory. The id names the tree's whole content, so a cache hit is never stale;
/// this build's stamp keys it too (what counts as an environment file is deployctl's rule).
struct CatalogCache {
    let file: String?

    init(state: StateDirectory) {
        file = state.directory("cache").map { "\($0)/catalog.tsv" }
    }

    // A header (name, stamp, tree id), then one line per file: path, blob id.
    private static let header = "deployctl catalog cache 1"

    /// The catalog of `tree`, when it is the one cached; anything else (another tree, another
    /// build, an unreadable file) is a miss.
    func load(tree: String) -> StackCatalog? {
        guard let file, let data = FileManager.default.contents(atPath: file) else { return nil }
        var blobs: [String: String] = [:], first = true, broken = false
        CacheFields.forEachLine(of: data) { fields in
            guard !broken else { return }
            if first {
                first = false
                broken = fields.map { String(decoding: $0, as: UTF8.self) } != [Self.header, CacheFields.escape(StateDirectory.cacheStamp), tree]
                return
            }
            guard fields.count == 2 else { broken = true; return }
            blobs[CacheFields.unescape(fields[0])] = String(decoding: fields[1], as: UTF8.self)
        }
        guard !first, !broken else { return nil }
        return StackCatalog(blobs: blobs)
    }

    func save(_ catalog: StackCatalog, tree: String) {
        guard let file else { return }
        var text = "\(Self.header)\t\(CacheFields.escape(StateDirectory.cacheStamp))\t\(tree)\n"
        for (path, blob) in catalog.blobs.sorted(by: { $0.key < $1.key }) {
            text += "\(CacheFields.escape(path))\t\(blob)\n"
        }
        try? Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
