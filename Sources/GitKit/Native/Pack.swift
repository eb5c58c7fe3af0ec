/// One pack and its index (version 2), both mapped: an object's offset by binary search in the
/// index, then its entry in the pack, resolving delta chains. Every read is bounds-checked: a
/// damaged or hostile file is a miss, never a crash.
final class Pack {
    private let index: MappedFile
    private let pack: MappedFile
    private let count: Int
    /// Objects rebuilt from deltas, by offset: trees share bases, and a walk reads many trees.
    private var bases: [Int: StoredObject] = [:]
    private var basesSize = 0

    init(index indexPath: String, pack packPath: String) throws {
        index = try MappedFile(path: indexPath)
        pack = try MappedFile(path: packPath)
        let idx = index.bytes
        // "\377tOc", version 2, 256 fan-out counts, then ids, CRCs, offsets, large offsets, two checksums.
        guard idx.count >= 8 + 1024 + 40, idx.load(as: UInt32.self) == UInt32(bigEndian: 0xFF74_4F63),
              Self.u32(idx, 4) == 2 else { throw NativeMiss("\(indexPath) is not a version 2 pack index") }
        count = Int(Self.u32(idx, 8 + 255 * 4))
        guard idx.count >= 8 + 1024 + count * 28 + 40 else { throw NativeMiss("\(indexPath) is truncated") }
        let p = pack.bytes
        guard p.count >= 32, p[0] == 0x50, p[1] == 0x41, p[2] == 0x43, p[3] == 0x4B,
              [2, 3].contains(Self.u32(p, 4)), Int(Self.u32(p, 8)) == count
        else { throw NativeMiss("\(packPath) does not match its index") }
    }

