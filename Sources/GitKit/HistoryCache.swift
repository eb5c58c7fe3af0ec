import CGit2

#if canImport(Glibc)
import Glibc
#endif

/// Facts about commits that a path-history walk needs (committer time, parents, and what each
/// path is in the commit's tree), kept in a file so the next walk reads them instead of
/// inflating every commit and tree again.
///
/// Every fact is a function of the commit id alone (commits are immutable), so the cache can
/// never go stale; rewritten history just adds records. A file that cannot be read or is for
/// other paths is ignored and rewritten; a file that cannot be written only costs speed.
public final class HistoryCache {
    struct Record: Equatable {
        let time: Int64
        let parents: [ObjectID]
        let states: [PathHistoryWalk.Entry?]
    }

    public let file: String
    public let paths: [String]
    private(set) var records: [ObjectID: Record] = [:]
    private var added = 0

    /// Loads `file` if it holds records for exactly these paths.
    public init(file: String, paths: [String]) {
        self.file = file
        self.paths = paths
        if let bytes = Self.readAll(file) { records = Self.decode(bytes, paths: paths) ?? [:] }
    }

    public var count: Int { records.count }

    func record(_ id: ObjectID) -> Record? { records[id] }

    func store(_ id: ObjectID, _ record: Record) {
        records[id] = record
        added += 1
    }

    /// Writes the file (atomically, by rename) when the walk learned something new.
    public func save() {
        guard added > 0 else { return }
        let temporary = file + ".\(getpid()).tmp"
        let bytes = encode()
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written == bytes.count, rename(temporary, file) == 0 {
            added = 0
        } else {
            unlink(temporary)
        }
    }

    // MARK: - Format: magic, paths, then records (all integers little-endian)

    private static let magic = Array("deployctl-history-cache-1\n".utf8)

    private func encode() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(Self.magic.count + records.count * (29 + 25 * paths.count))
        let header = paths.joined(separator: "\u{0}")
        append(&out, UInt32(header.utf8.count))
        out += Array(header.utf8)
        for (id, record) in records {
            out += id.bytes
            append(&out, UInt64(bitPattern: record.time))
            out.append(UInt8(min(record.parents.count, 255)))
            for parent in record.parents.prefix(255) { out += parent.bytes }
            for state in record.states {
                if let state {
                    out.append(1)
                    out += state.id.bytes
                    append(&out, state.mode)
                } else {
                    out.append(0)
                }
            }
        }
        return out
    }

    private func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    private static func decode(_ bytes: [UInt8], paths: [String]) -> [ObjectID: Record]? {
        var reader = ByteReader(bytes: bytes)
        guard reader.take(magic.count).map(Array.init) == magic, let headerLength: UInt32 = reader.integer(),
              let header = reader.take(Int(headerLength)),
              String(decoding: header, as: UTF8.self) == paths.joined(separator: "\u{0}") else { return nil }
        var records: [ObjectID: Record] = [:]
        while !reader.atEnd {
            guard let id = reader.objectID(), let time: UInt64 = reader.integer(), let count = reader.take(1)?.first else { return nil }
            var parents: [ObjectID] = []
            for _ in 0..<count {
                guard let parent = reader.objectID() else { return nil }
                parents.append(parent)
            }
            var states: [PathHistoryWalk.Entry?] = []
            for _ in paths {
                guard let flag = reader.take(1)?.first else { return nil }
                if flag == 1 {
                    guard let oid = reader.objectID(), let mode: UInt32 = reader.integer() else { return nil }
                    states.append(PathHistoryWalk.Entry(id: oid, mode: mode))
                } else {
                    states.append(nil)
                }
            }
            records[id] = Record(time: Int64(bitPattern: time), parents: parents, states: states)
        }
        return records
    }

    private static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return got == bytes.count ? bytes : nil
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset >= bytes.count }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, offset + count <= bytes.count else { return nil }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func integer<T: FixedWidthInteger>() -> T? {
        guard let slice = take(MemoryLayout<T>.size) else { return nil }
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: slice) }
        return T(littleEndian: value)
    }

    mutating func objectID() -> ObjectID? {
        guard let slice = take(20) else { return nil }
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { $0.copyBytes(from: slice) }
        return ObjectID(oid)
    }
}
