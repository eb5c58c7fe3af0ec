import Foundation
import Testing
import TestSupport

/// The seed stacks in `stacks/` run end to end: the real descriptors and helper scripts committed
/// into a fixture repository, the stand-in CLIs (Tests/stand-ins) first on PATH, and real
/// PostgreSQL, Redis, moto, dnsmasq and HTTP(S) servers behind them.
@Suite(.serialized) struct SeedStackTests {
    // MARK: - Helpers

    /// A fixture repository holding `stacks/<stack>` (plus `extra` files), with the stand-ins, the
    /// test venv and PostgreSQL's tools on PATH, and a stand-in state directory and call log of its own.
    static func stack(_ name: String, target: String, extra: [String: String] = [:]) throws -> StackFixture {
        var files = try RepositoryFiles.files(under: "stacks/\(name)")
        for (path, contents) in extra { files[path] = contents }
        let descriptor = try #require(files["stacks/\(name)/\(target).yaml"])
        let stack = try StackFixture(descriptor, target: "stacks/\(name)/\(target).yaml", files: files)
        // Inside the state directory, so it goes when the fixture does (deployctl ignores it).
        let scratch = stack.state.appendingPathComponent("standins")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        stack.environment["PATH"] = [RepositoryFiles.standIns, TestVenv.bin, PostgresFixture.bin,
                                     ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].joined(separator: ":")
        stack.environment["STANDIN_STATE"] = scratch.path
        stack.environment["STANDIN_LOG"] = scratch.path + "/calls.log"
        return stack
    }

