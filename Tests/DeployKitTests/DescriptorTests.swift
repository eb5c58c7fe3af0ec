import Testing
@testable import DeployKit

/// Valid descriptors: what they mean once loaded, merged and planned.
@Suite struct DescriptorTests {
    static let base = """
        description: shared
        inputs:
          tenant: {required: true, pattern: '^[a-z][a-z0-9-]*$', description: Tenant slug}
          deploy_via: {default: compose}
          replicas: {default: "2"}
        secrets:
          SECRET_KEY:
            env: DOTMAC_SECRET_KEY
            reject: [changeme, secret]
        defaults:
          timeout: 5m
          retries: 1
          backoff: 3s
          env: {LOG_LEVEL: info}
        backup:
          take: [pg_dump, -Fc, -f, "${backup.path}", "${env.DATABASE_URL}"]
          verify: [pg_restore, --list, "${backup.path}"]
          restore: [pg_restore, --clean, --if-exists, -d, "${env.DATABASE_URL}", "${backup.path}"]
        phases:
          preflight:
            - name: secrets-not-default
              run: [check-secrets]
          migrate:
            - name: alembic-upgrade
              run: [alembic, upgrade, head]
          deploy:
            - name: compose-up
              when: inputs.deploy_via == "compose"
              run: [docker, compose, up, -d]
            - name: helm-upgrade
              when: inputs.deploy_via == "helm"
              run: [helm, upgrade, --install, "dotmac-${inputs.tenant}", chart, --set, "replicas=${inputs.replicas}"]
              rollback: [helm, rollback, "dotmac-${inputs.tenant}"]
          verify:
            - name: health
              run: [curl, -fsS, "https://${inputs.tenant}.example.com/health"]
              expect:
                json: {"$.status": ok}
            - name: metrics-restricted
              needs: []
              run: [curl, -s, -o, /dev/null, -w, "%{http_code}", https://example.com/metrics]
              expect: {stdout_contains: "403"}
            - name: smoke-queries
              needs: [health, metrics-restricted]
              shell: psql "$DATABASE_URL" -c 'select 1' && echo ok
        manual:
          - CORS origins match the Admin UI domain(s)
          - {section: Security, item: RBAC roles tested for tenant/admin/partner}
        signoff: [Engineering Lead, DevOps Lead]
        """

    static let prod = """
        extends: _base.yaml
        stack: x
        environment: prod
        description: production
        defaults:
          timeout: 20m
        phases:
          deploy:
            - name: helm-upgrade
              timeout: 30m
              confirm: Upgrade the production release?
            - name: notify
              run: [echo, deployed]
        """

    func load() throws -> StackDescriptor {
        let result = Fixtures.load(["stacks/x/prod.yaml": Self.prod, "stacks/x/_base.yaml": Self.base])
        guard let d = result.descriptor else { throw Fixtures.FixtureError(problems: result.diagnostics.map(\.description)) }
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        return d
    }

    @Test func extendsMergesMappingsAndStepsByName() throws {
        let d = try load()
        #expect(d.files == ["stacks/x/prod.yaml", "stacks/x/_base.yaml"])
        #expect(d.description == "production")
        #expect(d.defaults.timeoutMs == 20 * 60_000)
        #expect(d.defaults.retries == 1)
        #expect(d.defaults.backoffMs == 3000)
        let deploy = d.steps(in: .deploy)
        #expect(deploy.map(\.name) == ["compose-up", "helm-upgrade", "notify"])
        let helm = deploy[1]
        #expect(helm.timeoutMs == 30 * 60_000)
        #expect(helm.confirm == "Upgrade the production release?")
        // Merged in place: the base's argv and rollback survive the override.
        #expect(helm.rollback != nil)
        #expect(helm.command?.templates.first?.raw == "helm")
        // Each merged node keeps its own file: the name from the override, the argv from the base.
        #expect(helm.location.file == "stacks/x/prod.yaml")
        #expect(helm.command?.templates.first?.location == FileLocation(file: "stacks/x/_base.yaml", line: 32, column: 13))
        #expect(d.steps(in: .deploy)[2].location.file == "stacks/x/prod.yaml")
        #expect(d.manual.map(\.text) == ["CORS origins match the Admin UI domain(s)", "RBAC roles tested for tenant/admin/partner"])
        #expect(d.manual[1].section == "Security")
        #expect(d.signoff == ["Engineering Lead", "DevOps Lead"])
    }

