import Foundation

/// dnsmasq on 127.0.0.1 serving example.test: A and MX records, and the SPF, DKIM and DMARC
/// TXT records seed 000's doctor checks. The DKIM key is a real 2048-bit RSA public key, so
/// its record is longer than 255 bytes and published as several strings (testbed.md).
public final class DNSFixture {
    public let port: Int
    public var server: String { "127.0.0.1:\(port)" }
    private let directory: URL
    private var process: ServerProcess!

    /// `records` are extra dnsmasq lines (e.g. `txt-record=…`) replacing the defaults when given.
    public init(spf: String = "v=spf1 include:amazonses.com ~all", dmarc: String = "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test",
                dkim: Bool = true) throws {
        directory = try TemporaryDirectory.make(prefix: "dns")
        port = ServerProcess.freePort()
        let d = directory.path
        var lines = [
            "port=\(port)", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts",
            "local=/example.test/", "local-ttl=300", "pid-file=\(d)/dnsmasq.pid", "user=root",
            "address=/app.example.test/127.0.0.1",
            "mx-host=example.test,mx.example.test,10",
            "txt-record=example.test,\"\(spf)\"",
            "txt-record=_dmarc.example.test,\"\(dmarc)\"",
        ]
        if dkim {
            try Shell.run("openssl", ["genrsa", "-out", "\(d)/dkim.key", "2048"])
            let der = try Shell.run("sh", ["-c", "openssl rsa -in \(d)/dkim.key -pubout -outform DER 2>/dev/null | base64 -w0"])
            // 255-byte strings at most, as DNS requires.
            var chunks: [String] = ["v=DKIM1; k=rsa; p="]
            var rest = Substring(der)
            while !rest.isEmpty { chunks.append(String(rest.prefix(200))); rest = rest.dropFirst(200) }
            lines.append("txt-record=s1._domainkey.example.test," + chunks.map { "\"\($0)\"" }.joined(separator: ","))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: "\(d)/dnsmasq.conf", atomically: true, encoding: .utf8)
        process = try ServerProcess(["dnsmasq", "--keep-in-foreground", "--conf-file=\(d)/dnsmasq.conf"], name: "dnsmasq", log: "\(d)/dnsmasq.log")
        let port = self.port
        try process.wait {
            (try? Shell.capture("dig", ["@127.0.0.1", "-p", "\(port)", "+short", "+time=1", "+tries=1", "TXT", "example.test"]))?.stdout.contains("spf1") == true
        }
    }

    deinit {
        process = nil
        try? FileManager.default.removeItem(at: directory)
    }
}
