#if canImport(Glibc)
import Glibc
#endif

/// A file read with a bound, for every file a descriptor or a pull request can name (the files
/// of `--worktree`, a secret's `file:`, `ssh.known_hosts`, an input file): only a regular file
/// (never a FIFO that blocks, nor `/dev/zero` behind a symlink, which reads forever) and at
/// most `limit` bytes, refused before it is read.
enum BoundedFile {
    struct Refusal: Error, CustomStringConvertible {
        enum Reason {
            case tooLarge(size: Int, limit: Int)
            case symbolicLink, notRegular
            case unreadable(String)
        }
        let path: String
        let reason: Reason
        /// How to get past a size limit when the need is legitimate, or nil.
        let raise: String?

        init(_ path: String, _ reason: Reason, raise: String? = nil) {
            self.path = path
            self.reason = reason
            self.raise = raise
        }

        var description: String {
            switch reason {
            case let .tooLarge(size, limit):
                "\(path) is \(size) bytes, more than the \(ByteCount(limit)) deployctl reads from it" + (raise.map { "; \($0)" } ?? "")
            case .symbolicLink: "\(path) is a symbolic link, which deployctl does not follow here"
            case .notRegular: "\(path) is not a regular file"
            case .unreadable(let why): "\(path) cannot be read: \(why)"
            }
        }
    }

    /// The file's bytes, or nil when nothing is there. `followLinks: false` refuses a symbolic
    /// link (a commit stores a link's target, not what it points to). `pipes`: a FIFO is read
    /// too, to its end or the limit (a file the operator names: `--input-file <(…)`).
    static func read(_ path: String, limit: Int, followLinks: Bool = true, pipes: Bool = false, raise: String? = nil) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            let error = errno
            if error == ENOENT || error == ENOTDIR { return nil }
            if error == ELOOP, !followLinks { throw Refusal(path, .symbolicLink) }
            throw Refusal(path, .unreadable(String(cString: strerror(error))))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Refusal(path, .unreadable(String(cString: strerror(errno)))) }
        let pipe = pipes && info.st_mode & S_IFMT == S_IFIFO
        guard info.st_mode & S_IFMT == S_IFREG || pipe else { throw Refusal(path, .notRegular) }
        if pipe { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) }  // wait for the writer's data
        guard Int(info.st_size) <= limit else { throw Refusal(path, .tooLarge(size: Int(info.st_size), limit: limit), raise: raise) }
        // Read to one byte past the limit: a file that grew since fstat is refused, not cut.
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard count <= limit else { throw Refusal(path, .tooLarge(size: count, limit: limit), raise: raise) }
                bytes.append(contentsOf: repeatElement(0, count: min(max(count, 4096), limit + 1 - count)))
            }
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw Refusal(path, .unreadable(String(cString: strerror(errno)))) }
            if got == 0 { break }
            count += got
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }
}

/// A byte count as a person reads it: 1 MiB, 64 KiB, 1500 bytes.
struct ByteCount: CustomStringConvertible {
    let value: Int
    init(_ value: Int) { self.value = value }

    var description: String {
        if value >= 1 << 20, value % (1 << 20) == 0 { return "\(value >> 20) MiB" }
        if value >= 1 << 10, value % (1 << 10) == 0 { return "\(value >> 10) KiB" }
        return "\(value) bytes"
    }
}
