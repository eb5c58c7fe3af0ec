import Foundation
import ProcessSupport

#if canImport(Glibc)
import Glibc
#endif

/// How a process ended.
public enum Termination: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var exitCode: Int32? { if case .exited(let code) = self { return code } else { return nil } }
    public var signal: Int32? { if case .signaled(let s) = self { return s } else { return nil } }

    public var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signaled(let s): return "killed by \(Termination.signalName(s))"
        }
    }

    public static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGKILL: return "SIGKILL"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGPIPE: return "SIGPIPE"
        default: return "signal \(signal)"
        }
    }
}

/// One process to run: argv (never through a shell), its whole environment, its directory.
public struct LaunchRequest: Sendable {
    public var argv: [String]
    public var environment: [String: String]
    public var directory: String?
    public var timeoutMs: Int?
    /// Between SIGTERM to the group and SIGKILL, on a timeout or a cancellation.
    public var graceMs: Int
    /// What the process reads on standard input; nil: /dev/null.
    public var stdin: String?
    /// A file to read on standard input instead, byte for byte (`stdin` is text).
    public var stdinFile: String? = nil
    /// Standard input ends (end-of-file) only when the step ends or is stopped, not after
    /// `stdin`: a pipe whose writer this process and the mux child keep open, closed on a stop.
    /// The remote wrapper (`SSHRemote.supervised`) takes that end-of-file as the order to stop
    /// the command on the host.
    public var stdinHeldOpen: Bool
    /// For an `ssh` argv: the session to open through its master connection without starting
    /// ssh (see `MasterSession`); `argv` runs when no master answers.
    public var viaMaster: MasterSession?

    public init(argv: [String], environment: [String: String], directory: String? = nil, timeoutMs: Int? = nil, graceMs: Int = 10_000,
                stdin: String? = nil, stdinHeldOpen: Bool = false, viaMaster: MasterSession? = nil) {
        self.stdin = stdin
        self.stdinHeldOpen = stdinHeldOpen
        self.viaMaster = viaMaster
        self.argv = argv
        self.environment = environment
        self.directory = directory
        self.timeoutMs = timeoutMs
        self.graceMs = graceMs
    }
}

/// A remote command opened through the socket of an OpenSSH ControlMaster (`ps_spawn_mux`): the
/// process that waits for it is a child of deployctl that speaks the multiplexing protocol, not
/// an `ssh` client (~6 ms of CPU each). It is still a process of its own group, so timeouts,
/// Ctrl-C and a later `resume` treat it as they treat ssh.
public struct MasterSession: Sendable, Hashable {
    public var controlPath: String
    public var remoteCommand: String

    public init(controlPath: String, remoteCommand: String) {
        self.controlPath = controlPath
        self.remoteCommand = remoteCommand
    }
}

public struct LaunchResult: Sendable {
    public let termination: Termination
    public let timedOut: Bool
    /// The run was asked to stop (SIGINT/SIGTERM) while this process ran.
    public let cancelled: Bool
    public let durationMs: Int
    /// Processes of the step's group still alive after SIGKILL (should be none).
    public let survivors: Bool
}

public enum LaunchError: Error, CustomStringConvertible, Sendable {
    case notFound(String, path: String)
    case spawnFailed(String, errno: Int32)
    case inputTooLarge(bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case let .notFound(program, path): return "command not found: \(program) (PATH=\(path))"
        case let .spawnFailed(program, code): return "cannot start \(program): \(String(cString: strerror(code)))"
        case let .inputTooLarge(bytes, limit):
            return "the script for the host (\(bytes) bytes: the step's environment, exported) does not fit in a pipe here (Linux grows one to \(limit) bytes at most, less for a user over its pipe quota): make the environment smaller"
        }
    }
}

