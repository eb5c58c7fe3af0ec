import Foundation
import ProcessSupport

/// A deployctl process left running so a test can signal it, race it or kill it.
///
/// Started with posix_spawn, as a shell would, not Foundation's Process: under a parent that
/// is a Foundation Process here, the step a killed deployctl leaves behind exits with it,
/// which is not what happens on a real machine and would hide what `resume` must cope with.
public final class BackgroundCLI {
    public let pid: Int32
    private let outFile: URL
    private let errFile: URL
    private var status: Int32? = nil

    public init(_ arguments: [String], in directory: String, environment: [String: String]) throws {
        outFile = try TemporaryDirectory.file(prefix: "bg-out")
        errFile = try TemporaryDirectory.file(prefix: "bg-err")
        var env = ProcessInfo.processInfo.environment
        env["DEPLOYCTL_REPO"] = ""
        for (key, value) in environment { env[key] = value }
        let argv = [CLI.binary] + arguments
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cArgv + cEnv { free(p) } }
        let stdinFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let stdoutFD = open(outFile.path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        let stderrFD = open(errFile.path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        defer { close(stdinFD); close(stdoutFD); close(stderrFD) }
        var child: pid_t = 0
        let spawned = ps_spawn(CLI.binary, cArgv, cEnv, directory, stdinFD, stdoutFD, stderrFD, &child)
        guard spawned == 0 else {
            throw Shell.Failure(command: argv.joined(separator: " "), status: 127, stdout: "", stderr: String(cString: strerror(spawned)))
        }
        pid = child
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            wait()
        }
        try? FileManager.default.removeItem(at: outFile)
        try? FileManager.default.removeItem(at: errFile)
    }

    public var stdout: String { (try? String(contentsOf: outFile, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: errFile, encoding: .utf8)) ?? "" }

    public var isRunning: Bool {
        guard status == nil else { return false }
        var raw: Int32 = 0
        let reaped = waitpid(pid, &raw, WNOHANG)
        if reaped == pid { status = Self.exitStatus(raw); return false }
        return reaped == 0
    }

    /// Waits until stdout contains `text` (true) or `seconds` pass (false).
    public func waitFor(_ text: String, seconds: Double = 60) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if stdout.contains(text) { return true }
            if !isRunning { return stdout.contains(text) }
            usleep(20_000)
        }
        return false
    }

    /// Waits for the process to end and returns its exit status (128+signal when signalled).
    @discardableResult
    public func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
        let result = Self.exitStatus(raw)
        status = result
        return result
    }

    private static func exitStatus(_ raw: Int32) -> Int32 {
        (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }
}
