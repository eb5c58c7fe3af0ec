import Foundation

/// redis-server on 127.0.0.1, no persistence (testbed.md).
public final class RedisFixture {
    public let port: Int
    private var process: ServerProcess!

    public init() throws {
        port = ServerProcess.freePort()
        process = try ServerProcess(["redis-server", "--bind", "127.0.0.1", "--port", "\(port)", "--save", "", "--appendonly", "no"],
                                    name: "redis-server")
        let port = self.port
        try process.wait { (try? Shell.capture("redis-cli", ["-p", "\(port)", "PING"]))?.stdout.contains("PONG") == true }
    }

    @discardableResult
    public func cli(_ arguments: [String]) throws -> String {
        try Shell.run("redis-cli", ["-p", "\(port)"] + arguments)
    }

    deinit { process = nil }
}
