import Foundation

/// POSTs a JSON body to a webhook (Slack, Mattermost, a team's own receiver). Lives beside the
/// probes because it shares their HTTP client; it is the only other request deployctl sends.
public enum Webhook {
    public enum Outcome: Sendable, Equatable {
        case delivered(status: Int)
        case failed(String)
    }

    /// Up to `attempts` tries; a 429 or 5xx answer, or no answer, is retried after a second.
    public static func post(url: String, json: Data, timeoutMs: Int = 10_000, attempts: Int = 2) async -> Outcome {
        let request = CurlRequest(url: url, method: "POST", headers: ["Content-Type": "application/json"], body: json,
                                  timeoutMs: timeoutMs, bodyLimit: 64 << 10)
        var last = Outcome.failed("not sent")
        for attempt in 1...max(1, attempts) {
            do {
                let session = try Curl.Session(request)
                let answer = try await Curl.offPool { try session.perform() }
                if (200..<300).contains(answer.status) {
                    last = .delivered(status: answer.status)
                } else {
                    let text = String(decoding: answer.body.prefix(200), as: UTF8.self)
                    last = .failed("HTTP \(answer.status)" + (text.isEmpty ? "" : ": \(text)"))
                }
            } catch {
                last = .failed("\(error)")
            }
            guard case .failed(let why) = last, attempt < attempts else { break }
            // 4xx other than 429 will not get better by asking again.
            if why.hasPrefix("HTTP 4"), !why.hasPrefix("HTTP 429") { break }
            try? await Task.sleep(nanoseconds: 1_000_000_000)
        }
        return last
    }
}
