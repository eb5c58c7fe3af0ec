import Foundation
import ZlibSupport

/// A step attempt's whole masked output as the store keeps it, so `logs` works on a machine
/// that never ran the step: zlib-compressed, the first `cap` bytes at most.
public struct StoredLog: Sendable, Codable, Hashable {
    /// Logs longer than this keep their first 4 MiB (the tail is always in the step's record).
    public static let cap = 4 << 20

    public var compressed: Data
    public var size: Int
    public var truncated: Bool

    public init(compressed: Data, size: Int, truncated: Bool) {
        self.compressed = compressed
        self.size = size
        self.truncated = truncated
    }

    /// A step that printed nothing: zlib's stream of no bytes, written out rather than made
    /// (deflate's state is ~256 KiB), so every reader, older ones too, decodes it as usual.
    public static let empty = StoredLog(compressed: Data([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]), size: 0, truncated: false)

    /// Nil when the bytes cannot be compressed (never expected).
    public init?(text: Data) {
        let kept = text.prefix(Self.cap)
        var out = [UInt8](repeating: 0, count: zs_bound(kept.count))
        let written = kept.withUnsafeBytes { raw in
            zs_compress(raw.bindMemory(to: UInt8.self).baseAddress, kept.count, &out, out.count)
        }
        guard written >= 0 else { return nil }
        self.init(compressed: Data(out.prefix(written)), size: kept.count, truncated: text.count > kept.count)
    }

    /// The output, or nil when the stored bytes are corrupt.
    public var text: Data? {
        guard size <= Self.cap else { return nil }
        if size == 0 { return Data() }
        var out = [UInt8](repeating: 0, count: size)
        let written = compressed.withUnsafeBytes { raw in
            zs_uncompress(raw.bindMemory(to: UInt8.self).baseAddress, compressed.count, &out, out.count)
        }
        guard written == size else { return nil }
        return Data(out.prefix(written))
    }

    /// Reads a finished attempt's log file, compressing as it reads (a 200 MB log costs no
    /// more memory than its compressed first 4 MiB); nil when there is none.
    public static func reading(file path: String?) -> StoredLog? {
        guard let path else { return nil }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var length = 0, size = 0
        var truncated: Int32 = 0
        guard zs_compress_file(path, cap, &out, &length, &size, &truncated) == 0, let out else { return nil }
        defer { free(out) }
        return StoredLog(compressed: Data(bytes: out, count: length), size: size, truncated: truncated != 0)
    }
}
