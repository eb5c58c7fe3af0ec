import Foundation
import ProcessSupport
#if canImport(Glibc)
import Glibc
#endif

/// Runs real programs for tests and returns what they print.
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public var description: String { "`\(command)` exited \(status): \(stderr)\(stdout)" }

        public init(command: String, status: Int32, stdout: String, stderr: String) {
            self.command = command
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    public struct Result {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// Runs the program (looked up on PATH) and throws unless it exits 0.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String], input: String? = nil,
                           environment: [String: String] = [:], directory: String? = nil) throws -> String {
        let result = try capture(program, arguments, input: input, environment: environment, directory: directory)
        guard result.status == 0 else {
            throw Failure(command: ([program] + arguments).joined(separator: " "), status: result.status,
                          stdout: result.stdout, stderr: result.stderr)
        }
        var out = result.stdout
        while out.hasSuffix("\n") { out.removeLast() }
        return out
    }

    /// Writes an executable script through a child process (`cat`), never through a
    /// descriptor of this one: tests run side by side, and a process another test starts
    /// meanwhile inherits every descriptor open here; while it keeps one open for writing,
    /// executing the script fails with "Text file busy" (ETXTBSY). Seen once in a full run.
    public static func writeExecutable(_ path: String, _ contents: String) throws {
        try run("sh", ["-c", "cat > \"$0\" && chmod 755 \"$0\"", path], input: contents)
    }

    /// Runs the program and returns its status and output, whatever the status.
    ///
    /// posix_spawn and waitpid, not Foundation's Process: Process waits until every inherited
    /// descriptor closes, so a program that leaves a daemon behind (pg_ctl start) never returns.
    /// `closedStdin`: the program starts with no standard input at all (CI's `</dev/null`
    /// is gentler); no pseudo-terminal is ever given.
    public static func capture(_ program: String, _ arguments: [String], input: String? = nil,
                               environment: [String: String] = [:], directory: String? = nil, closedStdin: Bool = false) throws -> Result {
        let outFile = try TemporaryDirectory.file(prefix: "out")
        let errFile = try TemporaryDirectory.file(prefix: "err")
        let inFile = try TemporaryDirectory.file(prefix: "in")
        defer {
            for file in [outFile, errFile, inFile] { try? FileManager.default.removeItem(at: file) }
        }
        try (input ?? "").write(to: inFile, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = [program] + arguments
        let envp = env.map { "\($0.key)=\($0.value)" }

        let path = env["PATH"] ?? "/usr/bin:/bin"
        let resolved = program.contains("/") ? program
            : path.split(separator: ":").map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? program
        let stdinFD = closedStdin ? -1 : open(inFile.path, O_RDONLY | O_CLOEXEC)
        let stdoutFD = open(outFile.path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        let stderrFD = open(errFile.path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        defer { if stdinFD >= 0 { close(stdinFD) }; close(stdoutFD); close(stderrFD) }
        var pid: pid_t = 0
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = envp.map { strdup($0) } + [nil]
        defer { for p in cArgv + cEnv { free(p) } }
        let spawned = ps_spawn(resolved, cArgv, cEnv, directory, stdinFD, stdoutFD, stderrFD, &pid)
        guard spawned == 0 else {
            throw Failure(command: argv.joined(separator: " "), status: 127, stdout: "", stderr: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(
            status: exitCode,
            stdout: (try? String(contentsOf: outFile, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
    }
}

/// Unique temporary paths under the system temporary directory.
public enum TemporaryDirectory {
    public static func make(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("deployctl-\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    public static func file(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("deployctl-\(prefix)-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        return url
    }
}

/// What /proc says of a process group.
public enum ProcessTable {
    /// True while some process of the group is not a zombie.
    public static func canRun(_ group: Int32) -> Bool {
        ps_group_alive(group) == 1
    }
}
