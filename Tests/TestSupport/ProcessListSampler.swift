import Foundation

/// What every user of the machine can read about every process: each /proc/PID/cmdline (the
/// argv `ps -eo args` shows), sampled every millisecond or so on a thread of its own until
/// `stop()`. A secret that stood in an argv for even a few milliseconds is in `lines`.
public final class ProcessListSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var seen = Set<String>()
    private var running = true
    private var passes = 0
    private let done = DispatchSemaphore(value: 0)

    public init() {
        Thread { [self] in
            while lock.withLock({ running }) {
                let lines = Self.commandLines()
                lock.withLock {
                    seen.formUnion(lines)
                    passes += 1
                }
                usleep(1_000)
            }
            done.signal()
        }.start()
    }

    /// Stops sampling; every command line seen, arguments joined by spaces.
    @discardableResult
    public func stop() -> Set<String> {
        lock.withLock { running = false }
        done.wait()
        return lines
    }

    public var lines: Set<String> { lock.withLock { seen } }
    public var sweeps: Int { lock.withLock { passes } }

    static func commandLines() -> Set<String> {
        var result = Set<String>()
        guard let proc = opendir("/proc") else { return result }
        defer { closedir(proc) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.first?.isNumber == true else { continue }
            let fd = open("/proc/\(name)/cmdline", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            let count = read(fd, &buffer, buffer.count)
            close(fd)
            guard count > 0 else { continue }
            result.insert(String(decoding: buffer[0..<count].map { $0 == 0 ? 32 : $0 }, as: UTF8.self))
        }
        return result
    }
}
