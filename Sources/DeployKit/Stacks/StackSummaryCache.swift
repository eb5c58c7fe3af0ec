import Foundation

/// What `stacks` shows of each target (its description, whether it is valid), kept by the blob
/// ids of every file the target was read from: a repository of hundreds of stacks is listed
/// without parsing what has not changed. Results depend only on those bytes, the limits in the
/// environment and the deployctl build, so all three key it; anything unreadable is a miss.
struct StackSummaryCache {
    struct Record: Equatable {
        /// Every file the target was read from (the environment file and what it extends) and
        /// its blob id, by path. A list, not a dictionary: 1,500 records are read at each listing.
        var files: [FileBlob]
        var description: String?
        var valid: Bool
    }

    struct FileBlob: Equatable {
        var path: String
        var blob: String
    }

    let file: String?

    init(state: StateDirectory) {
        file = state.directory("cache").map { "\($0)/stacks.tsv" }
    }

    // A header (name, stamp, the id of the `stacks/` tree listed), then one line per record,
    // tab-separated (JSONDecoder took a third of a warm listing of 1,500 targets): path, 1|0,
    // description, then file=blob for every file read (`CacheFields.records`: a listing may be
    // taken whole from here, so a file cut short is a miss).
    private static let header = "deployctl stacks cache 2"

    /// What the last listing saw: its `stacks/` tree (nil: unknown) and every target's record.
    struct Listing {
        var tree: String?
        var records: [String: Record]
    }

    /// The records, keyed by environment file path, when written by this build with these limits.
    /// Split as bytes: splitting a String by Character (grapheme clusters) was most of a listing.
    func load() -> Listing {
        var tree: String? = nil
        guard let file, let data = FileManager.default.contents(atPath: file),
              let lines = CacheFields.records(in: data, header: { header in
                  guard header.count == 3, header[..<2] == [Self.header, CacheFields.escape(StateDirectory.cacheStamp)] else { return false }
                  tree = header[2] == "-" ? nil : header[2]
                  return true
              })
        else { return Listing(records: [:]) }
        var records: [String: Record] = [:]
        records.reserveCapacity(lines.count)
        for fields in lines {
            guard fields.count >= 3, fields[1].count == 1, let flag = fields[1].first, flag == UInt8(ascii: "1") || flag == UInt8(ascii: "0") else {
                return Listing(records: [:])
            }
            var files: [FileBlob] = []
            files.reserveCapacity(fields.count - 3)
            for pair in fields.dropFirst(3) {
                guard let equals = pair.lastIndex(of: UInt8(ascii: "=")) else { return Listing(records: [:]) }
                files.append(FileBlob(path: CacheFields.unescape(pair[..<equals]), blob: String(decoding: pair[(equals + 1)...], as: UTF8.self)))
            }
            records[CacheFields.unescape(fields[0])] = Record(files: files, description: fields[2].isEmpty ? nil : CacheFields.unescape(fields[2]),
                                                       valid: flag == UInt8(ascii: "1"))
        }
        return Listing(tree: tree, records: records)
    }

    /// Replaces the cache with `records` (only what this listing saw: nothing grows unbounded),
    /// the listing of the `stacks/` tree `tree`.
    func save(_ records: [String: Record], tree: String?) {
        guard let file else { return }
        let lines = records.sorted(by: { $0.key < $1.key }).map { path, record in
            ([CacheFields.escape(path), record.valid ? "1" : "0", record.description.map(CacheFields.escape) ?? ""]
                + record.files.sorted { $0.path < $1.path }.map { "\(CacheFields.escape($0.path))=\($0.blob)" }).joined(separator: "\t")
        }
        try? CacheFields.file(header: [Self.header, CacheFields.escape(StateDirectory.cacheStamp), tree ?? "-"], records: lines)
            .write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