/// Starts a step's process in its own process group and pumps its output until it exits.
///
/// Written on posix_spawn rather than Foundation's Process or swift-subprocess because a step
/// needs all of: its own process group (so a timeout or Ctrl-C reaches the grandchildren), a
/// clean signal mask (Process started from async code leaves SIGTERM blocked in the child),
/// raw bounded reads (a step may print 200 MB or one 1 MB line), and "done when the main
/// process exits" even if a daemon it started keeps the pipes open.
public enum ProcessLauncher {
    /// Blocks the calling thread: run it off the cooperative pool (see `launch`).
    public static func run(_ request: LaunchRequest, capture: OutputCapture, cancellation: Cancellation,
                           spawned: (pid_t) -> Void = { _ in }) throws -> LaunchResult {
        let program = try resolve(request.argv[0], environment: request.environment)
        let started = DispatchTime.now()

        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard ps_pipe_cloexec(&outPipe) == 0 else { throw LaunchError.spawnFailed(program, errno: errno) }
        guard ps_pipe_cloexec(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw LaunchError.spawnFailed(program, errno: errno)
        }
        var input: Int32, holder: Int32 = -1
        do {
            if request.stdinHeldOpen, let text = request.stdin {
                (input, holder) = try heldOpenInput(text, program: program)
            } else if let path = request.stdinFile {
                input = open(path, O_RDONLY | O_CLOEXEC)
                guard input >= 0 else { throw LaunchError.spawnFailed(program, errno: errno) }
            } else {
                input = request.stdin.map { text in text.utf8CString.withUnsafeBufferPointer { ps_memory_file($0.baseAddress, $0.count - 1) } }
                    ?? open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard input >= 0 else { throw LaunchError.spawnFailed(program, errno: errno) }
            }
        } catch {
            close(outPipe[0]); close(outPipe[1]); close(errPipe[0]); close(errPipe[1])
            throw error
        }
        /// End-of-file from this side: on a stop, and once the process is gone.
        func releaseHolder() {
            guard holder >= 0 else { return }
            close(holder)
            holder = -1
        }
        var pid: pid_t = 0
        var childResources: UnsafeMutableRawPointer? = nil
        let spawnResult = withCStrings(request.argv.map { ($0, nil) }) { argv in
            withCStrings(request.environment.map { ($0.key, $0.value) }) { envp in
                if let master = request.viaMaster {
                    return ps_spawn_mux(master.controlPath, master.remoteCommand, program, argv, envp, request.directory,
                                        input, outPipe[1], errPipe[1], holder, &pid, &childResources)
                }
                return ps_spawn(program, argv, envp, request.directory, input, outPipe[1], errPipe[1], &pid)
            }
        }
        close(input); close(outPipe[1]); close(errPipe[1])
        guard spawnResult == 0 else {
            close(outPipe[0]); close(errPipe[0])
            releaseHolder()
            throw LaunchError.spawnFailed(request.argv[0], errno: spawnResult)
        }
        let group = pid
        spawned(pid)
        _ = fcntl(outPipe[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(errPipe[0], F_SETFL, O_NONBLOCK)
        let pidfd = ps_pidfd_open(pid)

        var open: [Int32: OutputChannel] = [outPipe[0]: .stdout, errPipe[0]: .stderr]
        var status: Termination? = nil
        var timedOut = false, cancelled = false
        var termSent: DispatchTime? = nil, killSent = false
        var drainUntil: DispatchTime? = nil
        let deadline = request.timeoutMs.map { started + .milliseconds($0) }
        // Not zeroed: read(2) fills it, and a step that prints little touches one page of it.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }

        while true {
            let now = DispatchTime.now()
            if status == nil {
                if termSent == nil, cancellation.isRequested {
                    cancelled = true
                    termSent = now
                    releaseHolder()
                    terminate(group)
                } else if termSent == nil, let deadline, now >= deadline {
                    timedOut = true
                    termSent = now
                    releaseHolder()
                    terminate(group)
                } else if let termSent, !killSent, now >= termSent + .milliseconds(request.graceMs) {
                    killSent = true
                    kill(-group, SIGKILL)
                }
            }
            if status != nil {
                if open.isEmpty { break }
                // The main process is gone but something it started still holds the pipes
                // (a daemon): take what is already written, then stop listening.
                if drainUntil == nil { drainUntil = now + .milliseconds(100) }
                if now >= drainUntil! { break }
            }

            var fds = open.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if status == nil, pidfd >= 0 { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            let sliceMs = status == nil ? (pidfd >= 0 ? 100 : 10) : 20
            _ = poll(&fds, nfds_t(fds.count), Int32(sliceMs))

            for entry in fds where entry.fd != pidfd && entry.revents != 0 {
                guard let stream = open[entry.fd] else { continue }
                // A few reads per round at most: a step that prints without pause must not
                // keep the loop from its timeout, cancellation and SIGKILL checks.
                for _ in 0..<4 {
                    let count = read(entry.fd, buffer.baseAddress, buffer.count)
                    if count > 0 {
                        capture.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), from: stream)
                        if count < buffer.count { break }
                    } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                        close(entry.fd)
                        open[entry.fd] = nil
                        break
                    } else {
                        break
                    }
                }
            }
            if status == nil {
                var raw: Int32 = 0
                let reaped = waitpid(pid, &raw, WNOHANG)
                if reaped == pid {
                    status = decode(raw)
                } else if reaped == -1 && errno == ECHILD {
                    status = .signaled(SIGKILL)  // reaped elsewhere: nothing more to learn
                }
            }
        }
        if pidfd >= 0 { close(pidfd) }
        releaseHolder()
        ps_spawn_mux_release(childResources)   // the child is reaped (or gone): nothing reads it now
        // Whatever still holds the pipes (a daemon the step started) keeps writing into them:
        // drain them in the background until it closes them, so it never dies of SIGPIPE.
        if !open.isEmpty { drainInBackground(Array(open.keys)) }

        // After a timeout or a cancellation nothing of the step may outlive it.
        var survivors = false
        if let termSent {
            let end = killSent ? DispatchTime.now() + .milliseconds(1000) : termSent + .milliseconds(request.graceMs)
            while groupAlive(group), DispatchTime.now() < end { usleep(10_000) }
            if groupAlive(group) {
                kill(-group, SIGKILL)
                let last = DispatchTime.now() + .milliseconds(1000)
                while groupAlive(group), DispatchTime.now() < last { usleep(10_000) }
            }
            survivors = groupAlive(group)
        }
        capture.finish()
        let elapsed = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
        return LaunchResult(termination: status ?? .signaled(SIGKILL), timedOut: timedOut, cancelled: cancelled,
                            durationMs: elapsed, survivors: survivors)
    }

