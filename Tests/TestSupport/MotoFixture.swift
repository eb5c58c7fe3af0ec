import Foundation

/// A moto server on 127.0.0.1 answering the real `aws` CLI (both from the test venv), with
/// an SES receipt rule set `mail-rules` holding an enabled rule `inbound`, as seed 001 has
/// (unless another server stands in: see `init`).
public final class MotoFixture {
    public let port: Int
    private var server: ServerProcess!
    private let config: URL

    /// `command`: another server for the port (one that also stands in for what moto does not
    /// run); it makes its own resources, so the `mail-rules` rule set is not made for it.
    public init(command: ((Int) throws -> [String])? = nil) throws {
        let binary = try TestVenv.tool("moto_server")
        config = try TemporaryDirectory.make(prefix: "aws")
        try "[default]\nregion = us-east-1\n".write(to: config.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
            .write(to: config.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        port = ServerProcess.freePort()
        server = try ServerProcess(try command?(port) ?? [binary, "-H", "127.0.0.1", "-p", "\(port)"], name: "moto_server")
        let port = self.port
        try server.wait {
            (try? Shell.capture("curl", ["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/moto-api/"]))?.status == 0
        }
        if command == nil {
            try Shell.run(try TestVenv.tool("python3"), [RepositoryFiles.root.appendingPathComponent("Tests/scripts/moto-inbound-rule.py").path,
                                                      "http://127.0.0.1:\(port)"])
        }
    }

    deinit {
        server = nil
        try? FileManager.default.removeItem(at: config)
    }

    /// What the aws CLI needs to talk to this server and nothing else, with the venv first on PATH.
    public var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
         "AWS_ENDPOINT_URL": "http://127.0.0.1:\(port)",
         "AWS_CONFIG_FILE": config.appendingPathComponent("config").path,
         "AWS_SHARED_CREDENTIALS_FILE": config.appendingPathComponent("credentials").path,
         "PATH": TestVenv.bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
    }

    @discardableResult
    public func aws(_ arguments: [String]) throws -> String {
        try Shell.run(try TestVenv.tool("aws"), arguments, environment: environment)
    }

    /// `True` or `False`: the rule's Enabled flag read back with describe-receipt-rule.
    public func ruleEnabled() throws -> String {
        try aws(["ses", "describe-receipt-rule", "--rule-set-name", "mail-rules", "--rule-name", "inbound",
                 "--query", "Rule.Enabled", "--output", "text"])
    }

    /// A descriptor's `inbound:` block for this server's rule (a top-level YAML fragment, with
    /// an optional `drain:` block appended under it).
    public static func inboundYAML(drain: String = "") -> String {
        """
        inbound:
          disable: [aws, ses, update-receipt-rule, --rule-set-name, mail-rules, --rule, '{"Name":"inbound","Enabled":false}']
          enable: [aws, ses, update-receipt-rule, --rule-set-name, mail-rules, --rule, '{"Name":"inbound","Enabled":true}']
          status:
            run: [aws, ses, describe-receipt-rule, --rule-set-name, mail-rules, --rule-name, inbound, --query, Rule.Enabled, --output, text]
            enabled: {stdout_matches: '^True$'}
            disabled: {stdout_matches: '^False$'}
            wait: 5s
            interval: 500ms
        """ + (drain.isEmpty ? "" : "\n" + drain)
    }

    /// Wipes every resource (the rule set disappears), so commands against it fail.
    public func reset() throws {
        try Shell.run("curl", ["-sf", "-X", "POST", "http://127.0.0.1:\(port)/moto-api/reset"])
    }
}
