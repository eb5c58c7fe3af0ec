import Foundation

/// A submission server on 127.0.0.1 (Tests/scripts/smtp-server.py, aiosmtpd from the test
/// venv): STARTTLS with a self-signed certificate, AUTH for one account only after STARTTLS, and
/// senders other than `senders` refused (553) at RCPT TO, as Postfix does.
/// Clients trust it through `certificate` (curl: CURL_CA_BUNDLE).
public final class SMTPFixture {
    public let port: Int
    public let user: String
    public let password: String
    public let certificate: String
    public let mailbox: String
    private let directory: URL
    private var process: ServerProcess?

    /// `judgeAtData`: refuse a disallowed sender after DATA (as SES does) rather than at RCPT TO.
    /// `stallData`: seconds the server waits before answering DATA.
    public init(user: String = "mail-service", password: String, senders: [String] = ["noreply@example.test"], judgeAtData: Bool = false,
                stallData: Double = 0) throws {
        self.user = user
        self.password = password
        directory = try TemporaryDirectory.make(prefix: "smtp")
        let d = directory.path
        certificate = d + "/cert.pem"
        mailbox = d + "/mailbox"
        try Shell.run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                                  "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", d + "/key.pem", "-out", certificate])
        port = ServerProcess.freePort()
        let script = RepositoryFiles.root.appendingPathComponent("Tests/scripts/smtp-server.py").path
        process = try ServerProcess([TestVenv.bin + "/python3", script, "\(port)", certificate, d + "/key.pem", user, password, mailbox,
                                     senders.joined(separator: ",")],
                                    name: "smtp-server", log: d + "/server.log", environment: ["SMTP_JUDGE_AT": judgeAtData ? "data" : "rcpt", "SMTP_STALL": "data:\(stallData)"])
        let port = self.port
        try process?.wait { ServerProcess.listening(port) }
    }

    /// Stops the server (to see what a runbook says when SMTP is down).
    public func stop() { process = nil }

    deinit {
        process = nil
        try? FileManager.default.removeItem(at: directory)
    }
}