    @Test func planResolvesArgvAppliesDefaultsAndMasksSecrets() throws {
        let d = try load()
        let (inputs, problems) = InputResolver(descriptor: d).resolve(InputSupply(flags: [("tenant", "acme"), ("deploy_via", "helm")]))
        #expect(problems.isEmpty)
        let (secrets, secretProblems) = SecretResolver(descriptor: d) { _ in nil }.resolve(environment: ["DOTMAC_SECRET_KEY": "s3cr3t-value-xyz"])
        #expect(secretProblems.isEmpty)
        let context = PlanContext(revision: String(repeating: "1", count: 40), revisionSubject: "s", revisionAuthor: "a",
                                  descriptorBlob: "b", inputs: inputs, secrets: secrets,
                                  environment: ["DATABASE_URL": "postgresql://db/app"], stateDirectory: "/var/lib/deployctl",
                                  runID: "R7", operatorName: "ada@host")
        let (plan, planProblems) = Planner.plan(d, context)
        #expect(planProblems.isEmpty)
        let deploy = try #require(plan.phases.first { $0.name == "deploy" })
        let helm = try #require(deploy.steps.first { $0.name == "helm-upgrade" })
        #expect(helm.argv == ["helm", "upgrade", "--install", "dotmac-acme", "chart", "--set", "replicas=2"])
        #expect(helm.skipped == false)
        #expect(helm.timeoutMs == 30 * 60_000)
        #expect(helm.retries == 1)
        #expect(helm.env == ["LOG_LEVEL": "info"])
        #expect(helm.rollbackArgv == ["helm", "rollback", "dotmac-acme"])
        #expect(deploy.steps.first { $0.name == "compose-up" }?.skipped == true)
        let migrate = try #require(plan.phases.first { $0.name == "migrate" })
        #expect(migrate.backup?.take.argv == ["pg_dump", "-Fc", "-f", "/var/lib/deployctl/backups/x-prod-R7.backup", "postgresql://db/app"])
        #expect(plan.secrets.map(\.status) == [.set])
        let json = try PlanRenderer.json(plan)
        #expect(!json.contains("s3cr3t-value-xyz"))
        #expect(!PlanRenderer.text(plan).contains("s3cr3t-value-xyz"))
    }

    @Test func secretsInArgvAreMaskedInPlans() throws {
        let (plan, _) = try Fixtures.plan("""
            secrets:
              TOKEN: {}
            phases:
              deploy:
                - name: up
                  run: [tool, "--token=${secrets.TOKEN}"]
            """, secrets: ["TOKEN": "canary-7f3a"])
        #expect(plan.phases[2].steps[0].argv == ["tool", "--token=••••"])
        #expect(try !PlanRenderer.json(plan).contains("canary-7f3a"))
    }

    @Test func wavesFollowNeedsAndDeclaredOrder() throws {
        let d = try load()
        let (plan, _) = Planner.plan(d, PlanContext(revision: "r", revisionSubject: "", revisionAuthor: "", descriptorBlob: "",
                                                    inputs: [ResolvedInput(name: "tenant", value: "a", source: .flag)], secrets: [],
                                                    environment: ["DATABASE_URL": "x"], stateDirectory: "/s", runID: "R", operatorName: "o"))
        let verify = try #require(plan.phases.first { $0.name == "verify" }).steps
        #expect(verify.map(\.wave) == [0, 0, 1])
        #expect(verify.map(\.after) == [[], [], ["health", "metrics-restricted"]])
        let deploy = try #require(plan.phases.first { $0.name == "deploy" }).steps
        #expect(deploy.map(\.wave) == [0, 1, 2])
        // "Every earlier step", reduced: helm-upgrade already waits for compose-up.
        #expect(deploy[2].after == ["helm-upgrade"])
    }

    @Test func aShellStepIsExplicitInTheArgv() throws {
        let (plan, _) = try Fixtures.plan("""
            phases:
              postdeploy:
                - name: note
                  shell: echo "done" >> log.txt
            """)
        let step = plan.phases[4].steps[0]
        #expect(step.shell)
        #expect(step.argv == ["/bin/sh", "-c", "echo \"done\" >> log.txt"])
    }

    @Test func anUnsetEnvironmentVariableIsAPlanProblem() throws {
        let (_, problems) = try Fixtures.plan("""
            phases:
              deploy:
                - name: up
                  run: [deploy, "${env.KUBECONFIG}"]
            """)
        #expect(problems.map(\.description) == ["stacks/x/prod.yaml:4:21: error: environment variable KUBECONFIG is not set (used as ${env.KUBECONFIG})"])
    }

    @Test func literalDollarBraceEscapes() throws {
        let (plan, problems) = try Fixtures.plan("""
            phases:
              deploy:
                - name: up
                  run: [echo, "$${HOME} stays"]
            """)
        #expect(problems.isEmpty)
        #expect(plan.phases[2].steps[0].argv == ["echo", "${HOME} stays"])
    }

