#if canImport(Glibc)
import Glibc
#endif

/// A file mapped read-only for as long as the value lives: pack files are read where they lie,
/// page by page, rather than copied.
final class MappedFile {
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // a FIFO must not block the open
        guard fd >= 0 else { throw NativeMiss("cannot open \(path)") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { throw NativeMiss("cannot stat \(path)") }
        let size = Int(info.st_size)
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else { throw NativeMiss("cannot map \(path)") }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }

    /// A whole small file (a ref, HEAD, a config), or nil when it is missing, not a regular file,
    /// or larger than `limit`.
    static func contents(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        try? existing(path, limit: limit)
    }

    /// A whole small file, nil only when there is none: any other failure (unreadable, a
    /// directory, larger than `limit`) is a miss, since git would read it or fail.
    static func existing(_ path: String, limit: Int) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // a FIFO must not block the open
        if fd < 0 && errno == ENOENT { return nil }
        guard fd >= 0 else { throw NativeMiss("cannot read \(path)") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= limit else { throw NativeMiss("cannot read \(path)") }
        var result = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < result.count {
            let got = result.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw NativeMiss("cannot read \(path)") }
            filled += got
        }
        return result
    }
}
