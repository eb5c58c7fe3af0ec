#if canImport(Glibc)
import Glibc
#endif
import ZlibSupport

/// The four kinds of object git stores, numbered as packs number them.
enum ObjectKind: UInt8 {
    case commit = 1, tree = 2, blob = 3, tag = 4

    var name: String {
        switch self {
        case .commit: "commit"
        case .tree: "tree"
        case .blob: "blob"
        case .tag: "tag"
        }
    }

    init?(name: some Collection<UInt8>) {
        switch String(decoding: name, as: UTF8.self) {
        case "commit": self = .commit
        case "tree": self = .tree
        case "blob": self = .blob
        case "tag": self = .tag
        default: return nil
        }
    }
}

/// An object's kind and bytes, checked against the id it was asked for.
struct StoredObject {
    let kind: ObjectKind
    let bytes: [UInt8]
}

/// `objects/` read without libgit2: loose objects and packs (index version 2, offset and
/// reference deltas). Every object it returns hashes to the id asked for, so a mistake in here
/// (or a damaged file) is a miss that sends the caller to libgit2, never wrong bytes.
final class ObjectDatabase {
    /// Larger objects are left to libgit2 (a descriptor is refused long before this).
    static let sizeLimit = 256 << 20
    let directory: String
    private var packs: [Pack]?
    /// Why the packs could not be read, once: every later read is a miss at once.
    private var unreadablePacks: NativeMiss?

    init(directory: String) {
        self.directory = directory
    }

    /// With a `limit`, an object said to be larger is refused (`GitError.objectTooLarge`, not a
    /// miss: libgit2 would read it whole) before its data is inflated.
    func read(_ id: ObjectID, limit: Int? = nil) throws -> StoredObject {
        let object = try readLoose(id, limit: limit) ?? readPacked(id, limit: limit)
        let named = object.bytes.withUnsafeBytes { ObjectID.naming(object.kind.name, $0) }
        guard named == id else { throw NativeMiss("object \(id) hashes to \(named)") }
        return object
    }

    /// The bytes of `id`, which must be a `kind` (anything else is libgit2's to name).
    func read(_ id: ObjectID, as kind: ObjectKind, limit: Int? = nil) throws -> [UInt8] {
        let object = try read(id, limit: limit)
        guard object.kind == kind else { throw NativeMiss("\(id) is a \(object.kind.name), not a \(kind.name)") }
        return object.bytes
    }

    private func readLoose(_ id: ObjectID, limit: Int?) throws -> StoredObject? {
        let hex = id.hex
        let path = directory + "/" + hex.prefix(2) + "/" + hex.dropFirst(2)
        guard let compressed = MappedFile.contents(path, limit: Self.sizeLimit) else { return nil }
        // The header ("blob 123\0") first, to learn the size; then the whole stream.
        let head = try Self.inflate(compressed, capacity: 64, partial: true)
        guard let nul = head.firstIndex(of: 0), let space = head[..<nul].firstIndex(of: 0x20),
              let kind = ObjectKind(name: head[..<space]),
              head[(space + 1)..<nul].allSatisfy({ (0x30...0x39).contains($0) }), nul - space <= 11,
              let size = Int(String(decoding: head[(space + 1)..<nul], as: UTF8.self)), size <= Self.sizeLimit
        else { throw NativeMiss("loose object \(hex) has no header git writes") }
        if let limit, size > limit { throw GitError.objectTooLarge(id: id, size: size, limit: limit) }
        let whole = try Self.inflate(compressed, capacity: nul + 1 + size, partial: false)
        return StoredObject(kind: kind, bytes: Array(whole[(nul + 1)...]))
    }

    private func readPacked(_ id: ObjectID, limit: Int?) throws -> StoredObject {
        for pack in try loadPacks() {
            guard let offset = pack.offset(of: id) else { continue }
            if let limit, let size = try pack.size(at: offset), size > limit {
                throw GitError.objectTooLarge(id: id, size: size, limit: limit)
            }
            return try pack.object(at: offset)
        }
        throw NativeMiss("object \(id) is in no loose file and no pack")
    }

    private func loadPacks() throws -> [Pack] {
        if let packs { return packs }
        if let unreadablePacks { throw unreadablePacks }
        do {
            packs = try openPacks()
            return packs!
        } catch let miss as NativeMiss {
            unreadablePacks = miss
            throw miss
        }
    }

    private func openPacks() throws -> [Pack] {
        var found: [Pack] = []
        let packDirectory = directory + "/pack"
        if let dir = opendir(packDirectory) {
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name.hasPrefix("pack-") && name.hasSuffix(".idx") { names.append(String(name.dropLast(4))) }
            }
            // Newest first would be git's order; any order finds the same verified object.
            for name in names.sorted() {
                found.append(try Pack(index: packDirectory + "/" + name + ".idx", pack: packDirectory + "/" + name + ".pack"))
            }
        }
        return found
    }

    /// Inflates one zlib stream: exactly `capacity` bytes, or (`partial`) at most that many.
    static func inflate(_ input: UnsafeRawBufferPointer, capacity: Int, partial: Bool) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: capacity)
        var consumed = 0
        let written = output.withUnsafeMutableBytes { out in
            zs_inflate(input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count,
                       out.baseAddress?.assumingMemoryBound(to: UInt8.self), capacity, &consumed)
        }
        guard written >= 0, partial || written == capacity else { throw NativeMiss("a zlib stream did not inflate to \(capacity) bytes") }
        if written < capacity { output.removeLast(capacity - written) }
        return output
    }

    static func inflate(_ input: [UInt8], capacity: Int, partial: Bool) throws -> [UInt8] {
        try input.withUnsafeBytes { try inflate($0, capacity: capacity, partial: partial) }
    }
}