    @Test func inboundAndReadinessAreRead() throws {
        let d = try Fixtures.descriptor("""
            inbound:
              disable: [aws, ses, update-receipt-rule, --rule, off]
              enable: {run: [aws, ses, update-receipt-rule, --rule, on], timeout: 30s}
              status:
                run: [aws, ses, describe-receipt-rule, --query, Rule.Enabled, --output, text]
                enabled: {stdout_matches: '^True$'}
                disabled: {stdout_matches: '^False$'}
                wait: 2m
              drain:
                run: [aws, sqs, get-queue-attributes]
                until: {stdout_contains: '"ApproximateNumberOfMessages": "0"'}
                wait: 10m
            readiness:
              categories: [Security, Performance, Monitoring, Documentation, Team Readiness]
              pass: 20
            """)
        let inbound = try #require(d.inbound)
        #expect(inbound.status.timeoutMs == 120_000)
        #expect(inbound.status.enabled?.stdoutMatches == ["^True$"])
        #expect(inbound.enable.timeoutMs == 30_000)
        #expect(inbound.drain?.timeoutMs == 600_000)
        #expect(d.readiness == Readiness(categories: ["Security", "Performance", "Monitoring", "Documentation", "Team Readiness"], scale: 5, pass: 20))
    }

    @Test func expectAcceptsTheThreeStateDoctorExitCodes() throws {
        let d = try Fixtures.descriptor("""
            phases:
              preflight:
                - name: wiring-doctor
                  run: [mix, mailglass.doctor]
                  expect: {exit: [0]}
                - name: any-of
                  run: [mix, mailglass.doctor]
                  expect: {exit: [0, 1], stderr_contains: [absent]}
            """)
        #expect(d.steps(in: .preflight)[0].expect.exitCodes == [0])
        #expect(d.steps(in: .preflight)[1].expect.exitCodes == [0, 1])
        #expect(d.steps(in: .preflight)[1].expect.stderrContains == ["absent"])
    }
}

@Suite struct InputTests {
    let d: StackDescriptor

    init() throws {
        d = try Fixtures.descriptor("""
            inputs:
              tenant: {required: true, pattern: '^[a-z]+$', description: Tenant slug}
              api_domain: {required: true, env: API_DOMAIN}
              region: {default: eu-west-1}
            """)
    }

    @Test func precedenceIsFlagThenFileThenEnvironmentThenDefault() throws {
        let file = try InputFile.parse("tenant=fromfile\nregion=us-east-1\n", path: "in.env").get()
        let (inputs, problems) = InputResolver(descriptor: d).resolve(InputSupply(
            flags: [("tenant", "fromflag")], file: file,
            environment: ["DEPLOYCTL_INPUT_TENANT": "fromenv", "API_DOMAIN": "api.example.com"]))
        #expect(problems.isEmpty)
        #expect(inputs.map { "\($0.name)=\($0.value) (\($0.source.rawValue))" } == [
            "tenant=fromflag (--input)", "api_domain=api.example.com (environment)", "region=us-east-1 (--input-file)",
        ])
    }

    @Test func everyMissingRequiredInputIsNamed() {
        let (_, problems) = InputResolver(descriptor: d).resolve(InputSupply())
        #expect(problems.map(\.description) == [
            "stacks/x/prod.yaml:2:3: error: required input 'tenant' (Tenant slug) is missing; give --input tenant=VALUE, an --input-file line, or DEPLOYCTL_INPUT_TENANT",
            "stacks/x/prod.yaml:3:3: error: required input 'api_domain' is missing; give --input api_domain=VALUE, an --input-file line, or API_DOMAIN",
            "error: 2 required input(s) missing: tenant, api_domain",
        ])
    }

    @Test func aValueThatFailsThePatternAndAnUnknownFlag() {
        let (_, problems) = InputResolver(descriptor: d).resolve(InputSupply(flags: [("tenant", "Acme"), ("api_domain", "x"), ("regoin", "x")]))
        #expect(problems.map(\.description) == [
            "error: --input regoin=…: the descriptor declares no input 'regoin' (did you mean 'region'?); inputs: tenant, api_domain, region",
            "stacks/x/prod.yaml:2:3: error: input 'tenant' is \"Acme\" (from --input), which does not match /^[a-z]+$/",
        ])
    }

    @Test func inputFilesAreDotenvLines() throws {
        let file = try InputFile.parse("# tenant sheet\nexport tenant=acme\napi_domain = \"api.acme.test\"\n\n", path: "acme.env").get()
        #expect(file.values["tenant"]?.value == "acme")
        #expect(file.values["api_domain"]?.value == "api.acme.test")
        #expect(file.values["api_domain"]?.line == 3)
        guard case .failure(let problem) = InputFile.parse("tenant acme\n", path: "bad.env") else {
            Issue.record("a line without = must fail")
            return
        }
        #expect(problem.description == "bad.env:1:1: error: expected KEY=VALUE, found \"tenant acme\"")
        // Windows line ends: "\r\n" is one Character, and the lines still split there.
        let crlf = try InputFile.parse("tenant=acme\r\nregion=eu-west-1\r\n", path: "win.env").get()
        #expect(crlf.values["tenant"]?.value == "acme" && crlf.values["region"]?.value == "eu-west-1" && crlf.values["region"]?.line == 2)
    }

    @Test func secretsRejectDefaultsAndShortValues() throws {
        let d = try Fixtures.descriptor("""
            secrets:
              SECRET_KEY: {reject: [changeme], min_length: 8}
              JWT: {env: AUTH__JWT_SECRET_KEY}
              OPTIONAL: {optional: true}
            """)
        let (secrets, problems) = SecretResolver(descriptor: d) { _ in nil }.resolve(environment: ["SECRET_KEY": "changeme"])
        #expect(secrets.map(\.status) == [.rejected, .missing, .missing])
        #expect(secrets.allSatisfy { $0.value == nil })
        #expect(problems.map(\.description) == [
            "stacks/x/prod.yaml:2:3: error: secret 'SECRET_KEY' ($SECRET_KEY) is set to a known default that this descriptor rejects; set a real value",
            "stacks/x/prod.yaml:3:3: error: secret 'JWT' is not set; export AUTH__JWT_SECRET_KEY before running",
        ])
        let (short, shortProblems) = SecretResolver(descriptor: d) { _ in nil }.resolve(environment: ["SECRET_KEY": "abc", "AUTH__JWT_SECRET_KEY": "j"])
        #expect(short.map(\.status) == [.tooShort, .set, .missing])
        #expect(shortProblems.count == 1)
    }
}