    /// The stand-ins' call log: one shell-quoted line per call.
    static func calls(_ stack: StackFixture) -> [String] {
        let text = (try? String(contentsOfFile: stack.environment["STANDIN_LOG"]!, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    static func report(_ stack: StackFixture, _ runID: String) throws -> String {
        try String(contentsOfFile: "\(stack.state.path)/reports/\(runID)/report.md", encoding: .utf8)
    }

    static func runs(_ stack: StackFixture) throws -> [[String: Any]] {
        let out = try stack.run(["runs", "--format", "json"]).stdout
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
    }

    static func steps(_ run: [String: Any]) -> [String: [String: Any]] {
        var byName: [String: [String: Any]] = [:]
        for step in run["steps"] as? [[String: Any]] ?? [] { byName["\(step["phase"]!)/\(step["name"]!)"] = step }
        return byName
    }

    static func eventKinds(_ run: [String: Any]) -> [String] {
        (run["events"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
    }

    static func inputs(_ pairs: KeyValuePairs<String, String>) -> [String] {
        pairs.flatMap { ["--input", "\($0.key)=\($0.value)"] }
    }

    /// Where a mail-service test's service lives (pid, log, a one-template catalog).
    static func mailServiceDirectory(_ stack: StackFixture) throws -> String {
        let run = stack.state.path + "-service"
        try FileManager.default.createDirectory(atPath: run + "/templates", withIntermediateDirectories: true)
        try "Subject: Your code\n\nYour login code is {{ .Code }}.\n".write(toFile: run + "/templates/auth-code.tmpl", atomically: true, encoding: .utf8)
        // Deployed read-only, as an immutable catalog is (preflight/template-catalog-read-only).
        chmod(run + "/templates/auth-code.tmpl", 0o444)
        chmod(run + "/templates", 0o555)
        return run
    }

    /// The service runs in its own session: stop it by the pid it wrote, then remove its directory.
    static func stopMailService(_ run: String) {
        if let pid = try? String(contentsOfFile: run + "/mail-service.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           let number = Int32(pid) { kill(number, SIGKILL) }
        // Read-only catalogs: a user other than root could not remove them.
        for catalog in ["templates", "templates-broken"] { chmod(run + "/" + catalog, 0o755) }
        try? FileManager.default.removeItem(atPath: run)
    }

    /// A listener standing in for an OpenTelemetry collector (reachability only), and its
    /// endpoint URL; it stops when the returned process goes.
    static func otelCollector() throws -> (ServerProcess, String) {
        let port = ServerProcess.freePort()
        let listener = try ServerProcess(["python3", "-m", "http.server", "--bind", "127.0.0.1", "\(port)"], name: "otel-collector")
        try listener.wait { ServerProcess.listening(port) }
        return (listener, "http://127.0.0.1:\(port)")
    }

    static func secret(_ prefix: String, length: Int = 40) -> String {
        var value = prefix + "-"
        while value.count < length { value += UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
        return String(value.prefix(length))
    }

    // MARK: - 1. Every seed stack validates and plans

    @Test func everySeedStackValidates() throws {
        let stack = try Self.stack("demo", target: "local", extra: try RepositoryFiles.files(under: "stacks"))
        // --strict: no seed stack passes a secret in an argv (or earns any other warning).
        let validate = try stack.run(["validate", "--strict"])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        let targets = ["demo/local", "dialectic/prod", "dotmac/prod", "dotmac/staging", "mail-service/fleet", "mail-service/prod",
                       "mail-service/staging", "mailflow/prod", "mailglass/prod"]
        for target in targets {
            #expect(validate.stdout.contains("✓ \(target) "), "\(target) missing from: \(validate.stdout)")
        }
        #expect(validate.stdout.contains("validated \(targets.count) target(s)"))
        #expect(validate.stdout.contains("all valid"))
        let json = try stack.run(["validate", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let listed = (object["targets"] as? [[String: Any]] ?? []).compactMap { $0["target"] as? String }
        #expect(listed.sorted() == targets)
        #expect(object["valid"] as? Bool == true)

        // Every target plans with the inputs and secrets it needs; secrets never show.
        let canary = Self.secret("canary", length: 72)
        var secrets: [String: String] = ["DEMO_API_TOKEN": canary, "DIALECTIC_DATABASE_URL": "postgresql://app:\(canary)@db.internal:5432/app",
                                         "DIALECTIC_SECRET_KEY_BASE": canary, "MAILGLASS_WEBHOOK_SECRET": canary,
                                         "MAIL_REDIS_PASSWORD": canary, "MAIL_SMTP_PASSWORD": canary, "MAILFLOW_SMOKE_JWT": canary,
                                         "MAILFLOW_SMOKE_JWT_NO_TEAM": canary]
        for name in ["SECRET_KEY", "AUTH__JWT_SECRET_KEY", "NEXTAUTH_SECRET", "DB_PASSWORD", "REDIS_PASSWORD",
                     "STORAGE_ACCESS_KEY", "STORAGE_SECRET_KEY", "VAULT_TOKEN"] { secrets["DOTMAC_\(name)"] = canary }
        let dotmac = Self.inputs(["tenant": "acme", "api_domain": "api.acme.example", "admin_domain": "app.acme.example",
                                  "api_http_url": "http://api.acme.example",
                                  "tls_cert_api": "/etc/ssl/acme/api.pem", "tls_cert_admin": "/etc/ssl/acme/admin.pem",
                                  "db_host": "db.internal", "db_name": "dotmac_acme", "db_user": "dotmac_acme", "redis_host": "redis.internal",
                                  "api_dns_name": "api.acme.example", "admin_dns_name": "app.acme.example",
                                  "storage_endpoint": "https://s3.example", "storage_bucket": "dotmac-acme", "vault_url": "https://vault.example",
                                  "otel_grpc_endpoint": "http://otel:4317", "otel_http_endpoint": "http://otel:4318",
                                  "prometheus_url": "https://prom.example", "alertmanager_url": "https://am.example",
                                  "grafana_url": "https://grafana.example", "release": "acme"])
        let mailService = Self.inputs(["redis_host": "redis.internal", "stream_redis_host": "streams.internal", "template_dir": "/opt/mail/templates",
                                       "prometheus_url": "https://prometheus.example"])
        let plans: [(String, [String], String)] = [
            ("demo/local", [], "greeting"),
            ("dialectic/prod", Self.inputs(["fly_app": "dialectic-plan", "host": "dialectic.example", "http_host": "dialectic.example",
                                            "db_rollback_to": "20260106112233", "backup_bucket": "dialectic-backups",
                                            "monitoring_url": "https://prometheus.example", "alertmanager_url": "https://alertmanager.example",
                                            "db_fly_app": "dialectic-plan-db"]), "dialectic-plan"),
            ("dotmac/prod", dotmac, "dotmac-acme"),
            ("dotmac/staging", dotmac + Self.inputs(["deploy_via": "helm", "namespace": "acme"]), "values-staging.yaml"),
            ("mail-service/prod", mailService + Self.inputs(["smtp_addr": "smtp.example:587", "smtp_from": "noreply@example.test", "smtp_probe_rcpt": "probe@example.test",
                                                             "smtp_username": "mailer"]), "smtp.example"),
            ("mail-service/staging", mailService, "streams.internal"),
            ("mail-service/fleet", mailService + Self.inputs(["binary": "/build/out/mail-service"]), "on app: app1 (canary), then app2"),
            ("mailflow/prod", Self.inputs(["jwt_issuer": "https://auth.mailflow.example", "api_url": "https://api.mailflow.example", "dashboard_url": "https://dash.mailflow.example", "dashboard_http_url": "http://dash.mailflow.example",
                                           "mail_domain": "mailflow.example", "test_from": "verified@mailflow.example"]), "https://api.mailflow.example/api"),
            ("mailglass/prod", Self.inputs(["domain": "mail.example", "webhook_url": "https://app.example/webhooks/postmark"]), "mail.example"),
        ]
        for (target, inputs, resolved) in plans {
            let plan = try stack.run(["plan", target] + inputs, environment: secrets)
            #expect(plan.status == 0, "\(target): \(plan.stdout)\(plan.stderr)")
            #expect(plan.stdout.contains("Plan for \(target) at "), "\(target): \(plan.stdout)")
            #expect(plan.stdout.contains(resolved), "\(target): the plan shows \(resolved)")
            #expect(!plan.stdout.contains(canary) && !plan.stderr.contains(canary), "\(target) printed a secret")
        }
        // …and refuses to plan without them (nothing is guessed).
        let missing = try stack.run(["plan", "dialectic/prod"], environment: secrets)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("required input(s) missing: fly_app, host, http_host, db_rollback_to"))
    }

    // MARK: - 2. dialectic/prod: up, then a crash-looping release rolled back by itself

    /// A Prometheus-compatible rules and targets API and an Alertmanager status, as the dialectic
    /// stack's monitoring-alerts step reads them: the seed's alerts, each as `rules` overrides.
    /// `series`: whether the query API finds series of the rules' metrics.
    static func monitoringRoutes(health: String, interval: String = "30s", rules overrides: [String: [String: String]] = [:],
                                 receiver: String = "  email_configs:\n  - to: oncall@example.test\n", series: Bool = true) -> [String: SeedWebServer.Route] {
        var rules: [String: [String: String]] = [
            "DialecticHigh5xxRate": ["query": #"sum(rate(phoenix_http_requests_total{status=~"5.."}[5m])) / sum(rate(phoenix_http_requests_total[5m])) > 0.01"#],
            "DialecticRateLimitViolations": ["query": #"sum(increase(phoenix_http_requests_total{status="429"}[1h])) > 100"#],
            "DialecticDatabasePoolSaturated": ["query": "max(dialectic_repo_pool_busy / dialectic_repo_pool_size) > 0.8"],
            "DialecticHealthCheckFailing": ["query": #"probe_success{instance="\#(health)"} == 0"#],
        ]
        for (name, fields) in overrides { rules[name] = fields.isEmpty ? nil : (rules[name] ?? [:]).merging(fields) { _, new in new } }
        let listed = rules.sorted { $0.key < $1.key }.map { name, fields -> [String: Any] in
            ["name": name, "type": "alerting", "query": fields["query"] ?? "", "duration": 60, "health": fields["health"] ?? "ok",
             "lastError": fields["lastError"] ?? "", "labels": [:], "annotations": [:], "alerts": []]
        }
        let target: [String: Any] = [
            "labels": ["instance": health, "job": "blackbox-health"], "scrapePool": "blackbox-health",
            "scrapeUrl": "http://blackbox:9115/probe?module=http_2xx&target=" + (health.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? health),
            "scrapeInterval": interval, "health": "up", "lastError": "", "lastScrape": "2026-11-30T22:00:00Z"]
        func json(_ object: Any) -> String { String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self) }
        // As Alertmanager serves it: Go's YAML, a list at its key's own indentation.
        let config = "global:\n  resolve_timeout: 5m\nroute:\n  receiver: oncall\n  group_by:\n  - alertname\nreceivers:\n- name: oncall\n\(receiver)templates: []\n"
        let headers = ["Content-Type": "application/json"]
        return [
            "GET /api/v1/rules": .init(200, headers: headers, body: json(["status": "success", "data": ["groups": [["name": "dialectic", "file": "dialectic.yml", "rules": listed]]]])),
            "GET /api/v1/targets": .init(200, headers: headers, body: json(["status": "success", "data": ["activeTargets": [target], "droppedTargets": []]])),
            "GET /api/v2/status": .init(200, headers: headers, body: json(["config": ["original": config], "cluster": ["status": "ready"]])),
            "GET /api/v1/query": .init(200, headers: headers, body: json(["status": "success", "data": ["resultType": "vector",
                                                                         "result": series ? [["metric": [:], "value": [1764540000, "3"]]] : []]])),
        ]
    }

    /// The argv `plan --format json` renders for PHASE/NAME of TARGET with these inputs: a
    /// failing case run by hand is then the step's own command, not a copy of it.
    static func planArgv(_ stack: StackFixture, _ target: String, _ step: String, _ inputs: [String]) throws -> [String] {
        let plan = try StackFixture.json(try stack.run(["plan", target, "--format", "json"] + inputs))
        let (phase, name) = (String(step.split(separator: "/")[0]), String(step.split(separator: "/")[1]))
        let phases = try #require(plan["phases"] as? [[String: Any]])
        let steps = phases.first { $0["phase"] as? String == phase || $0["name"] as? String == phase }?["steps"] as? [[String: Any]] ?? []
        return try #require(steps.first { $0["name"] as? String == name }?["argv"] as? [String], "no \(step) in the plan")
    }

    /// A Prometheus answering every instant query with one series of `value` (the send-duration p95).
    static func prometheus(_ value: String) throws -> SeedWebServer {
        let body = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1764540000,"\#(value)"]}]}}"#
        return try SeedWebServer(tls: false, routes: ["GET /api/v1/query": .init(200, headers: ["Content-Type": "application/json"], body: body)])
    }

    static let flyToml = """
        app = 'dialectic-test'
        primary_region = 'iad'

        [env]
          PHX_SERVER = 'true'
          LLM_PROVIDER = 'google'

        [http_service]
          internal_port = 8080
          force_https = true
          auto_stop_machines = 'stop'
          min_machines_running = 1

          [[http_service.checks]]
            interval = '30s'
            timeout = '5s'
            method = 'GET'
            path = '/health'

        [[vm]]
          memory = '4gb'
        """

    @Test func dialecticDeploysVerifiesAndRollsBackACrashLoopingRelease() throws {
        let pg = try PostgresFixture(settings: ["shared_preload_libraries=pg_stat_statements"])
        try pg.psql("CREATE EXTENSION pg_stat_statements", database: "app")
        let moto = try MotoFixture()
        try moto.aws(["s3", "mb", "s3://dialectic-backups"])
        let security: [String: String] = ["Strict-Transport-Security": "max-age=31536000; includeSubDomains", "Content-Security-Policy": "default-src 'self'",
                        "X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff", "X-XSS-Protection": "1; mode=block"]
        let json: [String: String] = ["Content-Type": "application/json"], html: [String: String] = ["Content-Type": "text/html"]
        // The monitoring APIs are served by the same server (any host: its address is an input).
        let webPort = ServerProcess.freePort()
        let appRoutes: [String: SeedWebServer.Route] = [
            "GET /health": SeedWebServer.Route(200, headers: json, body: #"{"status":"ok"}"#),
            "GET /health/deep": SeedWebServer.Route(200, headers: json, body: #"{"status":"ok","checks":{"database":"ok","oban":"ok","application":"ok"}}"#),
            "GET /": SeedWebServer.Route(200, headers: html, body: "<h1>Dialectic</h1>\n"),
            "POST /users/log_in": SeedWebServer.Route(200, headers: html, body: "log in\n"),
        ]
        let routes = Self.monitoringRoutes(health: "https://127.0.0.1:\(webPort)/health").merging(appRoutes) { _, new in new }
        let web = try SeedWebServer(port: webPort, redirect: true, headers: security, routes: routes, limits: ["POST /users/log_in": 5], certificateDays: 90)
        let stack = try Self.stack("dialectic", target: "prod", extra: [
            "fly.toml": Self.flyToml,
            "mix.exs": "defmodule Dialectic.MixProject do\n  use Mix.Project\n  def project, do: [app: :dialectic, version: \"1.0.0\"]\nend\n",
            "priv/repo/migrations/20260106112233_create_graphs.exs": "defmodule Dialectic.Repo.Migrations.CreateGraphs do\nend\n",
        ])
        stack.environment["DIALECTIC_DATABASE_URL"] = "postgresql://postgres:\(pg.password)@127.0.0.1:\(pg.port)/app"
        stack.environment["DIALECTIC_SECRET_KEY_BASE"] = Self.secret("skb", length: 72)
        stack.environment["STANDIN_FLY_MACHINES"] = "2"
        // Each release the stand-in deploys serves a few statements of its own as it starts.
        stack.environment["STANDIN_FLY_DATABASE_URL"] = stack.environment["DIALECTIC_DATABASE_URL"]
        // PHX_HOST and DATABASE_SSL are Fly secrets here (fly.toml's [env] has neither).
        stack.environment["STANDIN_FLY_SECRETS"] = "DATABASE_URL,SECRET_KEY_BASE,PHX_HOST,DATABASE_SSL,GOOGLE_API_KEY"
        // …whose values a running machine holds (read with `fly ssh console`, one name at a time).
        stack.environment["STANDIN_FLY_MACHINE_ENV"] = #"{"PHX_HOST": "127.0.0.1", "DATABASE_SSL": "false"}"#
        for (key, value) in moto.environment where key != "PATH" { stack.environment[key] = value }
        let base = Self.inputs(["fly_app": "dialectic-test", "host": web.authority, "http_host": "127.0.0.1:\(web.redirectPort)",
                                "database_ssl": "false", "ca_file": web.certificate, "backup_bucket": "dialectic-backups",
                                "monitoring_url": "https://\(web.authority)", "alertmanager_url": "https://\(web.authority)", "db_fly_app": "dialectic-db",
                                "query_soak_seconds": "1"])
        let first = try stack.git.git(["rev-parse", "HEAD"])
        // Every process's argv, as any user of the machine sees it, through both runs.
        let processList = ProcessListSampler()

        let up = try stack.run(["up", "dialectic/prod", "--yes"] + base + Self.inputs(["db_rollback_to": "20260106112233"]))
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        for step in ["preflight/mix-test", "preflight/migrations-rehearsal", "preflight/hex-outdated", "preflight/fly-toml", "preflight/fly-env-settings", "preflight/database-connection", "preflight/pg-stat-statements-readable", "preflight/db-snapshots", "migrate/ecto-migrate",
                     "deploy/db-queries-snapshot", "deploy/fly-deploy", "deploy/fly-status", "verify/health", "verify/deep-health", "verify/https-redirect",
                     "verify/security-headers", "postdeploy/login-rate-limit", "postdeploy/health-latency", "postdeploy/certificate", "postdeploy/monitoring-alerts", "postdeploy/db-queries-fast"] {
            #expect(up.stdout.contains("✓ \(step) "), "\(step) did not succeed: \(up.stdout)")
        }
        #expect(up.stdout.contains("database-connection │ app|ssl=false"), "psql connected without SSL: \(up.stdout)")
        #expect(up.stdout.contains("fly-env-settings │ ok   PHX_HOST: a Fly secret, '127.0.0.1' on a running machine (expected '127.0.0.1')"), "\(up.stdout)")
        #expect(up.stdout.contains("fly-env-settings │ ok   DATABASE_SSL false: the database host 127.0.0.1 is local"), "\(up.stdout)")
        // What verify and postdeploy measured.
        for line in ["https-redirect │ ✓ status = 301 (expected 301)",
                     "https-redirect │ ✓ redirect location = https://\(web.authority)/",
                     "deep-health │ ✓ $.checks.database = ok (expected ok)", "deep-health │ ✓ $.checks.oban = ok (expected ok)",
                     "security-headers │ ✓ header X-Frame-Options = SAMEORIGIN (expected SAMEORIGIN)",
                     "security-headers │ ✓ header Strict-Transport-Security = max-age=31536000; includeSubDomains (expected contains max-age=)",
                     "security-headers │ ✓ header X-XSS-Protection = 1; mode=block (expected present)",
                     "login-rate-limit │ ✓ requests before 429 = 5 (expected 1…5)",
                     "login-rate-limit │ · statuses = 200 200 200 200 200 429",
                     "health-latency │ ✓ status = 200 ×20 (expected 200)"] {
            #expect(up.stdout.contains(line), "missing: \(line)")
        }
        let upID = try stack.requireLastRunID()
        let shown = try stack.show(upID)
        #expect(shown["status"] as? String == "succeeded")
        let steps = Self.steps(shown)
        #expect(steps.count == 35, "31 steps and the backup's take, verify, check and push: \(steps.keys.sorted())")
        #expect(steps["migrate/backup.push"]?["status"] as? String == "succeeded")
        #expect(try moto.aws(["s3", "ls", "s3://dialectic-backups/dialectic/"]).contains("\(upID).dump"), "the dump is in the bucket")
        #expect(steps["preflight/fly-secret-openai-key"]?["status"] as? String == "skipped", "llm_provider is google")
        #expect(steps["migrate/backup.verify"]?["status"] as? String == "succeeded")
        #expect(steps.values.filter { $0["status"] as? String != "skipped" }.allSatisfy { $0["status"] as? String == "succeeded" })
        #expect(Self.eventKinds(shown).contains("backup_taken"))
        // What the server saw: 5 logins allowed, then 429 (where the probe stops); the deep health asked.
        let requests = web.requests
        let loginStatuses: [String] = requests.filter { $0.hasPrefix("POST /users/log_in ") }.map { String($0.split(separator: " ").last!) }
        #expect(loginStatuses == ["200", "200", "200", "200", "200", "429"])
        #expect(requests.contains("GET /health/deep 200"))
        // Each login attempt posted the seed's JSON, as its curl loop does.
        #expect(web.bodies == Array(repeating: #"POST /users/log_in {"user":{"email":"test@test.com","password":"wrong"}}"#, count: 6), "\(web.bodies)")
        #expect(Self.calls(stack).contains { $0.hasPrefix("mix ecto.migrate") })

        let report = try Self.report(stack, upID)
        // Seed 004's readiness (20 of 25 to pass) and sign-off, waiting for reviewers.
        #expect(report.contains("## Review: NOT ACCEPTED"))
        #expect(report.contains("### Readiness score"))
        for category in ["Security", "Performance", "Monitoring", "Documentation", "Team Readiness"] {
            #expect(report.contains("| \(category) | — |  |  |"), "readiness category \(category)")
        }
        #expect(report.contains("| **Total** | **0 / 25** (pass at 20) | | |"))
        #expect(report.contains("### Sign-off"))
        for role in ["Developer", "Tech Lead", "DevOps", "Security"] { #expect(report.contains("| \(role) |  |  |"), "sign-off \(role)") }
        #expect(report.contains("Rollback procedure tested"))

        // Migrations whose down/0 raises: the rehearsal on the test database finds it in preflight,
        // before production is backed up or migrated.
        let irreversible = try stack.run(["up", "dialectic/prod", "--yes"] + base + Self.inputs(["db_rollback_to": "20260106112233"]),
                                         environment: ["STANDIN_FAIL": "mix-ecto-rollback"])
        #expect(irreversible.status == 1 && irreversible.stdout.contains("✗ preflight/migrations-rehearsal"), "\(irreversible.stdout)")
        #expect(irreversible.stdout.contains("cannot roll back: the down/0 of a data migration raises"), "\(irreversible.stdout)")
        #expect(!irreversible.stdout.contains("▶ migrate/"), "nothing migrated: \(irreversible.stdout)")

        // A dependency update its requirement allows, left undone: hex-outdated names it.
        let outdated = try stack.run(["up", "dialectic/prod", "--yes"] + base + Self.inputs(["db_rollback_to": "20260106112233"]),
                                     environment: ["STANDIN_FAIL": "mix-hex-outdated"])
        #expect(outdated.status == 1 && outdated.stdout.contains("✗ preflight/hex-outdated") && outdated.stdout.contains("1.7.18   1.7.20  Update possible"),
                "\(outdated.stdout)")
        #expect(!outdated.stdout.contains("▶ migrate/"), "nothing migrated: \(outdated.stdout)")

        // database_ssl true (the machines agree) against this database, which has no SSL: refused in preflight, named.
        let plaintext = try stack.run(["up", "dialectic/prod", "--yes"] + base + Self.inputs(["db_rollback_to": "20260106112233", "database_ssl": "true"]),
                                      environment: ["STANDIN_FLY_MACHINE_ENV": #"{"PHX_HOST": "127.0.0.1", "DATABASE_SSL": "true"}"#])
        #expect(plaintext.status == 1 && plaintext.stdout.contains("✗ preflight/database-ssl-in-use"), "\(plaintext.stdout)")
        #expect(!plaintext.stdout.contains("▶ migrate/"), "nothing migrated: \(plaintext.stdout)")

        // The image the first release deployed, as fly saw it.
        let deployCall: String? = Self.calls(stack).first { $0.hasPrefix("fly deploy ") }
        let label = String(try #require(deployCall?.split(separator: " ").last))
        #expect(label.hasPrefix("deployctl-") && first.hasPrefix(String(label.dropFirst("deployctl-".count))), "label \(label) names \(first)")

        // Revision 2 adds a migration; its machine crash-loops after the deploy.
        try stack.git.commit("Add votes", files: ["priv/repo/migrations/20260201090000_add_votes.exs": "defmodule Dialectic.Repo.Migrations.AddVotes do\nend\n"])
        try pg.psql("CREATE TABLE graphs (id serial PRIMARY KEY, title text); INSERT INTO graphs (title) VALUES ('written before the release')", database: "app")
        let before = try pg.snapshot()
        let callsBefore = Self.calls(stack).count
        let failed = try stack.run(["up", "dialectic/prod", "--yes"] + base + Self.inputs(["db_rollback_to": "20260201090000"]),
                                   environment: ["STANDIN_FAIL": "fly-status-last"])
        #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stdout.contains("✗ deploy/fly-status"), "\(failed.stdout)")
        // The first machine runs; the second crash-loops (what a check of Machines[0] alone missed).
        #expect(failed.stdout.contains("fly-status │ BAD ") && failed.stdout.contains("state=stopped checks=0/1 passing (servicecheck-00-http-8080=critical), 4 exit(s) recorded, 3 unrequested since its last launch"), "\(failed.stdout)")
        #expect(failed.stdout.contains("fly-status │ 1 of 2 machine(s) started with every check passing"), "\(failed.stdout)")
        #expect(failed.stdout.contains("deploy/fly-status failed: rolling back automatically"), "\(failed.stdout)")
        #expect(failed.stdout.contains("undo.fly-deploy │ rolling dialectic-test back from v3 "), "\(failed.stdout)")
        #expect(failed.stdout.contains("to the image of v2: registry.fly.io/dialectic-test:\(label)"))
        #expect(failed.stdout.contains("✓ rollback dialectic/prod at \(first.prefix(10))"), "\(failed.stdout)")
        let undoDeploy = try #require(failed.stdout.range(of: "▶ rollback/undo.fly-deploy"))
        let undoMigrate = try #require(failed.stdout.range(of: "▶ rollback/undo.ecto-migrate"))
        let restore = try #require(failed.stdout.range(of: "✓ rollback/backup.restore"))
        #expect(undoDeploy.lowerBound < undoMigrate.lowerBound && undoMigrate.lowerBound < restore.lowerBound,
                "undo fly deploy, then the migrations, then the restore")
        let rollbackCalls = Array(Self.calls(stack).dropFirst(callsBefore))
        let redeploy = "fly deploy --app dialectic-test --image registry.fly.io/dialectic-test:\(label)"
        #expect(rollbackCalls.contains(redeploy), "previous image redeployed: \(rollbackCalls)")
        // The last one: preflight's rehearsal ran the same rollback on the test database first.
        let rollbackTo = try #require(rollbackCalls.lastIndex(of: "mix ecto.rollback --to 20260201090000"), "\(rollbackCalls)")
        #expect(rollbackCalls.firstIndex(of: redeploy)! < rollbackTo)
        #expect(rollbackCalls.filter { $0.hasPrefix("fly status") }.count == 4, "fly status tried 4 times: \(rollbackCalls)")

        let rollbackID = try stack.requireLastRunID()
        let rollback = try stack.show(rollbackID)
        #expect(rollback["kind"] as? String == "rollback")
        #expect(rollback["status"] as? String == "succeeded")
        let failedUp = try #require(rollback["rollback_of"] as? String)
        #expect(try stack.show(failedUp)["status"] as? String == "rolled_back")
        #expect(Self.eventKinds(rollback).contains("backup_restored"))
        let rollbackSteps = Self.steps(rollback)
        for step in ["rollback/undo.fly-deploy", "rollback/undo.ecto-migrate", "verify/health", "verify/deep-health", "verify/security-headers"] {
            #expect(rollbackSteps[step]?["status"] as? String == "succeeded", "\(step): \(rollbackSteps.keys.sorted())")
        }
        let rollbackReport = try Self.report(stack, rollbackID)
        #expect(rollbackReport.contains("| Restored | yes, restored — decided: restore the database"))
        #expect(try pg.snapshot() == before, "the database is as the backup before the release had it")
        let status = try stack.run(["status", "dialectic/prod", "--format", "json"])
        let state = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(state["deployed_revision"] as? String == first, "\(status.stdout)")
        #expect(try stack.stateFiles(containing: pg.password).isEmpty, "the database password leaked into the state directory")
        // pg_dump, psql and the restore ran, and the password stood in none of their argvs.
        let seen = processList.stop()
        #expect(seen.contains { $0.contains("pg_dump -Fc --file") }, "the sampler saw pg_dump (\(processList.sweeps) sweeps)")
        #expect(seen.contains { $0.contains("psql -X -q -v ON_ERROR_STOP=1 --single-transaction") }, "the sampler saw the restore's psql")
        #expect(!seen.contains { $0.contains(pg.password) }, "the database password stood in a process list: \(seen.filter { $0.contains(pg.password) })")

        // Revision 2's migration again (the rollback walked it down; the revision is marked bad,
        // so allowed by name): it exits 0 but logged an [error]. The migrate step fails on the log
        // and nothing ships.
        let logged = try stack.run(["up", "dialectic/prod", "--yes", "--no-rollback", "--allow-bad-revision"] + base + Self.inputs(["db_rollback_to": "20260201090000"]),
                                   environment: ["STANDIN_FAIL": "mix-ecto-migrate-logs-error"])
        #expect(logged.status == 1 && logged.stdout.contains("✗ migrate/ecto-migrate"), "\(logged.stdout)\(logged.stderr)")
        #expect(logged.stdout.contains("[error] Postgrex.Protocol") && logged.stdout.contains("== Migrated 20260201090000"), "exit 0, an error logged: \(logged.stdout)")
        #expect(!logged.stdout.contains("▶ deploy/"), "nothing deployed: \(logged.stdout)")

        // A fly.toml with 1 GB machines, a /health check once a minute and DATABASE_SSL 'true'
        // where this database has none: refused in preflight.
        let smaller = Self.flyToml.replacingOccurrences(of: "memory = '4gb'", with: "memory = '1gb'").replacingOccurrences(of: "interval = '30s'", with: "interval = '1m'")
            .replacingOccurrences(of: "LLM_PROVIDER = 'google'", with: "LLM_PROVIDER = 'google'\n  DATABASE_SSL = 'true'")
        try stack.git.commit("Smaller machines, fewer checks", files: ["fly.toml": smaller])
        // And PHX_HOST set nowhere (not in [env], no such Fly secret), LLM_PROVIDER in both.
        let undersized = try stack.run(["up", "dialectic/prod", "--yes", "--parallel", "16"] + base + Self.inputs(["db_rollback_to": "20260201090000"]),
                                       environment: ["STANDIN_FLY_SECRETS": "DATABASE_URL,SECRET_KEY_BASE,GOOGLE_API_KEY,LLM_PROVIDER",
                                                     "STANDIN_FLY_SNAPSHOT_AGE_HOURS": "50", "STANDIN_FLY_SNAPSHOT_RETENTION": "1"])
        #expect(undersized.status == 1 && undersized.stdout.contains("✗ preflight/fly-toml"), "\(undersized.stdout)")
        #expect(undersized.stdout.contains("FAIL VM memory: 1gb (at least 4096 MB"), "\(undersized.stdout)")
        #expect(undersized.stdout.contains("FAIL health check on /health every 30 s or more often: '1m'"), "\(undersized.stdout)")
        #expect(undersized.stdout.contains("✗ preflight/fly-env-settings") && undersized.stdout.contains("FAIL PHX_HOST: neither in fly.toml [env] nor a Fly secret"),
                "\(undersized.stdout)")
        #expect(undersized.stdout.contains("FAIL DATABASE_SSL: [env] 'true' (expected 'false')"), "\(undersized.stdout)")
        #expect(undersized.stdout.contains("FAIL LLM_PROVIDER: in fly.toml [env] ('google') and a Fly secret: keep one"), "\(undersized.stdout)")
        // And database snapshots that stopped two days ago, kept one day.
        #expect(undersized.stdout.contains("✗ preflight/db-snapshots")
                && undersized.stdout.contains("snapshots kept 1 days (at least 5); newest snapshot 50 h old (at most 26)"), "\(undersized.stdout)")
        #expect(!undersized.stdout.contains("▶ migrate/"), "nothing migrated: \(undersized.stdout)")

        // A machine caught started, its checks passing, between two restarts: its unrequested exits
        // since the launch make it a crash loop; the stop and start someone asked for does not
        // (the deploy's fly-status step runs this script).
        let healthy = RepositoryFiles.root.appendingPathComponent("stacks/dialectic/bin/fly-healthy.py").path
        var restarting = stack.environment
        restarting["STANDIN_FAIL"] = "fly-status-restarting"
        let looping = try Shell.capture("python3", [healthy, "--app", "dialectic-test"], environment: restarting)
        #expect(looping.status == 1 && looping.stdout.contains("state=started checks=1/1 passing, 3 exit(s) recorded, 2 unrequested since its last launch (a crash loop)"),
                "\(looping.stdout)\(looping.stderr)")
        #expect(try Shell.capture("python3", [healthy, "--app", "dialectic-test"], environment: stack.environment).status == 0)
        // A loop so long that the launch is no longer among the events fly lists.
        restarting["STANDIN_FAIL"] = "fly-status-long-loop"
        let longLoop = try Shell.capture("python3", [healthy, "--app", "dialectic-test"], environment: restarting)
        #expect(longLoop.status == 1 && longLoop.stdout.contains("10 exit(s) recorded, 10 unrequested since its last launch (a crash loop)"),
                "\(longLoop.stdout)\(longLoop.stderr)")


        // Back to the sized machines; the new release runs five 150 ms statements as it starts:
        // deployed, but postdeploy names the slow statement. Only the release's count: the
        // earlier runs' statements, and the migrations', are in the snapshot taken before it ships.
        try stack.git.commit("Back to the sized machines", files: ["fly.toml": Self.flyToml])
        for _ in 0..<5 { try pg.psql("SELECT pg_sleep(0.15)", database: "app") }   // before the run: not counted
        let slowRelease = try stack.run(["up", "dialectic/prod", "--yes", "--parallel", "16"] + base + Self.inputs(["db_rollback_to": "20260201090000"]),
                                        environment: ["STANDIN_FAIL": "fly-deploy-slow-queries"])
        #expect(slowRelease.status == 1 && slowRelease.stdout.contains("✓ deploy/db-queries-snapshot") && slowRelease.stdout.contains("✗ postdeploy/db-queries-fast"),
                "\(slowRelease.stdout)\(slowRelease.stderr)")
        #expect(slowRelease.stdout.contains("db-queries-fast │ waiting 1 s for the new release's traffic")
                && slowRelease.stdout.contains(/db-queries-fast │ SLOW 1[5-9]\d\.\d ms mean over 5 calls: SELECT pg_sleep\(\$1\)/),
                "\(slowRelease.stdout)")
        // The same statements before the release ships (as a migration would run them) pass.
        for _ in 0..<5 { try pg.psql("SELECT pg_sleep(0.15)", database: "app") }
        let quick = try stack.run(["up", "dialectic/prod", "--yes", "--parallel", "16"] + base + Self.inputs(["db_rollback_to": "20260201090000"]))
        #expect(quick.stdout.contains("✓ postdeploy/db-queries-fast"), "\(quick.stdout)")

        // Fly secrets whose values on the machines are not the intended ones, and SSL off for a
        // database reached over the internet: refused (the step's own command, from the plan).
        var wrongValues = stack.environment
        wrongValues["STANDIN_FLY_MACHINE_ENV"] = #"{"PHX_HOST": "example.com"}"#
        wrongValues["DATABASE_URL"] = "postgresql://app:\(pg.password)@db.example.com:5432/app"
        let flyEnv = try Self.planArgv(stack, "dialectic/prod", "preflight/fly-env-settings", base + Self.inputs(["db_rollback_to": "20260201090000"]))
        let wrongEnv = try Shell.capture(flyEnv[0], Array(flyEnv.dropFirst()), environment: wrongValues, directory: stack.git.path)
        #expect(wrongEnv.status == 1, "\(wrongEnv.stdout)\(wrongEnv.stderr)")
        for line in ["FAIL PHX_HOST: a Fly secret, 'example.com' on a running machine (expected '127.0.0.1')",
                     "FAIL DATABASE_SSL: a Fly secret, but a running machine does not have it (Error: ssh shell: Process exited with status 1)",
                     "FAIL DATABASE_SSL false: the database host db.example.com is not local", "ok   LLM_PROVIDER: [env] 'google'"] {
            #expect(wrongEnv.stdout.contains(line), "missing: \(line)\n\(wrongEnv.stdout)")
        }
        #expect(!wrongEnv.stdout.contains(pg.password) && !wrongEnv.stderr.contains(pg.password))

        // Monitoring Setup, read from the APIs by the step's own command (from the plan): an
        // alert missing, at another threshold or window, failing to evaluate or watching another
        // instance, a /health probe once a minute and a route that sends nowhere each fail it;
        // so do alerts that look right but mean something else, and alerts without data.
        let healthURL = "https://\(web.authority)/health"
        func monitored(_ routes: [String: SeedWebServer.Route]) throws -> Shell.Result {
            let server = try SeedWebServer(routes: routes)
            let bundle = try Self.caBundle([web, server], at: stack.state.path + "/monitoring-cas-\(server.port).pem")
            let argv = try Self.planArgv(stack, "dialectic/prod", "postdeploy/monitoring-alerts",
                                         base + Self.inputs(["db_rollback_to": "20260201090000", "monitoring_url": "https://\(server.authority)",
                                                             "alertmanager_url": "https://\(server.authority)", "ca_file": bundle]))
            return try Shell.capture(argv[0], Array(argv.dropFirst()), environment: stack.environment, directory: stack.git.path)
        }
        let monitoredWell = try monitored(Self.monitoringRoutes(health: healthURL, rules: [
            // A percentage form of the pool alert means the same.
            "DialecticDatabasePoolSaturated": ["query": "100 * max(dialectic_repo_pool_busy / dialectic_repo_pool_size) > 80"]]))
        #expect(monitoredWell.status == 0 && monitoredWell.stdout.components(separatedBy: "OK   ").count == 7, "\(monitoredWell.stdout)\(monitoredWell.stderr)")
        let drifted = try monitored(Self.monitoringRoutes(health: healthURL, interval: "1m", rules: [
            "DialecticHigh5xxRate": [:],
            "DialecticRateLimitViolations": ["query": #"sum(increase(phoenix_http_requests_total{status="429"}[5m])) > 500"#],
            "DialecticDatabasePoolSaturated": ["health": "err", "lastError": "many-to-many matching not allowed"],
            "DialecticHealthCheckFailing": ["query": #"probe_success{instance="https://other.example/health"} == 0"#],
        ], receiver: "  webhook_configs: []\n"))
        #expect(drifted.status == 1, "\(drifted.stdout)\(drifted.stderr)")
        for line in ["FAIL alert DialecticHigh5xxRate: no alerting rule named 'DialecticHigh5xxRate'",
                     "FAIL alert DialecticRateLimitViolations: no comparison > 100; no [1h] window in: ",
                     "FAIL alert DialecticDatabasePoolSaturated: DialecticDatabasePoolSaturated does not evaluate (err: many-to-many matching not allowed)",
                     "FAIL health monitoring: blackbox-health probing \(healthURL) every 1m (at most 30 s)",
                     "FAIL health alert DialecticHealthCheckFailing: selects another instance than \(healthURL)",
                     "FAIL alert channels: receiver 'oncall' of the route tree sends nowhere (no non-empty *_configs)"] {
            #expect(drifted.stdout.contains(line), "missing: \(line)\n\(drifted.stdout)")
        }
        #expect(!drifted.stdout.contains("OK "), "\(drifted.stdout)")
        let misread = try monitored(Self.monitoringRoutes(health: healthURL, rules: [
            "DialecticHigh5xxRate": ["query": #"sum(rate(phoenix_http_requests_total{status=~"5.."}[5m])) > 0.01"#],
            "DialecticRateLimitViolations": ["query": #"sum(rate(phoenix_http_requests_total{status="429"}[1h])) > 100"#],
            "DialecticHealthCheckFailing": ["query": #"probe_success{instance="\#(healthURL)"} == 1"#],
        ], receiver: "  email_configs: []\n"))
        for line in ["FAIL alert DialecticHigh5xxRate: is not a ratio (no /): a count is not a share",
                     "FAIL alert DialecticRateLimitViolations: counts with neither increase() nor *_over_time() (rate() is per second, not per 1h)",
                     "FAIL health alert DialecticHealthCheckFailing: does not fire on a failed probe",
                     "FAIL alert channels: receiver 'oncall' of the route tree sends nowhere"] {
            #expect(misread.status == 1 && misread.stdout.contains(line), "missing: \(line)\n\(misread.stdout)")
        }
        let unfed = try monitored(Self.monitoringRoutes(health: healthURL, series: false))
        #expect(unfed.status == 1 && unfed.stdout.contains(#"FAIL alert DialecticHigh5xxRate: no series of phoenix_http_requests_total{status=~"5.."}: it can never fire"#)
                && unfed.stdout.contains("no series of dialectic_repo_pool_busy, dialectic_repo_pool_size"), "\(unfed.stdout)\(unfed.stderr)")
    }

    // MARK: - 3. mail-service/staging: up, and its triage runbooks

    @Test func mailServiceStagingRestartsAndItsRunbooksReport() throws {
        let state = try RedisFixture()
        let streams = try RedisFixture()
        let password = Self.secret("redis", length: 24)
        for redis in [state, streams] {
            try redis.cli(["CONFIG", "SET", "requirepass", password])
            try redis.cli(["-a", password, "--no-auth-warning", "CONFIG", "RESETSTAT"])
        }
        let stack = try Self.stack("mail-service", target: "staging")
        let run = try Self.mailServiceDirectory(stack)
        defer { Self.stopMailService(run) }
        stack.environment["MAIL_REDIS_PASSWORD"] = password
        let httpPort = ServerProcess.freePort()
        let (collector, otel) = try Self.otelCollector()
        defer { withExtendedLifetime(collector) {} }
        // mail.provider.send.duration_ms p95: 120 ms.
        let prometheus = try Self.prometheus("120")
        let inputs = Self.inputs(["binary": RepositoryFiles.standIns + "/mail-service", "pid_file": run + "/mail-service.pid",
                                  "log_file": run + "/mail-service.log", "max_redis_latency_ms": "1000", "redis_host": "127.0.0.1", "redis_port": "\(state.port)",
                                  "stream_redis_host": "127.0.0.1", "stream_redis_port": "\(streams.port)",
                                  "template_dir": run + "/templates", "internal_http_port": "\(httpPort)", "shutdown_timeout": "5s",
                                  "otel_endpoint": otel, "prometheus_url": "http://\(prometheus.authority)"])

        let up = try stack.run(["up", "mail-service/staging", "--yes"] + inputs)
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        #expect(up.stdout.contains("redis-ping-state-client │ PONG"))
        #expect(up.stdout.contains("redis-ping-stream-client │ PONG"))
        for step in ["deploy/canary-start", "deploy/restart-service", "verify/startup-logs", "verify/internal-http-accepts-tcp", "verify/smoke-request",
                     "verify/http-logs-carry-trace-ids", "preflight/otel-collector-reachable", "verify/otel-endpoint-in-process",
                     "preflight/template-catalog-read-only", "verify/template-dir-in-process", "verify/redis-settings-in-process",
                     "postdeploy/dead-letter-count", "postdeploy/orderly-shutdown",
                     "postdeploy/dead-letters-recent", "postdeploy/dead-letters-after-ladder", "postdeploy/malformed-since-deploy"] {
            #expect(up.stdout.contains("✓ \(step) "), "\(step): \(up.stdout)")
        }
        #expect(up.stdout.contains("orderly-shutdown │ no process was stopped by the last restart here"), "\(up.stdout)")
        #expect(up.stdout.contains("canary-start │ the new binary and template catalog start"), "\(up.stdout)")
        let canaryAt = try #require(up.stdout.range(of: "✓ deploy/canary-start"))
        let restartAt = try #require(up.stdout.range(of: "▶ deploy/restart-service"))
        #expect(canaryAt.lowerBound < restartAt.lowerBound, "proved before the old process is stopped")
        // The trace-id check read this run's own request line.
        let upRunID = try stack.requireLastRunID()
        #expect(up.stdout.contains("http-logs-carry-trace-ids │") && up.stdout.contains("does-not-exist-\(upRunID) "), "\(up.stdout)")
        // Both Redis servers were PINGed (preflight and the service's own startup), each with the password.
        for (name, redis) in [("state", state), ("stream", streams)] {
            let stats = try redis.cli(["-a", password, "--no-auth-warning", "INFO", "commandstats"])
            let pings = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_ping:calls=") }
            #expect(pings.flatMap { Int($0.dropFirst("cmdstat_ping:calls=".count).prefix { $0.isNumber }) }.map { $0 >= 2 } == true,
                    "\(name) Redis: \(stats)")
        }
        // The command consumer's group is on the stream client's Redis only.
        #expect(try streams.cli(["-a", password, "--no-auth-warning", "XINFO", "GROUPS", "mail:delivery_commands"]).contains("mail-service"))
        #expect(try state.cli(["-a", password, "--no-auth-warning", "EXISTS", "mail:delivery_commands"]) == "0")
        let pid = try #require(Int32(try String(contentsOfFile: run + "/mail-service.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0, "the service runs after the deploy")
        #expect(ServerProcess.listening(httpPort))
        let upID = try stack.requireLastRunID()
        let upRun = try stack.show(upID)
        #expect(upRun["status"] as? String == "succeeded")
        #expect(Self.steps(upRun)["verify/internal-http-accepts-tcp"]?["status"] as? String == "succeeded")
        #expect(try Self.report(stack, upID).contains("The Redis TLS and timeout settings match the target environment"))

        // A clean runbook: exit 0, every check passed.
        let clean = try stack.run(["runbook", "mail-service/staging", "schedule-backlog"] + inputs)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("all 9 checks passed"), "\(clean.stdout)")
        #expect(clean.stdout.contains("send-duration-p95 │   (all): 120 (bound 7500)"), "\(clean.stdout)")
        #expect(clean.stdout.contains("(read-only, no lock taken)"))
        #expect(clean.stdout.contains("MAIL_ATTEMPT_WORKER_CONCURRENCY=8"), "the running process's setting: \(clean.stdout)")
        let cleanID = try stack.requireLastRunID()
        #expect(try stack.show(cleanID)["kind"] as? String == "runbook")

        // The same runbook over a slow path to Redis (each chunk delayed 40 ms: a round trip of
        // at least 80 ms against the seed's bound of 50): the attempt-schedule keys' latency is
        // the one finding. (The other runs here allow 1000 ms: a loaded CI machine can stretch a
        // round trip past 50 ms by itself.)
        let control = try TemporaryDirectory.file(prefix: "proxy")
        try "delay 40".write(to: control, atomically: true, encoding: .utf8)
        let slowPort = ServerProcess.freePort()
        let proxy = try ServerProcess(["python3", RepositoryFiles.root.appendingPathComponent("Tests/scripts/tcp-proxy.py").path,
                                       "\(slowPort)", "\(state.port)", control.path], name: "tcp-proxy")
        try proxy.wait { ServerProcess.listening(slowPort) }
        let slow = try stack.run(["runbook", "mail-service/staging", "schedule-backlog"] + inputs + Self.inputs(["redis_port": "\(slowPort)", "max_redis_latency_ms": "50"]))
        #expect(slow.status == 1 && slow.stdout.contains("1 of 9 checks found something: schedule-key-latency"), "\(slow.stdout)\(slow.stderr)")
        #expect(slow.stdout.contains("mail:attempt_schedule: ZCARD + ZRANGE round trip p50 "), "\(slow.stdout)")
        withExtendedLifetime(proxy) {}

        // Sends slower than the bound (a p95 of 9 s), then none at all (NaN): each is the finding.
        let slowSends = try Self.prometheus("9000")
        let elevated = try stack.run(["runbook", "mail-service/staging", "schedule-backlog"] + inputs + Self.inputs(["prometheus_url": "http://\(slowSends.authority)"]))
        #expect(elevated.status == 1 && elevated.stdout.contains("1 of 9 checks found something: send-duration-p95")
                && elevated.stdout.contains("(all): 9000 (bound 7500)"), "\(elevated.stdout)\(elevated.stderr)")
        let noSends = try Self.prometheus("NaN")
        let query = RepositoryFiles.root.appendingPathComponent("stacks/mail-service/bin/prom-query.py").path
        let unmeasured = try Shell.capture("python3", [query, "http://\(noSends.authority)", "histogram_quantile(0.95, x)", "7500"])
        #expect(unmeasured.status == 1 && unmeasured.stdout.contains("(all): NaN: no samples in the window"), "\(unmeasured.stdout)\(unmeasured.stderr)")

        // A malformed command stored by the service: the malformed-commands runbook finds it.
        try state.cli(["-a", password, "--no-auth-warning", "XADD", "mail:malformed_commands", "*", "failure_code", "invalid_payload_mode",
                       "delivery_id", "d-4711", "source", "billing", "stream_entry_id", "1700000000000-0"])
        let finding = try stack.run(["runbook", "mail-service/staging", "malformed-commands"] + inputs)
        #expect(finding.status == 1, "\(finding.stdout)\(finding.stderr)")
        #expect(finding.stdout.contains("1 of 5 checks found something: malformed-count"), "\(finding.stdout)")
        #expect(finding.stdout.contains("  ✗ malformed-count"))
        #expect(finding.stdout.contains("  ✓ consumer-group"), "the service created its consumer group: \(finding.stdout)")
        #expect(finding.stdout.contains("invalid_payload_mode"), "the record is shown: \(finding.stdout)")
        #expect(finding.stdout.contains("the producer must send canonical payload_mode"))
        let findingID = try stack.requireLastRunID()
        let md = try Self.report(stack, findingID)
        #expect(md.hasPrefix("# mail-service/staging runbook malformed-commands — FINDINGS"), "\(md.prefix(200))")
        #expect(md.contains("### ❌ runbook/malformed-count"))

        // Runbooks take no lock and change nothing deployed: the up's run took one, they did not.
        let journalLocks = { (id: String) in
            try Shell.run("sqlite3", [stack.journal, "SELECT count(*) FROM events WHERE run_id = '\(id)' AND kind LIKE 'lock%'"])
        }
        #expect(try journalLocks(upID) != "0")
        #expect(try journalLocks(cleanID) == "0")
        #expect(try journalLocks(findingID) == "0")
        let status = try stack.run(["status", "mail-service/staging", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(object["deployed_revision"] as? String == (try stack.git.git(["rev-parse", "HEAD"])))
        #expect(kill(pid, 0) == 0, "the runbooks left the service alone")

        // A template catalog that does not load: the canary says so and the running process is
        // never stopped (same pid, still listening).
        try FileManager.default.createDirectory(atPath: run + "/templates-broken", withIntermediateDirectories: true)
        try "Subject: {{ .Code\n".write(toFile: run + "/templates-broken/auth-code.tmpl", atomically: true, encoding: .utf8)
        chmod(run + "/templates-broken/auth-code.tmpl", 0o444)
        chmod(run + "/templates-broken", 0o555)
        let broken = try stack.run(["up", "mail-service/staging", "--yes", "--no-rollback"] + inputs + Self.inputs(["template_dir": run + "/templates-broken"]))
        #expect(broken.status == 1, "\(broken.stdout)\(broken.stderr)")
        #expect(broken.stdout.contains("✗ deploy/canary-start") && broken.stdout.contains("nothing was restarted"), "\(broken.stdout)")
        #expect(broken.stdout.contains("unbalanced"), "the canary's log says why: \(broken.stdout)")
        #expect(!broken.stdout.contains("▶ deploy/restart-service"), "\(broken.stdout)")
        #expect(kill(pid, 0) == 0 && ServerProcess.listening(httpPort), "the old process still serves")
        #expect(try String(contentsOfFile: run + "/mail-service.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "\(pid)")

        // A collector that does not answer: preflight stops before anything is stopped.
        let dark = try stack.run(["up", "mail-service/staging", "--yes"] + inputs + Self.inputs(["otel_endpoint": "http://127.0.0.1:\(ServerProcess.freePort())"]))
        #expect(dark.status == 1 && dark.stdout.contains("✗ preflight/otel-collector-reachable"), "\(dark.stdout)")
        #expect(!dark.stdout.contains("▶ deploy/") && kill(pid, 0) == 0, "nothing was restarted: \(dark.stdout)")

        // A component that logs its own failure ("scheduler failed to start") is not started: the
        // canary's startup check says which line is missing, and the running process stays.
        let schedulerDown = try stack.run(["up", "mail-service/staging", "--yes", "--no-rollback"] + inputs,
                                          environment: ["STANDIN_FAIL": "mail-service-scheduler", "MAIL_SERVICE_ENV_PASS": "STANDIN_FAIL", "MAIL_STARTUP_TIMEOUT": "3s"])
        #expect(schedulerDown.status == 1 && schedulerDown.stdout.contains("no startup log line mentioning 'scheduler'"), "\(schedulerDown.stdout)")
        #expect(kill(pid, 0) == 0, "the old process still serves")

        // A release whose request lines carry all-zero ids (no tracer provider) has the field
        // names but no trace: verify says so. (This process will also close Redis before its
        // listener stops: the next restart's postdeploy finds that.)
        let untraced = try stack.run(["up", "mail-service/staging", "--yes", "--no-rollback"] + inputs,
                                     environment: ["STANDIN_FAIL": "mail-service-no-tracer mail-service-shutdown-order", "MAIL_SERVICE_ENV_PASS": "STANDIN_FAIL"])
        #expect(untraced.status == 1 && untraced.stdout.contains("✗ verify/http-logs-carry-trace-ids"), "\(untraced.stdout)")
        #expect(untraced.stdout.contains("otel_trace_id=00000000000000000000000000000000"), "the line is shown: \(untraced.stdout)")

        // A schedule past its bound fails postdeploy with the number (it does not roll back: a
        // backlog is not the release's doing by itself).
        // Two dead letters in the last hour against a bound of one, and a release that stores a
        // command as malformed once it runs: both postdeploy counts fail (the malformed record
        // stored before this run, above, is not counted).
        try state.cli(["-a", password, "--no-auth-warning", "ZADD", "mail:attempt_schedule", "1", "a", "2", "b", "3", "c"])
        for delivery in ["d-1", "d-2"] {
            try state.cli(["-a", password, "--no-auth-warning", "XADD", "mail:dead_letters", "*", "delivery_id", delivery, "reason", "retry_ladder_exhausted"])
        }
        let backlog = try stack.run(["up", "mail-service/staging", "--yes", "--parallel", "8"] + inputs
                                    + Self.inputs(["max_schedule_depth": "2", "max_recent_dead_letters": "1"]),
                                    environment: ["STANDIN_FAIL": "mail-service-rejects-commands", "MAIL_SERVICE_ENV_PASS": "STANDIN_FAIL"])
        #expect(backlog.status == 1 && backlog.stdout.contains("✗ postdeploy/schedule-depth"), "\(backlog.stdout)")
        #expect(backlog.stdout.contains("✗ postdeploy/schedule-overdue"), "the entries are due in 1970: \(backlog.stdout)")
        #expect(backlog.stdout.contains("scheduled attempts: 3 (bound 2)"), "\(backlog.stdout)")
        #expect(backlog.stdout.contains("✗ postdeploy/orderly-shutdown"), "the process it stopped closed Redis first: \(backlog.stdout)")
        #expect(backlog.stdout.contains("'redis clients closed' was logged before 'internal http listener stopped'"), "\(backlog.stdout)")
        #expect(backlog.stdout.contains("✗ postdeploy/dead-letters-recent") && backlog.stdout.contains("mail:dead_letters: more than 1 entries since the last 1h (bound 1)"),
                "\(backlog.stdout)")
        #expect(backlog.stdout.contains("✗ postdeploy/malformed-since-deploy") && backlog.stdout.contains("mail:malformed_commands: more than 0 entries since run "),
                "\(backlog.stdout)")
        #expect(backlog.stdout.contains("failure_code=unsupported_locale") && !backlog.stdout.contains("failure_code=invalid_payload_mode"),
                "only the record stored during the run: \(backlog.stdout)")

        // The same entries are long overdue (their due times are 1970): the backlog runbook finds
        // that, and — reading a log whose last scheduler line is an hour old — a silent scheduler
        // (and no startup lines in it for workers-running), and nothing else.
        let stale = run + "/stale.log"
        let hourAgo = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3600))
        try "time=\(hourAgo) level=INFO msg=\"scheduler tick\" due=0 depth=0\n".write(toFile: stale, atomically: true, encoding: .utf8)
        let overdue = try stack.run(["runbook", "mail-service/staging", "schedule-backlog"] + inputs + Self.inputs(["log_file": stale]))
        #expect(overdue.status == 1, "\(overdue.stdout)\(overdue.stderr)")
        #expect(overdue.stdout.contains("4 of 9 checks found something: scheduler-logging, oldest-scheduled-attempt, workers-running, workers-not-blocked-on-smtp"),
                "\(overdue.stdout)")
        #expect(overdue.stdout.contains("no attempt worker pool activity in the last 1 lines"), "\(overdue.stdout)")
        // A log whose worker pool is busy and whose attempts time out on SMTP now: blocked.
        let blockedLog = run + "/blocked.log"
        let now = ISO8601DateFormatter().string(from: Date())
        try ("time=\(now) level=INFO msg=\"scheduler tick\" due=3 depth=3\n"
             + "time=\(now) level=INFO msg=\"attempt worker pool\" busy=8 idle=0\n"
             + "time=\(now) level=WARN msg=\"attempt failed\" status=timed_out error=\"smtp: i/o timeout\"\n")
            .write(toFile: blockedLog, atomically: true, encoding: .utf8)
        let blocked = try stack.run(["runbook", "mail-service/staging", "schedule-backlog"] + inputs + Self.inputs(["log_file": blockedLog]))
        #expect(blocked.status == 1 && blocked.stdout.contains("workers-not-blocked-on-smtp")
                && blocked.stdout.contains("attempts timed out in the last 10 minutes: 1"), "\(blocked.stdout)")
        #expect(!blocked.stdout.contains("✗ scheduler-logging"), "the scheduler is active in that log: \(blocked.stdout)")
        #expect(overdue.stdout.contains("oldest scheduled attempt: a, due "), "\(overdue.stdout)")

