import Foundation

/// A deployctl process left running so a test can signal it, race it or kill it.
public final class BackgroundCLI {
    public let process = Process()
    private let outFile: URL
    private let errFile: URL

    public init(_ arguments: [String], in directory: String, environment: [String: String]) throws {
        outFile = try TemporaryDirectory.file(prefix: "bg-out")
        errFile = try TemporaryDirectory.file(prefix: "bg-err")
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["DEPLOYCTL_REPO"] = ""
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: outFile)
        try? FileManager.default.removeItem(at: errFile)
    }

    public var pid: Int32 { process.processIdentifier }
    public var stdout: String { (try? String(contentsOf: outFile, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: errFile, encoding: .utf8)) ?? "" }

    /// Waits until stdout contains `text` (true) or `seconds` pass (false).
    public func waitFor(_ text: String, seconds: Double = 20) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if stdout.contains(text) { return true }
            if !process.isRunning { return stdout.contains(text) }
            usleep(20_000)
        }
        return false
    }

    /// Waits for the process to end and returns its exit status (128+signal when signalled).
    @discardableResult
    public func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }
}
