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

    /// Columns padded to their widest cell, a header row first; the last column runs free.
    static func table(header: [String], rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            line(row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
    }

    static func report(_ failure: DeployError) {
        diagnostics(failure.diagnostics)
        var text = "error: \(failure.message)"
        for next in failure.next { text += "\nnext: \(next)" }
        error(text)
    }
}