@Suite struct OrderTests {
    @Test func everyEarlierStepIsWrittenAsTheFrontier() throws {
        let parallel = (1...3).map { "    - {name: p\($0), needs: [], run: [\"true\"]}" }.joined(separator: "\n")
        let d = try Fixtures.descriptor("""
            phases:
              verify:
                - {name: first, run: ["true"]}
            \(parallel)
                - {name: join, run: ["true"]}
                - {name: last, run: ["true"]}
                - {name: side, needs: [first], run: ["true"]}
                - {name: end, run: ["true"]}
            """)
        let after = Planner.dependencies(d.steps(in: .verify))
        #expect(after["first"] == [])
        #expect(after["p1"] == [] && after["p3"] == [])
        #expect(after["join"] == ["first", "p1", "p2", "p3"])
        #expect(after["last"] == ["join"])
        #expect(after["end"] == ["last", "side"])
    }

    @Test func aReportFindsEachSecretInArgvAllowanceByTheNameTheJournalGives() throws {
        let (plan, _) = try Fixtures.plan("""
            secrets:
              TOKEN: {env: X_TOKEN}
            backup:
              take: {run: [dump, "${secrets.TOKEN}"], secret_in_argv: the dump tool reads it from argv}
              verify: [check]
              restore: [load]
            phases:
              migrate:
                - name: migrate
                  run: [migrate]
              deploy:
                - name: vendor
                  run: [vendor, "${secrets.TOKEN}"]
                  secret_in_argv: the vendor CLI
                - name: quiet
                  run: ["true"]
            rollback:
              - name: vendor
                run: [undo, "${secrets.TOKEN}"]
                secret_in_argv: the undo CLI
            """, secrets: ["X_TOKEN": "t0ken-value-1234"])
        let allowances = plan.argvSecretAllowances
        #expect(allowances.reason(StepRef(phase: "deploy", name: "vendor")) == "the vendor CLI")
        #expect(allowances.reason(StepRef(phase: "deploy", name: "quiet")) == nil)
        #expect(allowances.reason(StepRef(phase: "verify", name: "vendor")) == nil, "a step is found in its own phase only")
        #expect(allowances.reason(StepRef(phase: "migrate", name: "backup.take")) == "the dump tool reads it from argv")
        #expect(allowances.reason(StepRef(phase: "migrate", name: "backup.verify")) == nil)
        #expect(allowances.reason(StepRef(phase: "rollback", name: "vendor")) == "the undo CLI", "a rollback: step, by the rollback's section")
    }
}
