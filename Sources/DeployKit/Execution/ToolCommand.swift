import Foundation

/// A short helper program deployctl itself asks something (ssh-keygen, gpgv, git credential, a
/// `--version` for doctor):
/// argv, bounded in time and output, never a terminal to prompt on.
struct ToolCommand {
    struct Output {
        let termination: Termination
        var exitCode: Int32? { termination.exitCode }
        let stdout: String
        let stderr: String
        let timedOut: Bool
        var succeeded: Bool { exitCode == 0 && !timedOut }
    }

    let argv: [String]
    var stdin: String? = nil
    /// Standard input from this file, byte for byte (signed data need not be UTF-8).
    var stdinFile: String? = nil
    var environment: [String: String] = ProcessEnvironment.current
    var timeoutMs = 10_000

    /// Nil when the program cannot be started at all.
    func run() -> Output? {
        let capture = OutputCapture(secrets: [], logPath: nil, observer: nil)
        var environment = environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        var request = LaunchRequest(argv: argv, environment: environment, timeoutMs: timeoutMs, graceMs: 500, stdin: stdin)
        request.stdinFile = stdinFile
        guard let result = try? ProcessLauncher.run(request, capture: capture, cancellation: Cancellation()) else { return nil }
        capture.finish()
        return Output(termination: result.termination, stdout: capture.tail(of: .stdout), stderr: capture.tail(of: .stderr),
                      timedOut: result.timedOut)
    }
}
