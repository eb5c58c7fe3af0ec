import DeployKit
import Foundation

/// What the person at the terminal sees: results on stdout, problems on stderr, and every
/// failure ending with what to run next.
enum Terminal {
    static func out(_ text: String) {
        raw(Data(text.utf8))
    }

    /// Writes to stdout; a closed pipe (`deployctl up | head`) must not kill a run mid-step.
    static func raw(_ data: Data) {
        try? FileHandle.standardOutput.write(contentsOf: data)
    }

    static func line(_ text: String = "") {
        out(text + "\n")
    }

    static func error(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func diagnostics(_ diagnostics: [Diagnostic]) {
        guard !diagnostics.isEmpty else { return }
        error(diagnostics.map(\.description).joined(separator: "\n"))
    }

    static func report(_ failure: DeployError) {
        diagnostics(failure.diagnostics)
        var text = "error: \(failure.message)"
        for next in failure.next { text += "\nnext: \(next)" }
        error(text)
    }
}
