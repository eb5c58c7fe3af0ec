import CGit2

/// A git object id (SHA-1), as a value that can leave GitKit. Stored inline (no heap), since
/// history walks hash millions of them.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
    private let a: UInt64
    private let b: UInt64
    private let c: UInt32

    init(_ oid: git_oid) {
        var copy = oid
        (a, b, c) = withUnsafeBytes(of: &copy.id) { raw in
            (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
             raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
             raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        }
    }

    init(_ pointer: UnsafePointer<git_oid>) {
        self.init(pointer.pointee)
    }

    /// Parses exactly 40 hex digits. In Swift, not git_oid_fromstrn: on bad input that sets a
    /// libgit2 error, which crashes a thread that runs before git_libgit2_init (seen in tests).
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 40 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var oid = git_oid()
        let ok = withUnsafeMutableBytes(of: &oid.id) { raw -> Bool in
            for index in 0..<20 {
                guard let high = value(digits[2 * index]), let low = value(digits[2 * index + 1]) else { return false }
                raw[index] = high << 4 | low
            }
            return true
        }
        guard ok else { return nil }
        self.init(oid)
    }

    /// From the 20 raw bytes of a tree entry, a pack index or a digest.
    init?(raw: some Collection<UInt8>) {
        guard raw.count == 20 else { return nil }
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { target in
            for (index, byte) in raw.enumerated() { target[index] = byte }
        }
        self.init(oid)
    }

    var gitOID: git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { raw in
            raw.storeBytes(of: a, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: c, toByteOffset: 16, as: UInt32.self)
        }
        return oid
    }

    /// The 20 raw bytes.
    public var bytes: [UInt8] {
        var oid = gitOID
        return withUnsafeBytes(of: &oid.id) { Array($0.prefix(20)) }
    }

    /// The full 40-digit hex form.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(40)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first 7 hex digits, for people.
    public var short: String { String(hex.prefix(7)) }

    public var description: String { hex }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
