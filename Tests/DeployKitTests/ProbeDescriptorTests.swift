import Probes
import Testing
@testable import DeployKit

/// Probe steps in descriptors: decoded into requests, planned with templates filled in and
/// secrets masked, and every mistake reported at its line and column.
@Suite struct ProbeDescriptorTests {
    let f = Fixtures.path

    private func expectProblems(_ yaml: String, _ expected: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(Fixtures.problems(yaml) == expected, sourceLocation: sourceLocation)
    }

    @Test func probesArePlannedWithTemplatesFilledAndSecretsMasked() throws {
        let (plan, problems) = try Fixtures.plan("""
            inputs:
              host: { default: example.test }
            secrets:
              token: { env: TOKEN }
            phases:
              verify:
                - name: health
                  http:
                    url: "https://${inputs.host}/health"
                    headers: { Authorization: "Bearer ${secrets.token}" }
                    status: [200, 204]
                    json: { "$.status": ok }
                    latency_ms: { p95: 250 }
                    samples: 20
                    concurrency: 4
                - name: dkim
                  dns: { domain: "${inputs.host}", server: "127.0.0.1:5353", dkim: { selector: s1 } }
                - name: cert
                  tls: { host: "${inputs.host}", min_days: 14 }
            """, secrets: ["TOKEN": "abc123"])
        #expect(problems.isEmpty)
        let steps = plan.phases[3].steps
        #expect(steps[0].probe?.http?.url == "https://example.test/health")
        #expect(steps[0].probe?.http?.headers == ["Authorization": "Bearer ••••"])
        #expect(steps[0].probe?.http?.status == [200, 204])
        #expect(steps[0].argv.isEmpty)
        #expect(steps[0].shownCommand == ["http", "GET", "https://example.test/health"])
        #expect(steps[0].expect == ["status 200 or 204", "$.status == ok", "20 samples, 4 at a time", "p95 ≤ 250.0 ms"])
        #expect(steps[1].probe?.dns?.name == "s1._domainkey.example.test")
        #expect(steps[1].probe?.dns?.type == .TXT)
        #expect(steps[1].probe?.dns?.server == "127.0.0.1:5353")
        #expect(steps[2].probe?.tls?.port == 443)
        #expect(steps[2].expect == ["certificate valid ≥ 14 days", "hostname matches", "chain trusted"])
    }

    @Test func aStepIsEitherACommandOrOneProbe() {
        expectProblems("""
            phases:
              verify:
                - name: both
                  run: [curl, x]
                  http: { url: "https://x" }
            """, ["\(f):5:7: error: step 'both' has both a command ('run') and the probe 'http'; give one"])
        expectProblems("""
            phases:
              verify:
                - name: two
                  tcp: { host: x, port: 1 }
                  tls: { host: x }
            """, ["\(f):5:7: error: step 'two' has both 'tcp' and 'tls'; a step is one probe"])
    }

    @Test func unknownProbeKeysGetASuggestion() {
        expectProblems("""
            phases:
              verify:
                - name: h
                  http: { url: "https://x", folow_redirects: true }
            """, ["\(f):4:33: error: unknown key 'folow_redirects' in 'http' of step 'h' (did you mean 'follow_redirects'?)"])
        expectProblems("""
            phases:
              verify:
                - name: d
                  dns: { name: x.test, type: TXTT }
            """, ["\(f):4:34: error: 'type' of 'dns' of step 'd' must be one of A, AAAA, CNAME, MX, NS, TXT, not \"TXTT\" (did you mean 'TXT'?)"])
    }

    @Test func missingAndContradictorySettingsAreNamed() {
        expectProblems("""
            phases:
              verify:
                - name: limit
                  rate_limit: { url: "https://x/login", requests: 5, allowed: 5 }
                - name: redirect
                  http: { url: "http://x", redirects_to_https: true, follow_redirects: true }
                - name: spf
                  dns: { domain: x.test, spf: { all: hardfail } }
                - name: port
                  tcp: { host: x }
            """, [
                "\(f):4:45: error: 'rate_limit' of step 'limit' sends 5 requests but allows 5; send more than 'allowed' or the limit is never reached",
                "\(f):6:58: error: 'http' of step 'redirect' sets both 'redirects_to_https' and 'follow_redirects: true'; a redirect can only be checked if it is not followed",
                "\(f):8:42: error: 'all' of 'spf' must be one of -all, ~all, ?all, +all (the weakest qualifier accepted), not \"hardfail\"",
                "\(f):10:12: error: 'tcp' of step 'port' has no 'port'",
            ])
    }

