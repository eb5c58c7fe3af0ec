import DeployKit
import Foundation

/// What the person at the terminal sees: results on stdout, problems on stderr, and every
/// failure ending with what to run next.
enum Terminal {
    /// Set for output read from the work tree: every line says `[uncommitted]` (diagnostics at
    /// their end, so editors still jump to FILE:LINE:COL).
    nonisolated(unsafe) static var label: String?

    static func out(_ text: String) {
        raw(labelled(text).utf8Data)
    }

    private static func labelled(_ text: String) -> String {
        guard let label else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "[\(label)] \($0)" }
        if text.hasSuffix("\n") { lines.removeLast(); return lines.joined(separator: "\n") + "\n" }
        return lines.joined(separator: "\n")
    }

    /// Writes to stdout; a closed pipe (`deployctl up | head`) must not kill a run mid-step.
    static func raw(_ data: Data) {
        try? FileHandle.standardOutput.write(contentsOf: data)
    }

    static func line(_ text: String = "") {
        out(text + "\n")
    }

    static func error(_ text: String) {
        let text = labelled(text)
        try? FileHandle.standardError.write(contentsOf: (text.hasSuffix("\n") ? text : text + "\n").utf8Data)
    }

    static func diagnostics(_ diagnostics: [Diagnostic]) {
        guard !diagnostics.isEmpty else { return }
        let lines = diagnostics.map { $0.description + (label.map { " [\($0)]" } ?? "") }
        try? FileHandle.standardError.write(contentsOf: (lines.joined(separator: "\n") + "\n").utf8Data)
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
