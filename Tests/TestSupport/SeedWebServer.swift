import Foundation

/// Tests/scripts/seed-web.py on 127.0.0.1: answers fixed routes over HTTPS (a self-signed
/// certificate for localhost and 127.0.0.1, valid `certificateDays`, 2 by default) or plain HTTP, optionally with a
/// plain-HTTP listener that redirects to it (301) and per-route limits after which it answers
/// 429. Every request of the main listener is logged, so tests can see what a stack asked.
public final class SeedWebServer {
    public struct Route {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        /// The exact Authorization header the route needs; without it, 401.
        public var authorization: String?
        /// Authorization headers that authenticate but may not use the route: 403.
        public var forbidden: [String]
        public init(_ status: Int = 200, headers: [String: String] = [:], body: String = "", authorization: String? = nil, forbidden: [String] = []) {
            self.status = status
            self.headers = headers
            self.body = body
            self.authorization = authorization
            self.forbidden = forbidden
        }
    }

    public let port: Int
    /// The plain-HTTP port redirecting to `port` (0 when there is none).
    public let redirectPort: Int
    /// The self-signed certificate (empty for plain HTTP), to trust as a CA file.
    public let certificate: String
    private let directory: URL
    private var process: ServerProcess!

    /// `routes` keys are "METHOD /path"; `limits` likewise, to the number of requests answered
    /// before 429; `headers` go with every answer.
    /// `port`: a port chosen beforehand (free), for routes whose answers name the server's own address.
    public init(port chosen: Int? = nil, tls: Bool = true, redirect: Bool = false, headers: [String: String] = [:],
                routes: [String: Route], limits: [String: Int] = [:], limitWindow: Double? = nil, certificateDays: Int = 2) throws {
        directory = try TemporaryDirectory.make(prefix: "web")
        let d = directory.path
        port = chosen ?? ServerProcess.freePort()
        var other = redirect ? ServerProcess.freePort() : 0
        while redirect && other == port { other = ServerProcess.freePort() }
        redirectPort = other
        var config: [String: Any] = [
            "port": port, "headers": headers, "limits": limits, "log": "\(d)/requests.log", "bodies": "\(d)/bodies.log",
            "routes": routes.mapValues { route -> [String: Any] in
                var entry: [String: Any] = ["status": route.status, "headers": route.headers, "body": route.body]
                if let authorization = route.authorization { entry["authorization"] = authorization }
                if !route.forbidden.isEmpty { entry["forbidden"] = route.forbidden }
                return entry
            },
        ]
        if redirect { config["redirect_port"] = redirectPort }
        if let limitWindow { config["limit_window"] = limitWindow }
        if tls {
            certificate = "\(d)/cert.pem"
            try Shell.run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "\(certificateDays)", "-subj", "/CN=localhost",
                                      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                                      "-keyout", "\(d)/key.pem", "-out", certificate])
            config["cert"] = certificate
            config["key"] = "\(d)/key.pem"
        } else {
            certificate = ""
        }
        try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("config.json"))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/seed-web.py").path
        process = try ServerProcess(["python3", script, "\(d)/config.json"], name: "seed-web", log: "\(d)/stderr.log")
        let (main, extra) = (port, redirectPort)
        try process.wait { ServerProcess.listening(main) && (extra == 0 || ServerProcess.listening(extra)) }
    }

    /// "METHOD /path?query STATUS" for every request so far, oldest first.
    public var requests: [String] {
        let text = (try? String(contentsOfFile: directory.path + "/requests.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// "METHOD /path BODY" for every request that sent a body, oldest first.
    public var bodies: [String] {
        let text = (try? String(contentsOfFile: directory.path + "/bodies.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// "127.0.0.1:PORT" of the main listener.
    public var authority: String { "127.0.0.1:\(port)" }

    deinit {
        process = nil
        try? FileManager.default.removeItem(at: directory)
    }
}
