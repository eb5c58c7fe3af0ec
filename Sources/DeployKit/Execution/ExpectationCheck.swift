import Foundation

/// Decides whether a finished process met its step's `expect:`. Pure over the termination and
/// the captured (redacted) output. `*_contains` sees the whole stream; `*_matches` and `json`
/// see the last 64 KiB, which is what the journal keeps.
public enum ExpectationCheck {
    /// Why the process does not count as a success; empty when it does.
    public static func failures(_ e: Expectation, termination: Termination, capture: OutputCapture) -> [String] {
        var problems: [String] = []
        switch termination {
        case .exited(let code) where !e.exitCodes.contains(code):
            problems.append(e.exitCodes == [0] ? "exited \(code)" : "exited \(code), expected one of \(e.exitCodes.map(String.init).joined(separator: ", "))")
        case .signaled(let signal):
            problems.append("killed by \(Termination.signalName(signal))")
        default:
            break
        }
        for needle in e.stdoutContains where !capture.found(needle, in: .stdout) {
            problems.append("stdout does not contain \"\(needle)\"")
        }
        for needle in e.stderrContains where !capture.found(needle, in: .stderr) {
            problems.append("stderr does not contain \"\(needle)\"")
        }
        for pattern in e.stdoutMatches where !Regex.matches(pattern, capture.tail(of: .stdout)) {
            problems.append("stdout does not match /\(pattern)/")
        }
        for pattern in e.stderrMatches where !Regex.matches(pattern, capture.tail(of: .stderr)) {
            problems.append("stderr does not match /\(pattern)/")
        }
        if !e.json.isEmpty {
            problems += jsonFailures(e.json, stdout: capture.tail(of: .stdout), truncated: capture.truncated(.stdout))
        }
        return problems
    }

    static func jsonFailures(_ checks: [JSONCheck], stdout: String, truncated: Bool) -> [String] {
        if truncated { return ["stdout is longer than 64 KiB; too long to check as JSON"] }
        guard let json = try? JSONSerialization.jsonObject(with: stdout.utf8Data, options: [.fragmentsAllowed]) else {
            return ["stdout is not JSON, so \(checks.map(\.path.raw).joined(separator: ", ")) cannot be checked"]
        }
        return checks.compactMap { check in
            guard let value = check.path.lookup(in: json) else { return "\(check.path) is missing from the JSON output" }
            let text = render(value)
            return text == check.equals ? nil : "\(check.path) is \(text), expected \(check.equals)"
        }
    }

    /// JSON values as text for comparison: strings bare, everything else as JSON writes it.
    static func render(_ value: Any) -> String {
        switch value {
        case let string as String: return string
        case is NSNull: return "null"
        case let number as NSNumber:
            // JSON booleans arrive as a distinct NSNumber subclass; 1 and true must not compare equal.
            if String(describing: type(of: number)).contains("Boolean") { return number.boolValue ? "true" : "false" }
            return number.stringValue
        default:
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else { return "\(value)" }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
