import Foundation

/// nginx on 127.0.0.1 as seed 004's checklist expects a web front to behave: HTTP answers
/// 301 to HTTPS; HTTPS (self-signed, valid 2 days, for localhost and 127.0.0.1) sends the
/// security headers; /health is 200 JSON; /metrics is 403; /login answers 429 after 5 quick
/// requests (limit_req serves a file: it does not apply to `return`, see testbed.md).
public final class NginxFixture {
    public let httpPort: Int
    public let httpsPort: Int
    /// The self-signed certificate, to trust as a CA file.
    public let certificate: String
    private let prefix: URL
    private var server: ServerProcess!

    public init() throws {
        prefix = try TemporaryDirectory.make(prefix: "nginx")
        httpPort = ServerProcess.freePort()
        var https = ServerProcess.freePort()
        while https == httpPort { https = ServerProcess.freePort() }
        httpsPort = https
        let p = prefix.path
        for dir in ["conf", "logs", "html", "temp"] { try FileManager.default.createDirectory(atPath: "\(p)/\(dir)", withIntermediateDirectories: true) }
        certificate = "\(p)/conf/cert.pem"
        try Shell.run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                                  "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                                  "-keyout", "\(p)/conf/key.pem", "-out", certificate])
        try "welcome\n".write(toFile: "\(p)/html/login.html", atomically: true, encoding: .utf8)
        try "<h1>home</h1>\n".write(toFile: "\(p)/html/index.html", atomically: true, encoding: .utf8)
        let headers = """
                add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
                add_header Content-Security-Policy "default-src 'self'" always;
                add_header X-Frame-Options DENY always;
                add_header X-Content-Type-Options nosniff always;
        """
        let config = """
        worker_processes 1;
        pid \(p)/logs/nginx.pid;
        error_log \(p)/logs/error.log;
        events { worker_connections 64; }
        http {
            access_log \(p)/logs/access.log;
            client_body_temp_path \(p)/temp/body;
            proxy_temp_path \(p)/temp/proxy;
            fastcgi_temp_path \(p)/temp/fastcgi;
            uwsgi_temp_path \(p)/temp/uwsgi;
            scgi_temp_path \(p)/temp/scgi;
            default_type text/html;
            limit_req_zone $binary_remote_addr$http_x_test_client zone=login:1m rate=1r/m;
            limit_req_status 429;
            server {
                listen 127.0.0.1:\(httpPort);
                location / { return 301 https://127.0.0.1:\(httpsPort)$request_uri; }
            }
            server {
                listen 127.0.0.1:\(httpsPort) ssl;
                ssl_certificate \(p)/conf/cert.pem;
                ssl_certificate_key \(p)/conf/key.pem;
                root \(p)/html;
        \(headers)
                location = /health {
                    default_type application/json;
        \(headers)
                    return 200 '{"status":"ok","checks":{"db":"ok","redis":"ok"},"version":"2.1.0"}';
                }
                location = /metrics {
        \(headers)
                    return 403 'forbidden';
                }
                location = /login {
                    limit_req zone=login burst=4 nodelay;
        \(headers)
                    try_files /login.html =404;
                }
            }
        }
        """
        try config.write(toFile: "\(p)/conf/nginx.conf", atomically: true, encoding: .utf8)
        try Shell.run("chown", ["-R", "www-data", p])
        try Shell.run("chmod", ["755", p])
        server = try ServerProcess(["runuser", "-u", "www-data", "--", "/usr/sbin/nginx", "-p", p, "-c", "conf/nginx.conf",
                                    "-g", "daemon off;"], name: "nginx", log: "\(p)/logs/stderr.log")
        let (http, httpsPort) = (httpPort, self.httpsPort)
        try server.wait { ServerProcess.listening(http) && ServerProcess.listening(httpsPort) }
    }

    deinit {
        server = nil
        try? FileManager.default.removeItem(at: prefix)
    }
}
