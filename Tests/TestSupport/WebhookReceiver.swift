import Foundation

/// Tests/scripts/webhook-receiver.py on 127.0.0.1: records each POST, answers `status`.
public final class WebhookReceiver {
    public let port: Int
    public let file: String
    private var process: ServerProcess!
    public var url: String { "http://127.0.0.1:\(port)/hooks/T000/B000/secret" }

    public init(status: Int = 200) throws {
        port = ServerProcess.freePort()
        file = try TemporaryDirectory.make(prefix: "hook").path + "/posts.jsonl"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/webhook-receiver.py").path
        process = try ServerProcess(["python3", script, "\(port)", file, "\(status)"], name: "webhook receiver")
        let port = self.port
        try process.wait { ServerProcess.listening(port) }
    }

    /// Each POST body, parsed.
    public var posts: [[String: Any]] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    deinit { process = nil }
}
