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
        let directory = state.path + "/cache"
        var isDirectory: ObjCBool = false
        file = FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue ? directory + "/catalog.tsv" : nil
    }

    // A header (name, stamp, tree id), one line per file (path, blob id), then `end` and the
    // number of files: a file cut short is a miss.
    private static let header = "deployctl catalog cache 1"
    private static let end = "end"

    /// The catalog of `tree`, when it is the one cached; anything else (another tree, another
    /// build, an unreadable file) is a miss.
    func load(tree: String) -> StackCatalog? {
        guard let file, let data = FileManager.default.contents(atPath: file) else { return nil }
        var blobs: [String: String] = [:], first = true, broken = false, ended = false
        CacheFields.forEachLine(of: data) { fields in
            guard !broken else { return }
            if first {
                first = false
                broken = fields.map { String(decoding: $0, as: UTF8.self) } != [Self.header, CacheFields.escape(StateDirectory.cacheStamp), tree]
                return
            }
            guard !ended, fields.count == 2 else { broken = true; return }
            if fields[0].elementsEqual(Self.end.utf8) {
                ended = true
                broken = String(decoding: fields[1], as: UTF8.self) != String(blobs.count)
                return
            }
            blobs[CacheFields.unescape(fields[0])] = String(decoding: fields[1], as: UTF8.self)
        }
        guard ended, !broken else { return nil }
        return StackCatalog(blobs: blobs)
    }

    func save(_ catalog: StackCatalog, tree: String) {
        guard let file else { return }
        var text = "\(Self.header)\t\(CacheFields.escape(StateDirectory.cacheStamp))\t\(tree)\n"
        for (path, blob) in catalog.blobs.sorted(by: { $0.key < $1.key }) {
            text += "\(CacheFields.escape(path))\t\(blob)\n"
        }
        text += "\(Self.end)\t\(catalog.blobs.count)\n"
        try? Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
