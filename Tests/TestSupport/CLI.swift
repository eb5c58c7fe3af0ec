import Foundation

/// Runs the built `deployctl` binary as a whole process, the way people and CI run it.
public enum CLI {
    /// `$DEPLOYCTL_BIN`, else the `deployctl` built next to the test bundle.
    public static var binary: String {
        if let explicit = ProcessInfo.processInfo.environment["DEPLOYCTL_BIN"] { return explicit }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // Inside an .xctest bundle on some platforms the binary sits deeper.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("deployctl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            directory = directory.deletingLastPathComponent()
        }
        return testBinary.deletingLastPathComponent().appendingPathComponent("deployctl").path
    }

    @discardableResult
    public static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> Shell.Result {
        var env = environment
        // Tests never inherit a repository or state directory from the person running them.
        if env["DEPLOYCTL_REPO"] == nil { env["DEPLOYCTL_REPO"] = "" }
        if env["DEPLOYCTL_STATE"] == nil { env["DEPLOYCTL_STATE"] = "" }
        // As CI runs it: no standard input, no terminal, nobody to answer.
        return try Shell.capture(binary, arguments, environment: env, directory: directory, closedStdin: true)
    }
}
