import Foundation

/// Runs real programs for tests and returns what they print.
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public var description: String { "`\(command)` exited \(status): \(stderr)\(stdout)" }
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

    /// Runs the program and returns its status and output, whatever the status.
    public static func capture(_ program: String, _ arguments: [String], input: String? = nil,
                               environment: [String: String] = [:], directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/env")
        process.arguments = program.hasPrefix("/") ? arguments : [program] + arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let outFile = try TemporaryDirectory.file(prefix: "out")
        let errFile = try TemporaryDirectory.file(prefix: "err")
        defer {
            try? FileManager.default.removeItem(at: outFile)
            try? FileManager.default.removeItem(at: errFile)
        }
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        if let input {
            let inFile = try TemporaryDirectory.file(prefix: "in")
            defer { try? FileManager.default.removeItem(at: inFile) }
            try input.write(to: inFile, atomically: true, encoding: .utf8)
            process.standardInput = try FileHandle(forReadingFrom: inFile)
            try process.run()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
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
