import Foundation
import Testing
@testable import DeployKit

/// The hosted script's last line, as `make bench`'s floor sends it too: the bench copies it
/// (Python cannot call Swift), and this keeps the copy honest.
@Suite struct SSHRemoteScriptTests {
    @Test func theBenchFloorSendsTheLineDeployctlSends() throws {
        let bench = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("bench/mux-sessions.py")
        let source = try String(contentsOf: bench, encoding: .utf8)
        // The Python literal, its adjacent strings joined and its escapes undone.
        let start = try #require(source.range(of: "SCRIPT = (")), end = try #require(source.range(of: "\\n\")\n", range: start.upperBound..<source.endIndex))
        let pieces = source[start.upperBound..<end.upperBound].split(separator: "\n").map { line -> String in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return String(trimmed.dropFirst().dropLast(trimmed.hasSuffix(")") ? 2 : 1))
        }
        let script = pieces.joined().replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\n", with: "\n")
        #expect(script == SSHRemote.withGrace("set -e\n" + SSHRemote.supervised("true") + "\n", graceMs: 30_000))
    }
}