        // Someone restarts the service by hand with its environment but another exporter endpoint:
        // `check` (verify of what is deployed) finds the setting the process really runs with.
        let running = try #require(Int32(try String(contentsOfFile: run + "/mail-service.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var environment: [String: String] = [:]
        for entry in try Data(contentsOf: URL(fileURLWithPath: "/proc/\(running)/environ")).split(separator: 0) {
            let pair = String(decoding: entry, as: UTF8.self).split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { environment[pair[0]] = pair[1] }
        }
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318"
        let supervise = RepositoryFiles.root.appendingPathComponent("stacks/mail-service/bin/supervise.py").path
        try Shell.run("python3", [supervise, "restart"], environment: environment)
        let drifted = try stack.run(["check", "mail-service/staging"])
        #expect(drifted.status == 1 && drifted.stdout.contains("✗ verify/otel-endpoint-in-process"), "\(drifted.stdout)")
        #expect(drifted.stdout.contains("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 (intended \(otel))"), "\(drifted.stdout)")
        // The same with the right endpoint but a copy of the catalog someone edited.
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otel
        try FileManager.default.createDirectory(atPath: run + "/templates-edited", withIntermediateDirectories: true)
        try "Subject: Your code!\n\n{{ .Code }}\n".write(toFile: run + "/templates-edited/auth-code.tmpl", atomically: true, encoding: .utf8)
        environment["MAIL_TEMPLATE_DIR"] = run + "/templates-edited"
        try Shell.run("python3", [supervise, "restart"], environment: environment)
        let edited = try stack.run(["check", "mail-service/staging"])
        #expect(edited.status == 1 && edited.stdout.contains("✓ verify/otel-endpoint-in-process") && edited.stdout.contains("✗ verify/template-dir-in-process"),
                "\(edited.stdout)")
        #expect(edited.stdout.contains("MAIL_TEMPLATE_DIR=\(run)/templates-edited (intended \(run)/templates)"), "\(edited.stdout)")
        // The intended catalog again, but the stream client pointed at the state Redis (it
        // answers too: nothing else notices).
        environment["MAIL_TEMPLATE_DIR"] = run + "/templates"
        environment["MAIL_REDIS_STREAM_ADDR"] = "127.0.0.1:\(state.port)"
        try Shell.run("python3", [supervise, "restart"], environment: environment)
        let rewired = try stack.run(["check", "mail-service/staging"])
        #expect(rewired.status == 1 && rewired.stdout.contains("✓ verify/template-dir-in-process") && rewired.stdout.contains("✗ verify/redis-settings-in-process")
                && rewired.stdout.contains("MAIL_REDIS_STREAM_ADDR=127.0.0.1:\(state.port) (intended 127.0.0.1:\(streams.port))")
                && rewired.stdout.contains("MAIL_REDIS_ADDR=127.0.0.1:\(state.port) (intended 127.0.0.1:\(state.port))"), "\(rewired.stdout)")

        // A catalog that can be edited in place is refused before anything restarts.
        chmod(run + "/templates/auth-code.tmpl", 0o644)
        let writable = try stack.run(["up", "mail-service/staging", "--yes"] + inputs)
        #expect(writable.status == 1 && writable.stdout.contains("✗ preflight/template-catalog-read-only"), "\(writable.stdout)")
        #expect(writable.stdout.contains("writable (mode 644): \(run)/templates/auth-code.tmpl"), "\(writable.stdout)")
        #expect(!writable.stdout.contains("▶ deploy/"), "nothing was restarted")
    }

    // MARK: - 4. mailglass/prod: the go-live gate

    @Test func mailServiceProdChecksSubmissionBeforeRestartingAndItsSMTPRunbookFindsAnOutage() throws {
        let state = try RedisFixture()
        let streams = try RedisFixture()
        let password = Self.secret("redis", length: 24)
        for redis in [state, streams] { try redis.cli(["CONFIG", "SET", "requirepass", password]) }
        let smtpPassword = Self.secret("smtp", length: 24)
        let smtp = try SMTPFixture(password: smtpPassword)
        let (collector, otel) = try Self.otelCollector()
        defer { withExtendedLifetime(collector) {} }
        let stack = try Self.stack("mail-service", target: "prod")
        stack.environment["MAIL_REDIS_PASSWORD"] = password
        let run = try Self.mailServiceDirectory(stack)
        defer { Self.stopMailService(run) }
        stack.environment["MAIL_SMTP_PASSWORD"] = smtpPassword
        // curl trusts the test server's self-signed certificate the way an operator's CA bundle would.
        stack.environment["CURL_CA_BUNDLE"] = smtp.certificate
        let prometheus = try Self.prometheus("250")
        let inputs = Self.inputs(["binary": RepositoryFiles.standIns + "/mail-service", "pid_file": run + "/mail-service.pid",
                                  "log_file": run + "/mail-service.log", "max_redis_latency_ms": "1000", "redis_host": "127.0.0.1", "redis_port": "\(state.port)",
                                  "stream_redis_host": "127.0.0.1", "stream_redis_port": "\(streams.port)",
                                  "template_dir": run + "/templates", "internal_http_port": "\(ServerProcess.freePort())",
                                  "shutdown_timeout": "5s", "smtp_addr": "127.0.0.1:\(smtp.port)",
                                  "smtp_from": "noreply@example.test", "smtp_username": smtp.user, "otel_endpoint": otel,
                                  "smtp_probe_rcpt": "deliverability@example.test", "smtp_timeout": "3s",
                                  "prometheus_url": "http://\(prometheus.authority)"])

        // A wrong password is caught before anything is restarted.
        stack.environment["MAIL_SMTP_PASSWORD"] = Self.secret("wrong", length: 24)
        let denied = try stack.run(["up", "mail-service/prod", "--yes"] + inputs)
        #expect(denied.status == 1, "\(denied.stdout)\(denied.stderr)")
        #expect(denied.stdout.contains("✗ preflight/smtp-auth-accepted"), "\(denied.stdout)")
        #expect(denied.stdout.contains("Login denied"), "curl says why: \(denied.stdout)")
        #expect(!denied.stdout.contains("▶ deploy/"), "nothing was deployed")

        stack.environment["MAIL_SMTP_PASSWORD"] = smtpPassword
        // A sender identity the account may not use logs in fine, MAIL FROM too; RCPT TO refuses it.
        let stranger = try stack.run(["up", "mail-service/prod", "--yes"] + inputs + Self.inputs(["smtp_from": "billing@example.test"]))
        #expect(stranger.status == 1, "\(stranger.stdout)\(stranger.stderr)")
        #expect(stranger.stdout.contains("✓ preflight/smtp-auth-accepted") && stranger.stdout.contains("✗ preflight/smtp-sender-accepted"), "\(stranger.stdout)")
        #expect(stranger.stdout.contains("RCPT TO:<deliverability@example.test> as mail-service: 553 5.7.1 <billing@example.test>: sender address not allowed"),
                "the server's answer: \(stranger.stdout)")
        #expect(!stranger.stdout.contains("▶ deploy/"), "nothing was deployed")

        let up = try stack.run(["up", "mail-service/prod", "--yes"] + inputs)
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        for step in ["preflight/smtp-starttls", "preflight/smtp-auth-accepted", "preflight/smtp-sender-accepted", "preflight/smtp-auth-mechanisms", "deploy/restart-service"] {
            #expect(up.stdout.contains("✓ \(step) "), "\(step): \(up.stdout)")
        }
        // The probe was really submitted: it is in the mailbox, named by the run.
        let upID = try stack.requireLastRunID()
        let mailbox = try String(contentsOfFile: smtp.mailbox, encoding: .utf8)
        #expect(mailbox.contains("Subject: deployctl sender probe \(upID)") && mailbox.contains("To: <deliverability@example.test>"), "\(mailbox)")

        // A provider that judges the sender only after DATA, as SES does: RCPT TO alone (what the
        // step did before) passes a sender it refuses; the probe message finds it.
        let judge = try SMTPFixture(password: smtpPassword, judgeAtData: true)
        let sender = RepositoryFiles.root.appendingPathComponent("stacks/mail-service/bin/smtp-sender.py").path
        let judged = ["MAIL_SMTP_USERNAME": judge.user, "MAIL_SMTP_PASSWORD": smtpPassword, "CURL_CA_BUNDLE": judge.certificate]
        let rcptOnly = try Shell.capture("python3", [sender, "127.0.0.1:\(judge.port)", "billing@example.test"], environment: judged)
        #expect(rcptOnly.status == 0, "RCPT TO cannot tell: \(rcptOnly.stdout)\(rcptOnly.stderr)")
        let refused = try Shell.capture("python3", [sender, "--data", "deliverability@example.test", "127.0.0.1:\(judge.port)", "billing@example.test"],
                                        environment: judged)
        #expect(refused.status == 1 && refused.stdout.contains("DATA (probe to deliverability@example.test) as mail-service: 554 5.7.1 Email address is not verified"),
                "\(refused.stdout)\(refused.stderr)")
        let allowed = try Shell.capture("python3", [sender, "--data", "deliverability@example.test", "127.0.0.1:\(judge.port)", "noreply@example.test"],
                                        environment: judged)
        #expect(allowed.status == 0 && allowed.stdout.contains("DATA (probe to deliverability@example.test) as mail-service: 250"), "\(allowed.stdout)\(allowed.stderr)")

        // The authentication runbook against the running process: clean, then the one finding a
        // sender the account may not use gives.
        let authClean = try stack.run(["runbook", "mail-service/prod", "smtp-auth-failures"] + inputs)
        #expect(authClean.status == 0 && authClean.stdout.contains("  ✓ auth-mechanisms") && authClean.stdout.contains("  ✓ sender-allowed"),
                "\(authClean.stdout)\(authClean.stderr)")
        let authSender = try stack.run(["runbook", "mail-service/prod", "smtp-auth-failures"] + inputs + Self.inputs(["smtp_from": "billing@example.test"]))
        #expect(authSender.status == 1 && authSender.stdout.contains("found something: sender-allowed"), "\(authSender.stdout)")
        // A client configured for a mechanism the server does not offer after STARTTLS.
        let cram = try stack.run(["runbook", "mail-service/prod", "smtp-auth-failures"] + inputs + Self.inputs(["smtp_auth_mechanisms": "CRAM-MD5"]))
        #expect(cram.status == 1 && cram.stdout.contains("found something: auth-mechanisms"), "\(cram.stdout)")
        #expect(cram.stdout.contains("advertises after STARTTLS: AUTH LOGIN PLAIN") && cram.stdout.contains("none of the expected mechanisms (CRAM-MD5)"),
                "\(cram.stdout)")

        // The SMTP runbook: clean while the server answers, a finding once it is gone.
        let clean = try stack.run(["runbook", "mail-service/prod", "dead-letter-spike"] + inputs)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        // The timeouts runbook times a probe submission against the process's MAIL_SMTP_TIMEOUT
        // (3s): quick here; against a server that stalls 2 s before answering DATA, the phase is named.
        let timings = try stack.run(["runbook", "mail-service/prod", "smtp-timeouts"] + inputs)
        #expect(timings.status == 0 && timings.stdout.contains("(MAIL_SMTP_TIMEOUT=3s of the running process)"), "\(timings.stdout)\(timings.stderr)")
        let stalling = try SMTPFixture(password: smtpPassword, stallData: 2)
        let stalled = try stack.run(["runbook", "mail-service/prod", "smtp-timeouts"] + inputs + Self.inputs(["smtp_addr": "127.0.0.1:\(stalling.port)"]),
                                    environment: ["CURL_CA_BUNDLE": stalling.certificate])
        #expect(stalled.status == 1 && stalled.stdout.contains("1 of 5 checks found something: smtp-timing"), "\(stalled.stdout)\(stalled.stderr)")
        #expect(stalled.stdout.contains(/data took 2\.\d s: more than 0\.5 of MAIL_SMTP_TIMEOUT \(3s\), a stall/), "\(stalled.stdout)")
        // Sends observed at a p95 of 2.5 s, against half of the process's 3 s timeout.
        let nearTimeout = try Self.prometheus("2500")
        let slowSends = try stack.run(["runbook", "mail-service/prod", "smtp-timeouts"] + inputs + Self.inputs(["prometheus_url": "http://\(nearTimeout.authority)"]))
        #expect(slowSends.status == 1 && slowSends.stdout.contains("1 of 5 checks found something: send-duration-vs-timeout")
                && slowSends.stdout.contains("bound: 0.5 of MAIL_SMTP_TIMEOUT=3s of the running process")
                && slowSends.stdout.contains("(all): 2500 (bound 1500)"), "\(slowSends.stdout)\(slowSends.stderr)")

        // A release whose attempt worker never yields the CPU, pinned to one CPU with another busy
        // process: the timeouts runbook finds it starved (idle above, it was not judged).
        #expect(timings.stdout.contains("cpu-not-starved │ idle: runnable for under a tenth of the window"), "\(timings.stdout)")
        let busy = try stack.run(["up", "mail-service/prod", "--yes"] + inputs,
                                 environment: ["STANDIN_FAIL": "mail-service-busy", "MAIL_SERVICE_ENV_PASS": "STANDIN_FAIL"])
        #expect(busy.status == 0, "\(busy.stdout)\(busy.stderr)")
        let cpu = try Shell.run("python3", ["-c", "import os; print(min(os.sched_getaffinity(0)))"])
        let servicePID = try String(contentsOfFile: run + "/mail-service.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try Shell.run("taskset", ["-a", "-p", "-c", cpu, servicePID])
        // The service at a lower priority (its threads, and its session's share where the kernel
        // groups by session): the busy process gets most of the CPU when both want it.
        try Shell.run("sh", ["-c", "for t in /proc/\(servicePID)/task/*; do renice -n 10 -p \"${t##*/}\" >/dev/null; done; "
                                   + "if [ -w /proc/\(servicePID)/autogroup ]; then echo 10 > /proc/\(servicePID)/autogroup; fi"])
        var hogs = [try ServerProcess(["taskset", "-c", cpu, "sh", "-c", "while :; do :; done"], name: "cpu-hog")]
        let starved = try stack.run(["runbook", "mail-service/prod", "smtp-timeouts"] + inputs)
        hogs.removeAll()
        #expect(starved.status == 1 && starved.stdout.contains("found something: cpu-not-starved") && starved.stdout.contains("CPU-starved"),
                "\(starved.stdout)\(starved.stderr)")

        // A delivery dead-lettered on its first transport failure, before the retry ladder ran out.
        try state.cli(["-a", password, "--no-auth-warning", "XADD", "mail:dead_letters", "*", "delivery_id", "d-early", "reason", "transport_failed", "attempts", "1"])
        let early = try stack.run(["runbook", "mail-service/prod", "dead-letter-spike"] + inputs)
        #expect(early.status == 1 && early.stdout.contains("found something: dead-letters-after-ladder"), "\(early.stdout)\(early.stderr)")
        #expect(early.stdout.contains("mail:dead_letters: 1 entries since the last 1h, 1 without reason=retry_ladder_exhausted")
                && early.stdout.contains("delivery_id=d-early reason=transport_failed attempts=1"), "\(early.stdout)")
        smtp.stop()
        let outage = try stack.run(["runbook", "mail-service/prod", "dead-letter-spike"] + inputs)
        #expect(outage.status == 1, "\(outage.stdout)\(outage.stderr)")
        #expect(outage.stdout.contains("  ✗ smtp-starttls"), "\(outage.stdout)")
        #expect(outage.stdout.contains("SMTP unreachable or STARTTLS refused"), "the advice is shown: \(outage.stdout)")
        #expect(try stack.stateFiles(containing: smtpPassword).isEmpty, "the SMTP password is never written")
    }

    @Test func mailglassGateChecksDNSAndTheWebhookWiring() throws {
        var dns: DNSFixture? = try DNSFixture()
        let server = try #require(dns?.server)
        let secret = Self.secret("whsec", length: 32)
        let credential = "Basic " + Data("mailglass:\(secret)".utf8).base64EncodedString()
        let web = try SeedWebServer(tls: false, routes: ["POST /webhooks/postmark": .init(200, body: "ok\n", authorization: credential)])
        let stack = try Self.stack("mailglass", target: "prod", extra: [
            "mix.exs": "defmodule Hostapp.MixProject do\n  use Mix.Project\n  def project, do: [app: :hostapp, version: \"0.1.0\"]\nend\n",
            "lib/hostapp_web/endpoint.ex": """
                defmodule HostappWeb.Endpoint do
                  use Phoenix.Endpoint, otp_app: :hostapp
                  plug Plug.Parsers,
                    parsers: [:urlencoded, :multipart, :json],
                    body_reader: {Mailglass.Webhook.CachingBodyReader, :read_body, []},
                    json_decoder: Jason
                end
                """,
            "config/prod.exs": "import Config\nconfig :hostapp, HostappWeb.Endpoint, url: [host: \"example.test\"]\n",
            "config/runtime.exs": "import Config\nconfig :mailglass, webhook_secret: System.fetch_env!(\"POSTMARK_WEBHOOK_PASSWORD\")\n",
            "config/config.exs": Self.obanConfig("queues: [default: 5, mailglass: 10]"),
            "lib/hostapp/telemetry.ex": Self.telemetryModule(events: ["[:mailglass, :outbound, :dispatch, :exception]",
                                                                      "[:mailglass, :webhook, :reconcile, :exception]"]),
        ])
        stack.environment["MAILGLASS_WEBHOOK_SECRET"] = secret
        let inputs = Self.inputs(["domain": "example.test", "dns_server": server, "dkim_selector": "s1",
                                  "webhook_url": "http://\(web.authority)/webhooks/postmark"])

        let wired = try stack.run(["up", "mailglass/prod", "--yes"] + inputs)
        #expect(wired.status == 0, "\(wired.stdout)\(wired.stderr)")
        for step in ["preflight/spf", "preflight/dkim", "preflight/dmarc", "preflight/wiring-doctor",
                     "preflight/webhook-secret-not-in-config", "preflight/oban-mailglass-queue", "preflight/telemetry-handlers",
                     "verify/webhook-rejects-unsigned", "verify/webhook-accepts-signed"] {
            #expect(wired.stdout.contains("✓ \(step) "), "\(step): \(wired.stdout)")
        }
        #expect(wired.stdout.contains("wiring-doctor │ [pass] Webhook body reader is wired"))
        #expect(web.requests == ["POST /webhooks/postmark 401", "POST /webhooks/postmark 200"], "unsigned refused, signed accepted")
        #expect(wired.stdout.contains("a postmark-signed webhook POST to http://\(web.authority)/webhooks/postmark: 200 (accepted)"), "\(wired.stdout)")
        let wiredRun = try stack.show(try stack.requireLastRunID())
        #expect(wiredRun["status"] as? String == "succeeded")
        #expect(Self.steps(wiredRun)["preflight/dkim"]?["status"] as? String == "succeeded")
        #expect(try stack.stateFiles(containing: secret).isEmpty)

        // The reader not wired: the gate stops in preflight, says to run the installer, runs nothing after.
        let absent = try stack.run(["up", "mailglass/prod", "--yes"] + inputs, environment: ["STANDIN_MAILGLASS_DOCTOR": "absent"])
        #expect(absent.status == 1, "\(absent.stdout)\(absent.stderr)")
        #expect(absent.stdout.contains("✗ preflight/wiring-doctor"), "\(absent.stdout)")
        #expect(absent.stdout.contains("Run `mix mailglass.install`"), "\(absent.stdout)")
        #expect(web.requests.count == 2, "verify did not run")
        let absentID = try stack.requireLastRunID()
        let absentRun = try stack.show(absentID)
        #expect(absentRun["status"] as? String == "failed")
        #expect(Self.steps(absentRun)["preflight/wiring-doctor"]?["exit_code"] as? Int == 1)
        #expect(try Self.report(stack, absentID).contains("mix mailglass.install"))

        // The app holds another credential than the one provisioned (a rotation half done): the
        // unsigned request is still refused, but the signed one is too, and that fails the gate.
        let stale = Self.secret("rotated", length: 32)
        let rotated = try stack.run(["up", "mailglass/prod", "--yes"] + inputs, environment: ["MAILGLASS_WEBHOOK_SECRET": stale])
        #expect(rotated.status == 1, "\(rotated.stdout)\(rotated.stderr)")
        #expect(rotated.stdout.contains("✓ verify/webhook-rejects-unsigned") && rotated.stdout.contains("✗ verify/webhook-accepts-signed"), "\(rotated.stdout)")
        #expect(rotated.stdout.contains("the secret it holds differs from the one provisioned here"), "\(rotated.stdout)")
        let rotatedLogs = try stack.run(["logs", try stack.requireLastRunID()])
        #expect(!rotated.stdout.contains(stale) && !rotatedLogs.stdout.contains(stale), "the credential is shown nowhere")

        // A wrong DKIM selector is a failed check, named.
        let selector = try stack.run(["up", "mailglass/prod", "--yes"] + inputs + Self.inputs(["dkim_selector": "pm"]))
        #expect(selector.status == 1)
        #expect(selector.stdout.contains("✗ preflight/dkim"), "\(selector.stdout)")
        #expect(selector.stdout.contains("pm._domainkey.example.test"), "\(selector.stdout)")

        // No handler on webhook reconcile (the one left is commented out): preflight names it and
        // nothing is verified.
        let bothEvents = ["[:mailglass, :outbound, :dispatch, :exception]", "[:mailglass, :webhook, :reconcile, :exception]"]
        try stack.git.commit("Telemetry for dispatch only", files: [
            "lib/hostapp/telemetry.ex": Self.telemetryModule(events: [bothEvents[0], "# " + bothEvents[1]]),
        ])
        let requestsBefore = web.requests.count
        let unwatched = try stack.run(["up", "mailglass/prod", "--yes"] + inputs)
        #expect(unwatched.status == 1 && unwatched.stdout.contains("✗ preflight/telemetry-handlers"), "\(unwatched.stdout)\(unwatched.stderr)")
        #expect(unwatched.stdout.contains("[:mailglass, :webhook, :reconcile, :exception]: NO handler attached"), "\(unwatched.stdout)")
        #expect(unwatched.stdout.contains("[:mailglass, :outbound, :dispatch, :exception]: handler attached in lib/hostapp/telemetry.ex"), "\(unwatched.stdout)")
        #expect(web.requests.count == requestsBefore, "verify did not run")
        // No :mailglass queue: deliver_later/2 jobs would never run.
        // (Declared in dev.exs only, it never reaches production.)
        try stack.git.commit("Oban without the mailglass queue", files: [
            "lib/hostapp/telemetry.ex": Self.telemetryModule(events: bothEvents),
            "config/config.exs": Self.obanConfig("queues: [default: 5]"),
            "config/dev.exs": Self.obanConfig("queues: [default: 5, mailglass: 10]"),
        ])
        let unqueued = try stack.run(["up", "mailglass/prod", "--yes"] + inputs)
        #expect(unqueued.status == 1 && unqueued.stdout.contains("✗ preflight/oban-mailglass-queue"), "\(unqueued.stdout)")
        #expect(unqueued.stdout.contains("no Oban queue named :mailglass"), "\(unqueued.stdout)")
        // An app that only calls deliver/2 has no queue to size: the check is skipped and the gate passes.
        let synchronous = try stack.run(["up", "mailglass/prod", "--yes"] + inputs + Self.inputs(["delivery": "deliver"]))
        #expect(synchronous.status == 0 && !synchronous.stdout.contains("✓ preflight/oban-mailglass-queue"), "\(synchronous.stdout)")
        // A paused queue (concurrency 0) is no better than none.
        try stack.git.commit("Paused queue", files: ["config/config.exs": Self.obanConfig("queues: [mailglass: [limit: 0]]")])
        let paused = try stack.run(["up", "mailglass/prod", "--yes"] + inputs)
        #expect(paused.stdout.contains("✗ preflight/oban-mailglass-queue") && paused.stdout.contains(":mailglass queue concurrency 0: paused"), "\(paused.stdout)")

        let doctor = try stack.run(["doctor", "mailglass/prod"] + inputs)
        #expect(doctor.status == 0, "\(doctor.stdout)\(doctor.stderr)")
        let doctorJSON = try stack.run(["doctor", "mailglass/prod", "--format", "json"] + inputs)
        let verdict = try #require(try JSONSerialization.jsonObject(with: Data(doctorJSON.stdout.utf8)) as? [String: Any])
        #expect(verdict["verdict"] as? String == "ok")
        let checks = verdict["checks"] as? [[String: Any]] ?? []
        #expect(checks.filter { $0["kind"] as? String == "dns" }.count == 3, "\(checks)")
        #expect(checks.contains { $0["kind"] as? String == "cli" && $0["name"] as? String == "mix" && $0["status"] as? String == "ok" })
        // With the resolver gone the doctor cannot diagnose.
        dns = nil
        let down = try stack.run(["doctor", "mailglass/prod"] + inputs)
        #expect(down.status == 2, "\(down.stdout)\(down.stderr)")
    }

    /// One CA file trusting every server's self-signed certificate (an operator's bundle).
    static func caBundle(_ servers: [SeedWebServer], at path: String) throws -> String {
        try servers.map { try String(contentsOfFile: $0.certificate, encoding: .utf8) }.joined()
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The host app's Oban configuration, with `queues` as given.
    static func obanConfig(_ queues: String) -> String {
        "import Config\nconfig :hostapp, Oban,\n  repo: Hostapp.Repo,\n  \(queues)\n"
    }

    /// A module attaching one handler to `events` (through a module attribute, as apps often do).
    static func telemetryModule(events: [String]) -> String {
        """
        defmodule Hostapp.MailAlerts do
          @events [
            \(events.joined(separator: ",\n    "))
          ]
          def attach, do: :telemetry.attach_many("mailglass-alerts", @events, &__MODULE__.handle/4, nil)
          def handle(_event, _measurements, metadata, _config), do: Hostapp.Pager.notify(metadata)
        end
        """
    }

    // MARK: - 5. mailflow/prod: a failed release rolls back with inbound mail paused

    @Test func mailflowRollbackDisablesInboundFirstAndEnablesItLast() throws {
        let region = "eu-central-2"  // awscli v1 sends SQS calls for us-east-1 to queue.amazonaws.com
        // moto, plus SES inbound -> worker -> queue, which moto does not run, stood in for (while the rule is on).
        let pause = try TemporaryDirectory.file(prefix: "pipeline-down")
        try FileManager.default.removeItem(at: pause)
        let router = RepositoryFiles.root.appendingPathComponent("Tests/scripts/mailflow-router.py").path
        let quota = pause.deletingLastPathComponent().appendingPathComponent("ses-quota-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: quota) }
        let moto = try MotoFixture { [TestVenv.bin + "/python3", router, "\($0)", region, "prod", "example.test", pause.path, quota.path] }
        let dns = try DNSFixture()
        let endpoint = "http://127.0.0.1:\(moto.port)"
        try Shell.run(TestVenv.bin + "/python3", [RepositoryFiles.root.appendingPathComponent("Tests/scripts/mailflow-moto.py").path,
                                                  endpoint, region, "prod", "example.test", "verified@example.test"])
        // The API and the CloudFront dashboard over HTTPS (a 90-day certificate), HTTP redirecting to it.
        let jwt = "eyJhbGciOiJSUzI1NiJ9." + Self.secret("claims", length: 40) + ".sig"
        let noTeam = "eyJhbGciOiJSUzI1NiJ9." + Self.secret("noteam", length: 40) + ".sig"
        // The API's other protected endpoints (crates/mailflow-api), each for the smoke user.
        let endpoints = ["GET /api/metrics/summary", "GET /api/metrics/timeseries", "GET /api/queues", "GET /api/queues/mailflow-app1-prod/messages",
                         "GET /api/storage/stats", "GET /api/storage/mailflow-raw-emails-prod/objects", "GET /api/test/history", "POST /api/logs/query"]
        var routes: [String: SeedWebServer.Route] = [
            "GET /api/health": .init(200, headers: ["Content-Type": "application/json"], body: #"{"status":"healthy","checks":{"dynamodb":"ok"}}"#),
            "GET /api/config": .init(200, headers: ["Content-Type": "application/json"], body: #"{"domains":["example.test"]}"#,
                                     authorization: "Bearer \(jwt)", forbidden: ["Bearer \(noTeam)"]),
            "GET /": .init(200, headers: ["Content-Type": "text/html"], body: "<div id=root></div>\n"),
        ]
        for endpoint in endpoints { routes[endpoint] = .init(200, headers: ["Content-Type": "application/json"], body: "{}", authorization: "Bearer \(jwt)") }
        // The two that send mail answer as crates/mailflow-api/src/api/test.rs does.
        for endpoint in ["POST /api/test/inbound", "POST /api/test/outbound"] {
            routes[endpoint] = .init(200, headers: ["Content-Type": "application/json"],
                                     body: #"{"success":true,"messageId":"test-1","timestamp":"2026-11-30T00:00:00Z"}"#, authorization: "Bearer \(jwt)")
        }
        let web = try SeedWebServer(tls: true, redirect: true, routes: routes, certificateDays: 90)
        let stack = try Self.stack("mailflow", target: "prod", extra: [
            "infra/Pulumi.yaml": "name: mailflow\nruntime: nodejs\n",
            "infra/index.ts": "export * from './src/stack';\n",
        ])
        stack.environment.merge(moto.environment) { _, new in new }
        stack.environment["AWS_DEFAULT_REGION"] = region
        stack.environment["MAILFLOW_SMOKE_JWT"] = jwt
        stack.environment["MAILFLOW_SMOKE_JWT_NO_TEAM"] = noTeam
        stack.environment["PATH"] = [RepositoryFiles.standIns, TestVenv.bin, ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].joined(separator: ":")
        let aws = { (arguments: [String]) throws -> String in
            try Shell.run(TestVenv.bin + "/aws", arguments, environment: stack.environment)
        }
        let ruleEnabled = {
            try aws(["ses", "describe-receipt-rule", "--rule-set-name", "mailflow-rules-prod", "--rule-name", "mailflow-inbound-prod",
                     "--query", "Rule.Enabled", "--output", "text"])
        }
        let inputs = Self.inputs(["api_url": "https://\(web.authority)", "dashboard_url": "https://\(web.authority)",
                                  "dashboard_http_url": "http://127.0.0.1:\(web.redirectPort)", "ca_file": web.certificate,
                                  "mail_domain": "example.test", "test_from": "verified@example.test", "dns_server": dns.server,
                                  "jwt_issuer": "https://auth.example.com"])
        let first = try stack.git.git(["rev-parse", "HEAD"])

        // The worker logs as it works: an ordinary line within the run is no error.
        _ = try aws(["logs", "create-log-stream", "--log-group-name", "/aws/lambda/mailflow-prod", "--log-stream-name", "2026/worker"])
        _ = try aws(["logs", "put-log-events", "--log-group-name", "/aws/lambda/mailflow-prod", "--log-stream-name", "2026/worker",
                     "--log-events", "timestamp=\(Int(Date().timeIntervalSince1970 * 1000) + 30_000),message=INFO mailflow_worker: routed 1 message to app1"])
        let up = try stack.run(["up", "mailflow/prod", "--yes"] + inputs)
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        for step in ["preflight/ses-domain-verified", "preflight/ses-production-access", "preflight/lambda-concurrency-limit", "preflight/ses-dkim", "preflight/spf", "deploy/pulumi-up", "deploy/dashboard-deploy",
                     "verify/worker-lambda-active", "verify/api-rejects-invalid-jwt", "verify/api-accepts-valid-jwt", "verify/api-refuses-user-without-team",
                     "verify/api-metrics-summary", "verify/api-queue-messages", "verify/api-storage-objects", "verify/api-logs-query", "postdeploy/e2e-test-email-queued",
                     "postdeploy/dlq-empty", "postdeploy/log-retention-30-days", "postdeploy/cloudwatch-alarms",
                     "postdeploy/dashboard-https-redirect", "postdeploy/api-certificate", "postdeploy/dashboard-certificate",
                     "postdeploy/alarms-notify", "postdeploy/ses-bounce-rate", "postdeploy/no-lambda-errors",
                     "postdeploy/raw-emails-lifecycle", "postdeploy/attachments-lifecycle", "postdeploy/cloudwatch-dashboard",
                     "postdeploy/no-pii-in-logs", "postdeploy/api-test-inbound", "postdeploy/api-test-outbound",
                     "postdeploy/costs-within-budget"] {
            #expect(up.stdout.contains("✓ \(step) "), "\(step): \(up.stdout)")
        }
        #expect(up.stdout.contains("/aws/lambda/mailflow-prod: 0 error event(s) since"), "the INFO line is no error: \(up.stdout)")
        let upID = try stack.requireLastRunID()
        #expect(up.stdout.contains("(1/5)': queued after"), "timed from the send: \(up.stdout)")
        #expect(up.stdout.contains("Production Test \(upID)"), "this run's own subject: \(up.stdout)")
        #expect(up.stdout.contains("e2e-test-email-queued │ email processing p95 ") && up.stdout.contains(" over 5 (limit 5 s)"), "\(up.stdout)")
        // A worker that takes 6 s an email: each arrives within 10 s, but the p95 is over 5 (the
        // step's own command, from the plan).
        try "processing_delay 6\n".write(to: quota, atomically: true, encoding: .utf8)
        let e2e = try Self.planArgv(stack, "mailflow/prod", "postdeploy/e2e-test-email-queued", inputs)
        let slowWorker = try Shell.capture(e2e[0], Array(e2e.dropFirst()), environment: stack.environment, directory: stack.git.path)
        try "".write(to: quota, atomically: true, encoding: .utf8)
        #expect(slowWorker.status == 1 && slowWorker.stdout.contains("email processing p95 ") && slowWorker.stdout.contains("over 5 (limit 5 s)")
                && !slowWorker.stdout.contains("did not reach"), "\(slowWorker.stdout)\(slowWorker.stderr)")
        #expect(try aws(["s3", "ls", "s3://mailflow-dashboard-prod/"]).contains("index.html"), "the dashboard was synced")
        #expect(try ruleEnabled() == "True")

        // An API whose outbound test cannot queue the message (OUTBOUND_QUEUE_URL unset or SQS
        // refusing: the handler's error answer): postdeploy names it.
        var unqueued = routes
        unqueued["POST /api/test/outbound"] = .init(500, headers: ["Content-Type": "application/json"],
                                                    body: #"{"error":"SQS send failed: AccessDenied"}"#, authorization: "Bearer \(jwt)")
        let unqueuedAPI = try SeedWebServer(tls: true, routes: unqueued, certificateDays: 90)
        let unqueuedBundle = try Self.caBundle([web, unqueuedAPI], at: stack.state.path + "/unqueued-cas.pem")
        let outboundDown = try stack.run(["up", "mailflow/prod", "--yes", "--no-rollback"] + inputs
                                         + Self.inputs(["api_url": "https://\(unqueuedAPI.authority)", "ca_file": unqueuedBundle]))
        #expect(outboundDown.status == 1 && outboundDown.stdout.contains("✓ postdeploy/api-test-inbound")
                && outboundDown.stdout.contains("✗ postdeploy/api-test-outbound"), "\(outboundDown.stdout)")
        #expect(unqueuedAPI.requests.contains("POST /api/test/outbound 500"), "\(unqueuedAPI.requests)")

        try stack.git.commit("infra: a change the preview refuses", files: ["infra/index.ts": "export * from './src/stack2';\n"])
        let pulumiUps = Self.calls(stack).filter { $0.hasPrefix("pulumi up ") }.count
        let failed = try stack.run(["up", "mailflow/prod", "--yes"] + inputs, environment: ["STANDIN_FAIL": "pulumi-preview"])
        #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stdout.contains("deploy/pulumi-preview failed: rolling back automatically"), "\(failed.stdout)")
        #expect(failed.stdout.contains("✓ rollback mailflow/prod at \(first.prefix(10))"), "\(failed.stdout)")
        // In this order: the rule switched off and read back False (from moto), then the first
        // rollback step, the previous program applied, verify, and the rule on again, read back True.
        let order = ["✓ prepare/rebuild-lambdas", "✓ prepare/rebuild-dashboard", "inbound.disable │ receipt rule mailflow-rules-prod/mailflow-inbound-prod: Enabled True -> False",
                     "inbound.status │ False", "▶ rollback/", "✓ rollback/pulumi-up-previous", "✓ verify/api-health",
                     "inbound.enable │ receipt rule mailflow-rules-prod/mailflow-inbound-prod: Enabled False -> True",
                     "inbound.status │ True", "inbound re-enabled (confirmed) after"]
        let positions = order.map { failed.stdout.range(of: $0)?.lowerBound }
        #expect(!positions.contains(nil), "missing: \(zip(order, positions).filter { $0.1 == nil }.map(\.0))")
        let found = positions.compactMap { $0 }
        #expect(found == found.sorted(), "out of order: \(failed.stdout)")
        #expect(try ruleEnabled() == "True", "inbound mail is on again")
        #expect(Self.calls(stack).filter { $0.hasPrefix("pulumi up ") }.count == pulumiUps + 1, "the previous program applied once")

        let rollbackID = try stack.requireLastRunID()
        let rollback = try stack.show(rollbackID)
        #expect(rollback["kind"] as? String == "rollback")
        #expect(rollback["status"] as? String == "succeeded")
        let kinds = Self.eventKinds(rollback)
        let off = try #require(kinds.firstIndex(of: "inbound_disabled"), "\(kinds)")
        let on = try #require(kinds.lastIndex(of: "inbound_enabled"), "\(kinds)")
        #expect(off < on)
        let report = try Self.report(stack, rollbackID)
        #expect(report.contains("## Inbound mail"))
        #expect(report.contains("; now ✅ enabled again."))
        let status = try stack.run(["status", "mailflow/prod", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(object["deployed_revision"] as? String == first)
        #expect(object["inbound"] as? String == "enabled")
        #expect(object["inbound_owed_by"] is NSNull, "\(status.stdout)")

        // The strengthened checks fail when what they check is false: the pipeline stopped (the
        // earlier run's leftover test message must not count), a certificate about to expire, a
        // plain-HTTP dashboard. --parallel 8 starts the independent postdeploy checks together.
        try "down\n".write(to: pause, atomically: true, encoding: .utf8)
        // Alarms that notify nobody, a topic nobody subscribed to, one that only emails; SES's
        // bounce rate at 8 %; spend past the budget; no dashboard and no lifecycle rule; the
        // worker timing out and logging a sender, stamped a minute ahead (after the run below
        // starts: errors from before a run are the previous release's). See the script.
        try Shell.run(TestVenv.bin + "/python3", [RepositoryFiles.root.appendingPathComponent("Tests/scripts/mailflow-break.py").path,
                                                  endpoint, region, "prod"])
        let shortLived = try SeedWebServer(tls: true, routes: routes, certificateDays: 2)
        let plain = try SeedWebServer(tls: false, routes: ["GET /": .init(200, body: "no redirect\n")])
        // Both certificates trusted: the short-lived one fails for its expiry, not its issuer.
        let bundle = try Self.caBundle([web, shortLived], at: stack.state.path + "/both-cas.pem")
        let broken = Self.inputs(["dashboard_url": "https://\(shortLived.authority)", "dashboard_http_url": "http://\(plain.authority)",
                                  "ca_file": bundle])
        let weak = try stack.run(["up", "mailflow/prod", "--rev", first, "--yes", "--parallel", "16"] + inputs + broken)
        #expect(weak.status == 1, "\(weak.stdout)\(weak.stderr)")
        for step in ["postdeploy/e2e-test-email-queued", "postdeploy/dashboard-certificate", "postdeploy/dashboard-https-redirect",
                     "postdeploy/alarms-notify", "postdeploy/ses-bounce-rate", "postdeploy/raw-emails-lifecycle", "postdeploy/cloudwatch-dashboard",
                     "postdeploy/costs-within-budget"] {
            #expect(weak.stdout.contains("✗ \(step) "), "\(step): \(weak.stdout)")
        }
        // The error-log check waits for the test email, which failed here: it did not run. Run as
        // the step would have, it finds the timeout line (no ERROR in it).
        #expect(!weak.stdout.contains("▶ postdeploy/no-lambda-errors"), "\(weak.stdout)")
        let weakID = try stack.requireLastRunID()
        let logErrors = try Shell.capture("python3", [RepositoryFiles.root.appendingPathComponent("stacks/mailflow/bin/log-errors.py").path,
                                                       "--since-run", weakID, "/aws/lambda/mailflow-prod", "/aws/lambda/mailflow-api-prod"],
                                          environment: stack.environment)
        #expect(logErrors.status == 1 && logErrors.stdout.contains("1 error event(s) since") && logErrors.stdout.contains("Task timed out after 60.00 seconds"),
                "\(logErrors.stdout)\(logErrors.stderr)")
        // So does the PII check: the worker logged the test sender's address unredacted.
        let pii = try Shell.capture("python3", [RepositoryFiles.root.appendingPathComponent("stacks/mailflow/bin/log-errors.py").path,
                                                 "--since-run", weakID, "--term", "\"verified@example.test\"", "--term", "\"_app1@example.test\"",
                                                 "/aws/lambda/mailflow-prod", "/aws/lambda/mailflow-api-prod"], environment: stack.environment)
        #expect(pii.status == 1 && pii.stdout.contains("1 event(s) holding \"verified@example.test\" or \"_app1@example.test\" since")
                && pii.stdout.contains("routing mail from verified@example.test") && !pii.stdout.contains("Task timed out"), "\(pii.stdout)\(pii.stderr)")
        // A term CloudWatch would read otherwise than the script's own re-check (a regular
        // expression) is refused before any call, not silently matched as plain text.
        let regex = try Shell.capture("python3", [RepositoryFiles.root.appendingPathComponent("stacks/mailflow/bin/log-errors.py").path,
                                                   "--since-run", weakID, "--term", "%verified@.*%", "/aws/lambda/mailflow-prod"], environment: stack.environment)
        #expect(regex.status == 2 && regex.stderr.contains("--term %verified@.*%: a word or a \"quoted phrase\""), "\(regex.stdout)\(regex.stderr)")
        #expect(weak.stdout.contains("alarms-notify │ mailflow-orphan-prod: no alarm action"), "the alarm without an action is named: \(weak.stdout)")
        #expect(weak.stdout.contains("alarms-notify │ mailflow-silent-prod: its SNS topic has no confirmed subscription"), "\(weak.stdout)")
        #expect(weak.stdout.contains("alarms-notify │ mailflow-mailed-prod: its SNS topic reaches no PagerDuty/Slack integration (only email;"), "\(weak.stdout)")
        #expect(!weak.stdout.contains("alarms-notify │ mailflow-both-prod"), "\(weak.stdout)")
        #expect(weak.stdout.contains("SES bounce rate, highest in the last 24 h: 8.00% (bound 5%"), "\(weak.stdout)")
        #expect(weak.stdout.contains("costs-within-budget │ budget mailflow-prod: limit 100"), "\(weak.stdout)")
        #expect(weak.stdout.contains("actual 150") && weak.stdout.contains("forecast 210")
                && weak.stdout.contains("forecast over the limit by the end of the period"), "\(weak.stdout)")
        #expect(weak.stdout.contains("did not reach mailflow-app1-prod within 10 s (1 other message(s) seen: not this run's)"), "\(weak.stdout)")

        // An API that refuses every token (another issuer's): `check` runs verify, read-only, and names it.
        let refusing = try stack.run(["check", "mailflow/prod"], environment: ["MAILFLOW_SMOKE_JWT": "eyJhbGciOiJSUzI1NiJ9.another-issuer.sig"])
        #expect(refusing.status == 1 && refusing.stdout.contains("✗ verify/api-accepts-valid-jwt"), "\(refusing.stdout)\(refusing.stderr)")
        #expect(refusing.stdout.contains("✓ verify/api-rejects-invalid-jwt"), "the 401 alone passes: \(refusing.stdout)")
        // An API that skips team validation: the teamless user's token gets what the member's gets.
        let teamless = try stack.run(["check", "mailflow/prod"], environment: ["MAILFLOW_SMOKE_JWT_NO_TEAM": jwt])
        #expect(teamless.status == 1 && teamless.stdout.contains("✗ verify/api-refuses-user-without-team"), "\(teamless.stdout)\(teamless.stderr)")
        // An API whose metrics summary fails: verify names that endpoint (no rollback asked).
        var failing = routes
        failing["GET /api/metrics/summary"] = .init(500, body: "internal error\n", authorization: "Bearer \(jwt)")
        let brokenAPI = try SeedWebServer(tls: true, routes: failing, certificateDays: 90)
        let apiBundle = try Self.caBundle([web, brokenAPI], at: stack.state.path + "/api-cas.pem")
        let partial = try stack.run(["up", "mailflow/prod", "--rev", first, "--yes", "--no-rollback"] + inputs
                                    + Self.inputs(["api_url": "https://\(brokenAPI.authority)", "ca_file": apiBundle]))
        #expect(partial.status == 1 && partial.stdout.contains("✗ verify/api-metrics-summary"), "\(partial.stdout)")
        // A domain SES never verified (no DKIM either), in an account back in the sandbox, and a
        // team that moved to another identity provider the stack's config does not name yet:
        // refused in preflight.
        try "ses_daily 200\nlambda_concurrency 10\n".write(to: quota, atomically: true, encoding: .utf8)
        let unverified = try stack.run(["up", "mailflow/prod", "--rev", first, "--yes", "--parallel", "16"] + inputs
                                       + Self.inputs(["mail_domain": "unverified.example", "jwt_issuer": "https://login.example.org"]))
        #expect(unverified.stdout.contains("✗ preflight/pulumi-config-jwt-issuer")
                && unverified.stdout.contains("jwtIssuer: https://auth.example.com (intended https://login.example.org)"), "\(unverified.stdout)")
        #expect(unverified.status == 1 && unverified.stdout.contains("✗ preflight/ses-dkim"), "\(unverified.stdout)")
        #expect(unverified.stdout.contains("✗ preflight/ses-production-access") && unverified.stdout.contains("SES sending quota: 200.0 messages"), "\(unverified.stdout)")
        #expect(unverified.stdout.contains("NotStarted"), "what SES said: \(unverified.stdout)")
        #expect(unverified.stdout.contains("✗ preflight/lambda-concurrency-limit")
                && unverified.stdout.contains("Lambda concurrent executions allowed: 10 (this load needs 100)"), "\(unverified.stdout)")
        // Out of the sandbox but with less quota than this load needs; then enough a day, but at
        // a new account's 14 a second, under the seed's burst of 1000 a minute.
        try "ses_daily 20000\n".write(to: quota, atomically: true, encoding: .utf8)
        let small = try stack.run(["up", "mailflow/prod", "--rev", first, "--yes"] + inputs)
        #expect(small.status == 1 && small.stdout.contains("✗ preflight/ses-production-access"), "\(small.stdout)")
        #expect(small.stdout.contains("SES sending quota: 20000.0 messages in 24 h") && small.stdout.contains("this load needs 50000 at 17"), "\(small.stdout)")
        try "ses_daily 50000\nses_rate 14\n".write(to: quota, atomically: true, encoding: .utf8)
        // Every independent check at once: a failure stops steps not yet started, and the
        // lambda check must run whichever AWS call answers first.
        let slow = try stack.run(["up", "mailflow/prod", "--rev", first, "--yes", "--parallel", "16"] + inputs)
        #expect(slow.status == 1 && slow.stdout.contains("✗ preflight/ses-production-access")
                && slow.stdout.contains("SES sending quota: 50000.0 messages in 24 h at 14.0 a second"), "\(slow.stdout)")
        #expect(slow.stdout.contains("✓ preflight/lambda-concurrency-limit"), "\(slow.stdout)")
    }

    // MARK: - 6. dotmac/staging: the compose path with PostgreSQL, alembic, Redis and S3

    @Test func dotmacStagingMigratesRefusesADefaultSecretAndUndoesAFailedHelmUpgrade() throws {
        let pg = try PostgresFixture()
        let redis = try RedisFixture()
        let moto = try MotoFixture()
        // The domains' records (dnsmasq: *.app.example.test is 127.0.0.1, the rest of example.test NXDOMAIN).
        let dns = try DNSFixture()
        let dbPassword = Self.secret("db", length: 24)
        try pg.psql("CREATE ROLE dotmac_acme LOGIN PASSWORD '\(dbPassword)'")
        try pg.psql("CREATE DATABASE dotmac_acme OWNER dotmac_acme")
        // Another tenant's database on the same cluster, closed to other roles as it must be.
        try pg.psql("CREATE DATABASE dotmac_other")
        for database in ["dotmac_other", "app"] { try pg.psql("REVOKE CONNECT ON DATABASE \(database) FROM PUBLIC") }
        let redisPassword = Self.secret("redis", length: 24)
        try redis.cli(["CONFIG", "SET", "appendonly", "yes"])   // the sessions survive a restart
        try redis.cli(["CONFIG", "SET", "requirepass", redisPassword])
        try moto.aws(["s3api", "create-bucket", "--bucket", "dotmac-acme-staging"])
        try moto.aws(["s3api", "put-bucket-versioning", "--bucket", "dotmac-acme-staging", "--versioning-configuration", "Status=Enabled"])
        try moto.aws(["s3api", "put-bucket-lifecycle-configuration", "--bucket", "dotmac-acme-staging", "--lifecycle-configuration",
                      #"{"Rules":[{"ID":"tmp","Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":7}}]}"#])
        let hsts = ["Strict-Transport-Security": "max-age=63072000"]
        let web = try SeedWebServer(redirect: true, routes: [
            "GET /health": .init(200, headers: hsts.merging(["Content-Type": "application/json"]) { a, _ in a }, body: #"{"status":"healthy"}"#),
            "GET /metrics": .init(403, body: "forbidden\n"),
            "GET /": .init(200, headers: hsts.merging(["Content-Security-Policy": "default-src 'self'"]) { a, _ in a }, body: "<h1>Admin</h1>\n"),
            "POST /v1/sys/capabilities-self": .init(200, headers: ["Content-Type": "application/json"],
                                                   body: #"{"secret/data/deployctl-least-privilege-probe":["deny"],"sys/policies/acl/deployctl-least-privilege-probe":["deny"],"capabilities":["deny"]}"#),
            "GET /v1/auth/token/lookup-self": .init(200, headers: ["Content-Type": "application/json"],
                                                    body: #"{"data":{"policies":["default","dotmac-acme"],"ttl":2764800,"creation_time":\#(Int(Date().timeIntervalSince1970) - 86_400)}}"#),
            "GET /-/ready": .init(200, body: "Ready.\n"),
            "GET /api/auth/csrf": .init(200, headers: ["Content-Type": "application/json",
                                                     "Set-Cookie": "__Host-next-auth.csrf-token=abc%7Cdef; Path=/; HttpOnly; Secure; SameSite=Lax"],
                                        body: #"{"csrfToken":"abc"}"#),
            "GET /api/v1/query": .init(200, headers: ["Content-Type": "application/json"],
                                       body: #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"platform-backend"},"value":[1700000000,"1"]}]}}"#),
            "POST /api/v2/alerts": .init(200, body: ""),
            "GET /api/health": .init(200, headers: ["Content-Type": "application/json"], body: #"{"database":"ok","version":"11.0.0"}"#),
            "POST /api/v1/auth/login": .init(401, headers: ["Content-Type": "application/json"], body: #"{"detail":"invalid credentials"}"#),
        ], limits: ["POST /api/v1/auth/login": 5], limitWindow: 4, certificateDays: 90)  // 4 s: six requests fit on a loaded machine; runs are further apart
        var extra = try AlembicFiles.files(["0001_accounts.py"])
        extra["db/alembic.ini"] = "[alembic]\nscript_location = %(here)s\n"
        let stack = try Self.stack("dotmac", target: "staging", extra: extra)
        stack.environment.merge(moto.environment) { _, new in new }
        stack.environment["PATH"] = [RepositoryFiles.standIns, TestVenv.bin, PostgresFixture.bin,
                                     ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].joined(separator: ":")
        var secrets: [String: String] = ["DOTMAC_DB_PASSWORD": dbPassword, "DOTMAC_REDIS_PASSWORD": redisPassword]
        for name in ["SECRET_KEY", "AUTH__JWT_SECRET_KEY", "NEXTAUTH_SECRET", "STORAGE_ACCESS_KEY", "STORAGE_SECRET_KEY", "VAULT_TOKEN"] {
            secrets["DOTMAC_\(name)"] = Self.secret(name.lowercased(), length: 40)
        }
        stack.environment.merge(secrets) { _, new in new }
        let https = "https://\(web.authority)"
        // Two listeners stand in for the OTEL collector's gRPC and HTTP ports (reachability only).
        let (grpcPort, httpPort) = (ServerProcess.freePort(), ServerProcess.freePort())
        var collector: [ServerProcess] = []
        for port in [grpcPort, httpPort] {
            let listener = try ServerProcess(["python3", "-m", "http.server", "--bind", "127.0.0.1", "\(port)"], name: "otel-collector")
            try listener.wait { ServerProcess.listening(port) }
            collector.append(listener)
        }
        let inputs = Self.inputs(["tenant": "acme", "api_domain": web.authority, "admin_domain": "localhost:\(web.port)",
                                  "api_http_url": "http://127.0.0.1:\(web.redirectPort)",
                                  "tls_cert_api": "/etc/ssl/acme/api.pem", "tls_cert_admin": "/etc/ssl/acme/admin.pem",
                                  "db_host": "127.0.0.1", "db_port": "\(pg.port)", "db_name": "dotmac_acme", "db_user": "dotmac_acme",
                                  "redis_host": "127.0.0.1", "redis_port": "\(redis.port)",
                                  "storage_endpoint": "http://127.0.0.1:\(moto.port)", "storage_bucket": "dotmac-acme-staging",
                                  "vault_url": https, "otel_grpc_endpoint": "http://127.0.0.1:\(grpcPort)", "otel_http_endpoint": "http://127.0.0.1:\(httpPort)",
                                  "prometheus_url": https, "alertmanager_url": https, "grafana_url": https, "release": "acme-staging",
                                  "alembic_config": "db/alembic.ini", "ca_file": web.certificate,
                                  "api_dns_name": "api.app.example.test", "admin_dns_name": "admin.app.example.test", "dns_server": dns.server])

        // A known default secret: refused before anything runs, the secret named.
        let refused = try stack.run(["up", "dotmac/staging", "--yes"] + inputs, environment: ["DOTMAC_VAULT_TOKEN": "dev-root-token"])
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("VAULT_TOKEN"), "\(refused.stderr)")
        #expect(try Self.runs(stack).isEmpty, "no run was recorded")
        #expect(Self.calls(stack).isEmpty, "no stand-in was called")
        #expect(web.requests.isEmpty)
        #expect(try pg.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'", database: "dotmac_acme") == "0")

        // A root token that never expires: accepted by Vault, refused by the least-privilege check.
        let rootVault = try SeedWebServer(routes: ["GET /v1/auth/token/lookup-self": .init(200, headers: ["Content-Type": "application/json"],
                                                   body: #"{"data":{"policies":["root"],"ttl":0,"creation_time":1500000000}}"#),
                                                   // And a policy that opens every secret.
                                                   "POST /v1/sys/capabilities-self": .init(200, headers: ["Content-Type": "application/json"],
                                                   body: #"{"secret/data/deployctl-least-privilege-probe":["read","list"],"sys/policies/acl/deployctl-least-privilege-probe":["deny"]}"#)])
        var rootInputs = inputs + Self.inputs(["vault_url": "https://\(rootVault.authority)"])
        let bundle = try Self.caBundle([web, rootVault], at: stack.state.path + "/vault-cas.pem")
        rootInputs += Self.inputs(["ca_file": bundle])
        let root = try stack.run(["up", "dotmac/staging", "--yes"] + rootInputs)
        #expect(root.status == 1 && root.stdout.contains("✗ preflight/vault-token-valid"), "\(root.stdout)")
        #expect(root.stdout.contains("problem: it is a root token") && root.stdout.contains("problem: it never expires"), "\(root.stdout)")
        #expect(root.stdout.contains("problem: it may read, list on secret/data/deployctl-least-privilege-probe, outside any tenant"), "\(root.stdout)")
        #expect(try pg.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'", database: "dotmac_acme") == "0", "nothing migrated")

        let up = try stack.run(["up", "dotmac/staging", "--yes"] + inputs)
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        for step in ["preflight/render-env", "preflight/database-url-resolves", "preflight/db-credentials-tenant-only", "preflight/dns-api", "preflight/dns-admin",
                     "preflight/redis-reachable", "preflight/redis-sessions-persisted", "postdeploy/session-cookie-flags", "preflight/object-storage-bucket",
                     "preflight/vault-token-valid", "preflight/grafana-healthy", "preflight/object-storage-lifecycle", "preflight/object-storage-versioning", "migrate/alembic-upgrade", "migrate/alembic-at-head",
                     "migrate/smoke-queries", "deploy/compose-up", "deploy/worker-uses-tenant-config", "verify/metrics-not-public",
                     "verify/backend-runs-intended-config", "postdeploy/admin-security-headers", "postdeploy/metrics-in-prometheus",
                     "postdeploy/api-certificate", "postdeploy/admin-certificate", "postdeploy/api-https-redirect", "postdeploy/login-rate-limit",
                     "postdeploy/admin-csp-strict", "postdeploy/otel-grpc-reachable", "postdeploy/otel-http-reachable",
                     "postdeploy/otel-reachable-from-backend"] {
            #expect(up.stdout.contains("✓ \(step) "), "\(step): \(up.stdout)")
        }
        #expect(up.stdout.contains("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT 127.0.0.1:") && up.stdout.contains("accepts connections from the backend"), "\(up.stdout)")
        #expect(up.stdout.contains("– preflight/helm-namespace-given skipped"), "the helm path is skipped: \(up.stdout)")
        #expect(up.stdout.contains("vault-token-valid │ policies: default, dotmac-acme; ttl: 2764800 s; created: 1.0 days ago"), "\(up.stdout)")
        // The migration really ran against the tenant's database, as the tenant's user.
        #expect(try pg.psql("SELECT version_num FROM alembic_version", database: "dotmac_acme") == "0001")
        #expect(try pg.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'accounts'", database: "dotmac_acme") == "dotmac_acme")
        let runID = try stack.requireLastRunID()
        let run = try stack.show(runID)
        #expect(run["status"] as? String == "succeeded")
        #expect(Self.eventKinds(run).contains("backup_taken"))
        #expect(Self.steps(run)["deploy/k8s-namespace"]?["status"] as? String == "skipped")
        #expect(Self.steps(run)["deploy/helm-upgrade"]?["status"] as? String == "skipped")

        // The other tenant's database opened to every role (PostgreSQL's default for a new one):
        // this tenant's credentials now reach it, and preflight refuses before anything changes.
        try pg.psql("GRANT CONNECT ON DATABASE dotmac_other TO PUBLIC")
        let shared = try stack.run(["up", "dotmac/staging", "--yes"] + inputs)
        #expect(shared.status == 1 && shared.stdout.contains("✗ preflight/db-credentials-tenant-only")
                && shared.stdout.contains("db-credentials-tenant-only │ may connect to dotmac_other"), "\(shared.stdout)")
        #expect(!shared.stdout.contains("▶ migrate/"), "nothing migrated: \(shared.stdout)")
        try pg.psql("REVOKE CONNECT ON DATABASE dotmac_other FROM PUBLIC")
        // Sessions in a Redis that keeps nothing on disk: refused before anything changes.
        try redis.cli(["-a", redisPassword, "--no-auth-warning", "CONFIG", "SET", "appendonly", "no"])
        let volatile = try stack.run(["up", "dotmac/staging", "--yes"] + inputs)
        #expect(volatile.status == 1 && volatile.stdout.contains("✗ preflight/redis-sessions-persisted")
                && volatile.stdout.contains("sessions are not persisted: AOF off and no RDB save policy"), "\(volatile.stdout)")
        try redis.cli(["-a", redisPassword, "--no-auth-warning", "CONFIG", "SET", "appendonly", "yes"])
        // An Admin UI whose cookie lacks HttpOnly and SameSite: named (the step's own command, from the plan).
        let cookies = try SeedWebServer(routes: ["GET /api/auth/csrf": .init(200, headers: ["Set-Cookie": "sid=1; Path=/; Secure"])])
        let cookieStep = try Self.planArgv(stack, "dotmac/staging", "postdeploy/session-cookie-flags",
                                           inputs + Self.inputs(["admin_domain": "localhost:\(cookies.port)", "ca_file": cookies.certificate]))
        let flags = try Shell.capture(cookieStep[0], Array(cookieStep.dropFirst()), environment: stack.environment, directory: stack.git.path)
        #expect(flags.status == 1 && flags.stdout.contains("FAIL cookie sid: without HttpOnly, SameSite Lax or Strict (has none)"), "\(flags.stdout)\(flags.stderr)")

        // An Admin UI domain with no record yet: refused before anything changes.
        let undelegated = try stack.run(["up", "dotmac/staging", "--yes"] + inputs + Self.inputs(["admin_dns_name": "admin.acme.example.test"]))
        #expect(undelegated.status == 1 && undelegated.stdout.contains("✗ preflight/dns-admin") && undelegated.stdout.contains("✓ preflight/dns-api"),
                "\(undelegated.stdout)")
        #expect(!undelegated.stdout.contains("▶ migrate/"), "nothing migrated: \(undelegated.stdout)")
        // The env file the compose calls were given is the rendered one, 0600, and it holds the tenant's values.
        let envFile = "\(stack.state.path)/dotmac/acme-staging.env"
        #expect(Self.calls(stack).contains { $0.contains("docker compose --project-name acme-staging --env-file \(envFile)") },
                "\(Self.calls(stack))")
        let attributes = try FileManager.default.attributesOfItem(atPath: envFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let rendered = try String(contentsOfFile: envFile, encoding: .utf8)
        #expect(rendered.contains("REDIS__PORT=\(redis.port)"))
        #expect(rendered.contains("ENVIRONMENT=staging"))
        #expect(web.requests.contains { $0.hasPrefix("GET /api/v1/query?query=up%7Bjob%3D%22platform-backend%22%7D ") })
        #expect(web.requests.contains("POST /api/v2/alerts 200"))
        let report = try Self.report(stack, runID)
        #expect(report.contains("Backups scheduled for the database"))
        // deployctl's own files (journal, logs, reports) never hold it; the env file must (0600), and
        // the docker stand-in keeps a copy under standins/ as a container's environment would.
        let leaks = try stack.stateFiles(containing: dbPassword).filter { $0 != envFile && !$0.hasPrefix(stack.state.path + "/standins/") }
        #expect(leaks.isEmpty, "\(leaks)")

        // Someone opens the backend's CORS to any origin: `check` reads it inside the container.
        let projects = stack.state.path + "/standins/docker/projects.json"
        let saved = try Data(contentsOf: URL(fileURLWithPath: projects))
        var state = try #require(try JSONSerialization.jsonObject(with: saved) as? [String: Any])
        var project = try #require(state["acme-staging"] as? [String: Any])
        var containerEnv = try #require(project["env"] as? [String: String])
        containerEnv["CORS__ORIGINS"] = "*"
        project["env"] = containerEnv
        state["acme-staging"] = project
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: projects))
        let opened = try stack.run(["check", "dotmac/staging"])
        #expect(opened.status == 1 && opened.stdout.contains("✗ verify/backend-runs-intended-config"), "\(opened.stdout)")
        #expect(opened.stdout.contains("CORS__ORIGINS: DIFFERENT"), "\(opened.stdout)")
        try saved.write(to: URL(fileURLWithPath: projects))

        // The Helm path: a second revision installs the release, a third upgrades it but its rollout
        // never completes, and the automatic rollback undoes the upgrade with `helm rollback`
        // (stand-ins for helm and kubectl, which answer as the real ones do).
        let helmInputs = ["--input", "deploy_via=helm", "--input", "namespace=acme"] + inputs
        let staging = try stack.git.read("stacks/dotmac/staging.yaml")
        try stack.git.commit("staging: deployed with Helm", files: ["stacks/dotmac/staging.yaml": staging + "\n# deployed with Helm\n"])
        let installed = try stack.run(["up", "dotmac/staging", "--yes"] + helmInputs)
        #expect(installed.status == 0, "\(installed.stdout)\(installed.stderr)")
        let installedRevision = try stack.show(try stack.requireLastRunID())["revision"] as? String
        try stack.git.commit("staging: a Helm upgrade", files: ["stacks/dotmac/staging.yaml": staging + "\n# deployed with Helm, upgraded\n"])
        let before = Self.calls(stack).count
        let helm = try stack.run(["up", "dotmac/staging", "--yes"] + helmInputs, environment: ["STANDIN_FAIL": "kubectl-rollout"])
        #expect(helm.status == 1, "\(helm.stdout)\(helm.stderr)")
        #expect(helm.stdout.contains("✓ deploy/helm-upgrade "), "\(helm.stdout)")
        #expect(helm.stdout.contains("✗ deploy/backend-rolled-out "), "\(helm.stdout)")
        #expect(helm.stdout.contains("✓ rollback/undo.helm-upgrade "), "\(helm.stdout)")
        #expect(helm.stdout.contains("✓ rollback dotmac/staging"), "the rollback succeeded: \(helm.stdout)")
        let helmCalls = Self.calls(stack).dropFirst(before)
        let upgrade = helmCalls.firstIndex { $0.hasPrefix("helm upgrade --install acme-staging ") }
        let undo = helmCalls.firstIndex { $0.hasPrefix("helm rollback acme-staging --namespace acme") }
        #expect(upgrade != nil && undo != nil && upgrade! < undo!, "upgrade, then its undo: \(helmCalls)")
        // Rolled back to the installed revision, which is what status says is deployed.
        let status = try JSONSerialization.jsonObject(with: Data(try stack.run(["status", "dotmac/staging", "--format", "json"]).stdout.utf8)) as? [String: Any]
        #expect(installedRevision != nil && status?["deployed_revision"] as? String == installedRevision, "\(String(describing: status))")

        // The collector's gRPC port gone: the deploy goes through, postdeploy names the endpoint.
        collector.removeFirst()
        let dark = try stack.run(["up", "dotmac/staging", "--yes", "--parallel", "16", "--rev", installedRevision ?? "HEAD~1"] + helmInputs)
        #expect(dark.status == 1 && dark.stdout.contains("✗ postdeploy/otel-grpc-reachable"), "\(dark.stdout)")
        #expect(dark.stdout.contains("✓ postdeploy/otel-http-reachable"), "\(dark.stdout)")
        // And from inside the backend, which names the variable it was given.
        #expect(dark.stdout.contains("✗ postdeploy/otel-reachable-from-backend-k8s"), "\(dark.stdout)")
        #expect(dark.stdout.contains("OTEL_EXPORTER_OTLP_ENDPOINT 127.0.0.1:") && dark.stdout.contains("is NOT reachable from the backend"), "\(dark.stdout)")
        withExtendedLifetime(collector) {}

        // The bucket's lifecycle rule removed and its versioning suspended: preflight names both
        // and stops before anything is migrated.
        try moto.aws(["s3api", "delete-bucket-lifecycle", "--bucket", "dotmac-acme-staging"])
        try moto.aws(["s3api", "put-bucket-versioning", "--bucket", "dotmac-acme-staging", "--versioning-configuration", "Status=Suspended"])
        let unmanaged = try stack.run(["up", "dotmac/staging", "--yes", "--parallel", "16", "--rev", installedRevision ?? "HEAD~1"] + helmInputs)
        #expect(unmanaged.status == 1 && unmanaged.stdout.contains("✗ preflight/object-storage-lifecycle"), "\(unmanaged.stdout)")
        #expect(unmanaged.stdout.contains("✗ preflight/object-storage-versioning"), "\(unmanaged.stdout)")
        #expect(!unmanaged.stdout.contains("▶ migrate/"), "\(unmanaged.stdout)")
    }
}