    /// Runs `run` on a thread of its own and awaits it, so blocking never starves the pool.
    public static func launch(_ request: LaunchRequest, capture: OutputCapture, cancellation: Cancellation,
                              spawned: @escaping @Sendable (pid_t) -> Void = { _ in }) async throws -> LaunchResult {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try run(request, capture: capture, cancellation: cancellation, spawned: spawned) })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// A pipe holding `text` and its writer: see `LaunchRequest.stdinHeldOpen`.
    private static func heldOpenInput(_ text: String, program: String) throws -> (reader: Int32, writer: Int32) {
        var fds: [Int32] = [0, 0]
        let bytes = Array(text.utf8)
        let code = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { ps_pipe_holding($0.baseAddress, $0.count, &fds) }
        }
        if code == EFBIG { throw LaunchError.inputTooLarge(bytes: bytes.count, limit: 1 << 20) }
        guard code == 0 else { throw LaunchError.spawnFailed(program, errno: code) }
        return (fds[0], fds[1])
    }

    /// SIGTERM to the whole group, and SIGCONT so a stopped member can act on it.
    private static func terminate(_ group: pid_t) {
        kill(-group, SIGTERM)
        kill(-group, SIGCONT)
    }

    private static func drainInBackground(_ fds: [Int32]) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            for fd in fds {
                _ = fcntl(fd, F_SETFL, 0)  // blocking again: wait for the writer's EOF
                while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
                close(fd)
            }
        }
        thread.stackSize = 64 * 1024
        thread.start()
    }

    /// `kill(-pgid, 0)` succeeds while any process of the group exists.
    static func groupAlive(_ group: pid_t) -> Bool {
        kill(-group, 0) == 0 || errno == EPERM
    }

    private static func decode(_ raw: Int32) -> Termination {
        let signal = raw & 0x7f
        return signal == 0 ? .exited((raw >> 8) & 0xff) : .signaled(signal)
    }

    /// The program's path: as given when it has a slash, else the first match on the step's
    /// PATH (which may differ from deployctl's own).
    static func resolve(_ program: String, environment: [String: String]) throws -> String {
        if program.contains("/") { return program }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            if access(candidate, X_OK) == 0 {
                var info = stat()
                if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { return candidate }
            }
        }
        throw LaunchError.notFound(program, path: path)
    }

    /// A NULL-terminated array of C strings, `NAME=value` for a pair with a value, all in one
    /// allocation (an environment is dozens of strings, for every step and every host).
    private static func withCStrings<T>(_ strings: [(String, String?)], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> T) -> T {
        let size = strings.reduce(0) { $0 + $1.0.utf8.count + ($1.1.map { $0.utf8.count + 1 } ?? 0) + 1 }
        let bytes = UnsafeMutableBufferPointer<CChar>.allocate(capacity: size)
        defer { bytes.deallocate() }
        var pointers: [UnsafeMutablePointer<CChar>?] = []
        pointers.reserveCapacity(strings.count + 1)
        var offset = 0
        func put<S: Sequence<UInt8>>(_ text: S) {
            for byte in text {
                bytes[offset] = CChar(bitPattern: byte)
                offset += 1
            }
        }
        for (name, value) in strings {
            pointers.append(bytes.baseAddress! + offset)
            put(name.utf8)
            if let value {
                put(CollectionOfOne(UInt8(ascii: "=")))
                put(value.utf8)
            }
            put(CollectionOfOne(UInt8(0)))
        }
        pointers.append(nil)
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