    @Test func probeTemplatesAreCheckedLikeCommands() {
        expectProblems("""
            phases:
              verify:
                - name: h
                  http: { url: "https://${inputs.hots}/" }
            """, ["\(f):4:20: error: unknown input 'hots' in ${inputs.hots}; declare it under 'inputs:'"])
    }

    @Test func expectBelongsToCommands() {
        expectProblems("""
            phases:
              verify:
                - name: h
                  http: { url: "https://x/" }
                  expect: { exit: 0 }
            """, ["\(f):5:7: error: 'expect' of step 'h' checks a command's exit and output; a 'http' probe states its checks inside 'http:'"])
    }

    @Test func notifyTakesURLsOrEntriesWithWhen() throws {
        let (plan, _) = try Fixtures.plan("""
            secrets:
              hook: { env: HOOK }
            notify:
              - "${secrets.hook}"
              - { url: "https://chat.example/hook", on: [failure] }
            phases: {}
            """, secrets: ["HOOK": "https://hooks.slack.com/services/T/B/x"])
        #expect(plan.notify == [PlanNotify(url: "••••", on: ["failure", "success"]), PlanNotify(url: "https://chat.example/hook", on: ["failure"])])
        expectProblems("""
            notify:
              - { url: "https://x", on: [sucess] }
            """, ["\(f):2:29: error: 'on' of a 'notify' entry lists \"sucess\"; use success and/or failure (did you mean 'success'?)"])
    }
}

@Suite struct RunbookDescriptorTests {
    let f = Fixtures.path

    @Test func runbooksAreReadOnlyAndRunInOrder() {
        #expect(Fixtures.problems("""
            runbooks:
              triage:
                steps:
                  - name: look
                    run: [true]
                    rollback: [false]
                  - name: ask
                    run: [true]
                    confirm: Sure?
                  - name: later
                    needs: [look]
                    run: [true]
              empty:
                steps: []
              bad:
                stepz: []
            """) == [
                "\(f):4:15: error: step 'look' of runbook 'triage' has a 'rollback'; runbooks are read-only, so there is nothing to undo",
                "\(f):7:15: error: step 'ask' of runbook 'triage' has 'confirm'; runbooks are read-only and run unattended",
                "\(f):11:16: error: step 'later' of runbook 'triage' has 'needs'; every step of a runbook runs, in order",
                "\(f):13:3: error: runbook 'empty' has no steps",
                "\(f):16:5: error: unknown key 'stepz' in runbook 'bad' (did you mean 'steps'?)",
                "\(f):16:5: error: runbook 'bad' has no 'steps' (the read-only checks it runs)",
            ])
    }
}

@Suite struct ProbeTemplateTests {
    @Test func portsSelectorsAndUnsetOptionalSecretsTakeTemplates() throws {
        let yaml = """
            inputs:
              smtp_port: { default: "587" }
              selector: { default: mg2026 }
            secrets:
              smtp_password: { env: SMTP_PASSWORD, optional: true }
            phases:
              verify:
                - name: smtp
                  tcp: { host: smtp.example.test, port: "${inputs.smtp_port}" }
                - name: dkim
                  dns: { domain: example.test, dkim: { selector: "${inputs.selector}" } }
                - name: login
                  run: [smtp-check, --password, "${secrets.smtp_password}"]
            """
        let (plan, problems) = try Fixtures.plan(yaml)
        #expect(problems.isEmpty, "\(problems)")
        #expect(plan.phases[3].steps[0].probe?.tcp?.port == 587)
        #expect(plan.phases[3].steps[1].probe?.dns?.name == "mg2026._domainkey.example.test")
        #expect(plan.phases[3].steps[2].argv == ["smtp-check", "--password", ""], "an unset optional secret reads as empty")
        let (_, bad) = try Fixtures.plan(yaml, inputs: [("smtp_port", "smtp")])
        #expect(bad.map(\.description) == ["stacks/x/prod.yaml:9:45: error: 'port' is \"smtp\" (from ${inputs.smtp_port}), not a port number 1-65535"])
    }
}
