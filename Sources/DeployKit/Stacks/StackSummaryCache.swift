import Foundation

/// What `stacks` shows of each target (its description, whether it is valid), kept by the blob
/// ids of every file the target was read from: a repository of hundreds of stacks is listed
/// without parsing what has not changed. Results depend only on those bytes, the limits in the
/// environment and the deployctl build, so all three key it; anything unreadable is a miss.
struct StackSummaryCache {
    struct Record: Equatable {
        /// Every file the target was read from (the environment file and what it extends) → blob id.
        var files: [String: String]
        var description: String?
        var valid: Bool
    }

    let file: String?

    init(state: StateDirectory) {
        file = state.directory("cache").map { "\($0)/stacks.tsv" }
    }

    // One line per record, tab-separated (JSONDecoder took a third of a warm listing of 1,500
    // targets): path, 1|0, description, then file=blob for every file read.
    private static let header = "deployctl stacks cache 1"

    /// The records, keyed by environment file path, when written by this build with these limits.
    /// Split as bytes: splitting a String by Character (grapheme clusters) was most of a listing.
    func load() -> [String: Record] {
        guard let file, let data = FileManager.default.contents(atPath: file) else { return [:] }
        let bytes = [UInt8](data)
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
        guard let first = lines.first, String(decoding: first, as: UTF8.self) == "\(Self.header)\t\(CacheFields.escape(StateDirectory.cacheStamp))" else { return [:] }
        var records: [String: Record] = [:]
        records.reserveCapacity(lines.count)
        for line in lines.dropFirst() {
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
            guard fields.count >= 3, fields[1].count == 1, let flag = fields[1].first, flag == UInt8(ascii: "1") || flag == UInt8(ascii: "0") else { return [:] }
            var files: [String: String] = [:]
            for pair in fields.dropFirst(3) {
                guard let equals = pair.lastIndex(of: UInt8(ascii: "=")) else { return [:] }
                files[CacheFields.unescape(pair[..<equals])] = String(decoding: pair[(equals + 1)...], as: UTF8.self)
            }
            records[CacheFields.unescape(fields[0])] = Record(files: files, description: fields[2].isEmpty ? nil : CacheFields.unescape(fields[2]),
                                                       valid: flag == UInt8(ascii: "1"))
        }
        return records
    }

    /// Replaces the cache with `records` (only what this listing saw: nothing grows unbounded).
    func save(_ records: [String: Record]) {
        guard let file else { return }
        var text = "\(Self.header)\t\(CacheFields.escape(StateDirectory.cacheStamp))\n"
        for (path, record) in records.sorted(by: { $0.key < $1.key }) {
            let fields = [CacheFields.escape(path), record.valid ? "1" : "0", record.description.map(CacheFields.escape) ?? ""]
                + record.files.sorted { $0.key < $1.key }.map { "\(CacheFields.escape($0.key))=\($0.value)" }
            text += fields.joined(separator: "\t") + "\n"
        }
        try? Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
