import Foundation
import ProcessSupport

/// A server a test starts (nginx, dnsmasq, a webhook receiver) and stops by its pid when the
/// fixture goes away. posix_spawn, not Foundation's Process (see MotoFixture).
public final class ServerProcess {
    public let pid: pid_t
    public let name: String

    /// `environment`: added to (or replacing in) this process's own.
    public init(_ argv: [String], name: String, log: String? = nil, environment: [String: String] = [:]) throws {
        self.name = name
        let output = log.map { open($0, O_WRONLY | O_CREAT | O_APPEND, 0o644) } ?? open("/dev/null", O_RDWR)
        let devNull = open("/dev/null", O_RDWR)
        defer { close(devNull); close(output) }
        let binary = argv[0].hasPrefix("/") ? argv[0] : (try Shell.run("sh", ["-c", "command -v \(argv[0])"]))
        let cArgs = argv.map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in cArgs + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = ps_spawn(binary, cArgs, envp, nil, devNull, output, output, &pid)
        guard spawned == 0 else { throw Shell.Failure(command: name, status: 127, stdout: "", stderr: String(cString: strerror(spawned))) }
        self.pid = pid
    }

    /// Waits until `ready` holds (polling), or throws naming the server. Generous: a Python
    /// server importing boto3 and moto takes seconds of CPU to start on a loaded CI machine, and
    /// the wait ends as soon as it answers.
    public func wait(seconds: Double = 60, until ready: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if ready() { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw Shell.Failure(command: name, status: status, stdout: "", stderr: "exited before it was ready")
            }
            usleep(50_000)
        }
        throw Shell.Failure(command: name, status: 1, stdout: "", stderr: "not ready after \(seconds) s")
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<50 where waitpid(pid, &status, WNOHANG) == 0 { usleep(50_000) }
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
    }

    /// A TCP port nothing listens on right now (bound and released).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// True when something accepts TCP connections on 127.0.0.1:port.
    public static func listening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
