import AsyncHTTPClient
import Foundation
import NIOCore

/// POSTs a JSON body to a webhook (Slack, Mattermost, a team's own receiver). Lives beside the
/// probes because it shares their HTTP client; it is the only other request deployctl sends.
public enum Webhook {
    public enum Outcome: Sendable, Equatable {
        case delivered(status: Int)
        case failed(String)
    }

    /// Up to `attempts` tries; a 429 or 5xx answer, or no answer, is retried after a second.
    public static func post(url: String, json: Data, timeoutMs: Int = 10_000, attempts: Int = 2) async -> Outcome {
        var last = Outcome.failed("not sent")
        for attempt in 1...max(1, attempts) {
            do {
                last = try await HTTPRequester.withClient(tls: TLSOptions(), followRedirects: false, timeoutMs: timeoutMs) { client in
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.headers.add(name: "User-Agent", value: "deployctl")
                    request.body = .bytes(ByteBuffer(bytes: json))
                    let response = try await client.execute(request, timeout: .milliseconds(Int64(timeoutMs)))
                    let status = Int(response.status.code)
                    let body = try await response.body.collect(upTo: 64 << 10)
                    if (200..<300).contains(status) { return .delivered(status: status) }
                    let text = String(decoding: body.readableBytesView.prefix(200), as: UTF8.self)
                    return .failed("HTTP \(status)" + (text.isEmpty ? "" : ": \(text)"))
                }
            } catch {
                last = .failed(HTTPProbe.describe(error))
            }
            guard case .failed(let why) = last, attempt < attempts else { break }
            // 4xx other than 429 will not get better by asking again.
            if why.hasPrefix("HTTP 4"), !why.hasPrefix("HTTP 429") { break }
            try? await Task.sleep(nanoseconds: 1_000_000_000)
        }
        return last
    }
}