    static func u32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The pack offset of `id`, when this pack holds it.
    func offset(of id: ObjectID) -> Int? {
        let idx = index.bytes
        let wanted = id.bytes
        let first = Int(wanted[0])
        var low = first == 0 ? 0 : Int(Self.u32(idx, 8 + (first - 1) * 4))
        var high = Int(Self.u32(idx, 8 + first * 4))
        guard low <= high, high <= count else { return nil }
        let ids = 8 + 1024
        while low < high {
            let middle = (low + high) / 2
            let start = ids + middle * 20
            var order = 0
            for k in 0..<20 where idx[start + k] != wanted[k] {
                order = idx[start + k] < wanted[k] ? -1 : 1
                break
            }
            if order == 0 {
                let offsets = ids + count * 24
                let small = Self.u32(idx, offsets + middle * 4)
                guard small & 0x8000_0000 != 0 else { return Int(small) }
                let large = offsets + count * 4 + Int(small & 0x7FFF_FFFF) * 8
                guard large + 8 <= idx.count - 40 else { return nil }
                let value = UInt64(bigEndian: idx.loadUnaligned(fromByteOffset: large, as: UInt64.self))
                return value < UInt64(pack.bytes.count) ? Int(value) : nil
            }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// The object whose entry starts at `offset`, its deltas applied. As libgit2, a reference
    /// delta's base must be in the same pack; chains stop at 10,000 (cycles of reference deltas too).
    func object(at offset: Int) throws -> StoredObject {
        // Down the chain to a whole object (or one remembered), noting each delta's entry; then
        // back up, inflating and applying one delta at a time.
        var chain: [(data: Int, size: Int)] = []
        var entryOffset = offset
        var base: StoredObject
        while true {
            if let cached = bases[entryOffset] { base = cached; break }
            guard chain.count < 10_000 else { throw NativeMiss("a delta chain deeper than 10,000") }
            let entry = try header(at: entryOffset)
            switch entry.type {
            case 1...4:
                base = StoredObject(kind: ObjectKind(rawValue: entry.type)!, bytes: try inflate(at: entry.data, size: entry.size))
            case 6:
                chain.append((entry.data, entry.size))
                entryOffset = entry.base
                continue
            case 7:
                chain.append((entry.data, entry.size))
                let referenced = ObjectID(raw: pack.bytes[entry.base..<(entry.base + 20)])!
                guard let next = self.offset(of: referenced) else { throw NativeMiss("a reference delta's base is not in its pack") }
                entryOffset = next
                continue
            default:
                throw NativeMiss("pack entry type \(entry.type) at \(entryOffset)")
            }
            break
        }
        for delta in chain.reversed() {
            base = StoredObject(kind: base.kind, bytes: try Self.apply(try inflate(at: delta.data, size: delta.size), to: base.bytes))
        }
        if !chain.isEmpty { remember(base, at: offset) }
        return base
    }

    /// The size of the object whose entry starts at `offset`, from its header (a delta's: the
    /// result size at the head of its data) without inflating more than that head; nil if the
    /// entry is not one of the shapes read here (the read that follows says why).
    func size(at offset: Int) throws -> Int? {
        let entry = try header(at: offset)
        switch entry.type {
        case 1...4: return entry.size
        case 6, 7:
            guard entry.data < pack.bytes.count - 20 else { return nil }
            let head = try ObjectDatabase.inflate(UnsafeRawBufferPointer(rebasing: pack.bytes[entry.data..<(pack.bytes.count - 20)]),
                                                  capacity: min(entry.size, 20), partial: true)
            return Self.deltaSizes(head)?.result
        default: return nil
        }
    }

    private func remember(_ object: StoredObject, at offset: Int) {
        guard object.bytes.count < 1 << 20 else { return }
        if basesSize + object.bytes.count > 16 << 20 { bases.removeAll(); basesSize = 0 }
        bases[offset] = object
        basesSize += object.bytes.count
    }

    /// An entry's type, inflated size, where its zlib data starts, and (deltas) its base: an
    /// offset in this pack (type 6) or where the base's id lies (type 7).
    private func header(at offset: Int) throws -> (type: UInt8, size: Int, data: Int, base: Int) {
        let p = pack.bytes
        let end = p.count - 20
        var at = offset
        func next() throws -> UInt8 {
            guard at >= 12, at < end else { throw NativeMiss("a pack entry runs past the pack") }
            defer { at += 1 }
            return p[at]
        }
        var byte = try next()
        let type = (byte >> 4) & 7
        var size = Int(byte & 15)
        var shift = 4
        while byte & 0x80 != 0 {
            byte = try next()
            guard shift < 57 else { throw NativeMiss("a pack entry's size overflows") }
            size |= Int(byte & 0x7F) << shift
            shift += 7
        }
        guard size <= ObjectDatabase.sizeLimit else { throw NativeMiss("a pack entry of \(size) bytes") }
        switch type {
        case 6:
            byte = try next()
            var distance = Int(byte & 0x7F)
            while byte & 0x80 != 0 {
                byte = try next()
                guard distance < 1 << 48 else { throw NativeMiss("a delta's base offset overflows") }
                distance = ((distance + 1) << 7) | Int(byte & 0x7F)
            }
            guard distance > 0, distance <= offset else { throw NativeMiss("a delta's base lies outside the pack") }
            return (type, size, at, offset - distance)
        case 7:
            let base = at
            guard base + 20 <= end else { throw NativeMiss("a delta's base id runs past the pack") }
            return (type, size, base + 20, base)
        default:
            return (type, size, at, 0)
        }
    }

    private func inflate(at offset: Int, size: Int) throws -> [UInt8] {
        guard offset < pack.bytes.count - 20 else { throw NativeMiss("zlib data past the pack") }
        return try ObjectDatabase.inflate(UnsafeRawBufferPointer(rebasing: pack.bytes[offset..<(pack.bytes.count - 20)]), capacity: size, partial: false)
    }

    /// A delta's head: its base's size and its result's size (two varints), and where its
    /// instructions start; nil when the bytes end first.
    static func deltaSizes(_ delta: [UInt8]) -> (base: Int, result: Int, end: Int)? {
        var at = 0
        func varint() -> Int? {
            var value = 0, shift = 0
            while at < delta.count, shift < 57 {
                let byte = delta[at]
                at += 1
                value |= Int(byte & 0x7F) << shift
                shift += 7
                if byte & 0x80 == 0 { return value }
            }
            return nil
        }
        guard let base = varint(), let result = varint() else { return nil }
        return (base, result, at)
    }

    /// git's delta format: the base's size, the result's size, then copy (from the base) and
    /// insert (literal bytes) instructions.
    static func apply(_ delta: [UInt8], to base: [UInt8]) throws -> [UInt8] {
        guard let sizes = deltaSizes(delta) else { throw NativeMiss("a delta's header is cut short") }
        guard sizes.base == base.count else { throw NativeMiss("a delta names another base size") }
        let size = sizes.result
        var at = sizes.end
        guard size <= ObjectDatabase.sizeLimit else { throw NativeMiss("a delta's result of \(size) bytes") }
        var result: [UInt8] = []
        result.reserveCapacity(size)
        while at < delta.count {
            let op = delta[at]
            at += 1
            if op & 0x80 != 0 {
                var offset = 0, length = 0
                for bit in 0..<4 where op & (1 << bit) != 0 {
                    guard at < delta.count else { throw NativeMiss("a delta copy is cut short") }
                    offset |= Int(delta[at]) << (8 * bit)
                    at += 1
                }
                for bit in 0..<3 where op & (0x10 << bit) != 0 {
                    guard at < delta.count else { throw NativeMiss("a delta copy is cut short") }
                    length |= Int(delta[at]) << (8 * bit)
                    at += 1
                }
                if length == 0 { length = 0x10000 }
                guard offset + length <= base.count, result.count + length <= size else { throw NativeMiss("a delta copies outside its base") }
                result.append(contentsOf: base[offset..<(offset + length)])
            } else if op != 0 {
                let length = Int(op)
                guard at + length <= delta.count, result.count + length <= size else { throw NativeMiss("a delta inserts past its end") }
                result.append(contentsOf: delta[at..<(at + length)])
                at += length
            } else {
                throw NativeMiss("a delta holds the reserved instruction 0")
            }
        }
        guard result.count == size else { throw NativeMiss("a delta built \(result.count) bytes, not \(size)") }
        return result
    }
}
