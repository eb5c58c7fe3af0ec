import Foundation

/// redis-server on 127.0.0.1, no persistence (testbed.md). Its working directory is a temporary
/// one: a test that turns the append-only file on must not write it into the repository.
public final class RedisFixture {
    public let port: Int
    private var process: ServerProcess!
    private let directory: URL

    public init() throws {
        port = ServerProcess.freePort()
        directory = try TemporaryDirectory.make(prefix: "redis")
        process = try ServerProcess(["redis-server", "--bind", "127.0.0.1", "--port", "\(port)", "--save", "", "--appendonly", "no",
                                     "--dir", directory.path],
                                    name: "redis-server")
        let port = self.port
        try process.wait { (try? Shell.capture("redis-cli", ["-p", "\(port)", "PING"]))?.stdout.contains("PONG") == true }
    }

    @discardableResult
    public func cli(_ arguments: [String]) throws -> String {
        try Shell.run("redis-cli", ["-p", "\(port)"] + arguments)
    }

    deinit {
        process = nil
        try? FileManager.default.removeItem(at: directory)
    }
}
