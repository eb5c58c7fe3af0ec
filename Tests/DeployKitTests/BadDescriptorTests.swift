import Testing
@testable import DeployKit

/// Each bad descriptor must produce exactly the expected diagnostics: file, line, column and
/// message, as `deployctl validate` prints them. Nothing else may be reported alongside.
@Suite struct BadDescriptorTests {
    let f = Fixtures.path

    private func expectProblems(_ yaml: String, _ expected: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let found = Fixtures.problems(yaml)
        #expect(found == expected, sourceLocation: sourceLocation)
        #expect(Fixtures.load(yaml).descriptor == nil, "an invalid descriptor must not load", sourceLocation: sourceLocation)
    }

    // MARK: GitOps

    @Test func aTrackedBranchMustBeABranchName() {
        expectProblems("""
            track: ../main
            phases:
              deploy: []
            """, ["\(f):1:8: error: 'track' must be a branch name such as main or release/prod (letters, digits, - _ . /; no '..', no refs/ prefix)"])
        expectProblems("""
            track: {brnch: main}
            """, ["\(f):1:8: error: 'track' needs 'branch' (the remote branch this environment follows, e.g. main)",
                  "\(f):1:9: error: unknown key 'brnch' in 'track' (did you mean 'branch'?)"])
    }

    @Test func aSignatureTrustRootIsAnAbsolutePathOutsideTheRepository() {
        expectProblems("""
            signatures:
              allowed_signers: keys/allowed_signers
            """, ["\(f):2:20: error: 'signatures.allowed_signers' must be an absolute path outside the repository (the trust root cannot come from the commit it judges)"])
        expectProblems("""
            signatures:
              every_commit: true
            """, ["\(f):2:3: error: 'signatures' needs 'allowed_signers' (an OpenSSH allowed-signers file) or 'gpg_keyring' (an OpenPGP keyring), as an absolute path"])
    }

    @Test func aValidTrackAndSignaturePolicyLoad() throws {
        let loaded = Fixtures.load("""
            track: release/prod
            signatures: {allowed_signers: /etc/deployctl/allowed_signers, every_commit: true}
            phases:
              deploy: []
            """)
        let descriptor = try #require(loaded.descriptor)
        #expect(descriptor.track?.branch == "release/prod")
        #expect(descriptor.signatures?.allowedSigners == "/etc/deployctl/allowed_signers" && descriptor.signatures?.everyCommit == true)
    }

    // MARK: Unknown keys and wrong types

    @Test func unknownTopLevelKeySuggestsTheRightOne() {
        expectProblems("""
            stack: x
            environment: prod
            phazes:
              deploy: []
            """, ["\(f):3:1: error: unknown key 'phazes' in the descriptor (did you mean 'phases'?)"])
    }

    @Test func unknownStepKeySuggestsTheRightOne() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: [echo, hi]
                  timout: 5m
            """, ["\(f):5:7: error: unknown key 'timout' in step 'up' (did you mean 'timeout'?)"])
    }

    @Test func unknownPhaseSuggestsTheRightOne() {
        expectProblems("""
            phases:
              deploi:
                - name: up
                  run: [echo]
            """, ["\(f):2:3: error: unknown key 'deploi' in 'phases' (the phases are preflight, migrate, deploy, verify, postdeploy) (did you mean 'deploy'?)"])
    }

    @Test func unknownKeyFarFromAnyKnownOneHasNoSuggestion() {
        expectProblems("""
            colour: blue
            """, ["\(f):1:1: error: unknown key 'colour' in the descriptor"])
    }

    @Test func retriesMustBeANumber() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: [echo]
                  retries: three
            """, ["\(f):5:16: error: 'retries' of step 'up' must be a whole number, not \"three\""])
    }

    @Test func retriesHasABound() {
        expectProblems("""
            defaults:
              retries: 1000
            """, ["\(f):2:12: error: 'defaults.retries' must be between 0 and 100, not 1000"])
    }

    @Test func booleansMustBeBooleans() {
        expectProblems("""
            phases:
              verify:
                - name: check
                  run: [true]
                  continue_on_error: maybe
            """, ["\(f):5:26: error: 'continue_on_error' of step 'check' must be true or false, not \"maybe\""])
    }

    @Test func aStringRunIsRefusedWithTheArgvItShouldBe() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: pulumi up --yes
            """, ["\(f):4:12: error: 'run' of step 'up' must be a list of arguments, e.g. [\"pulumi\", \"up\", \"--yes\"]; deployctl never splits a string or runs a shell unless the step says 'shell:'"])
    }

    @Test func runAndShellTogether() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: [echo]
                  shell: echo hi
            """, ["\(f):5:7: error: step 'up' has both 'run' and 'shell'; give one"])
    }

    @Test func neitherRunNorShell() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  timeout: 5m
            """, ["\(f):3:7: error: step 'up' has neither 'run' (an argv list) nor 'shell' (a command line)"])
    }

    @Test func anEmptyArgv() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: []
            """, ["\(f):4:12: error: 'run' of step 'up' is an empty list; give the program and its arguments"])
    }

    @Test func aStepWithoutAName() {
        expectProblems("""
            phases:
              preflight:
                - run: [echo]
            """, ["\(f):3:7: error: a step in phase 'preflight' has no 'name'"])
    }

    @Test func aStepNameWithSpaces() {
        expectProblems("""
            phases:
              deploy:
                - name: deploy the app
                  run: [echo]
            """, ["\(f):3:13: error: step name 'deploy the app' may use only letters, digits, '-', '_' and '.'"])
    }

    @Test func phasesMustBeAMapping() {
        expectProblems("""
            phases:
              - deploy
            """, ["\(f):2:3: error: 'phases' (the phases are preflight, migrate, deploy, verify, postdeploy) must be a mapping of keys, not a list"])
    }

    /// ssh takes a user that starts with `-` as an option (`-oProxyCommand=…`).
    @Test func anSSHUserThatWouldBeAnOptionIsRefused() {
        expectProblems("""
            hosts:
              web1: {address: 127.0.0.1}
            ssh:
              known_hosts: k
              user: -oProxyCommand=x
            phases:
              deploy:
                - {name: up, on: all, run: ["true"]}
            """, ["\(f):5:9: error: 'ssh.user' cannot start with '-' or hold spaces or '@' (it goes to ssh)"])
    }

    /// A dash, and a letter a host's sh would refuse in `export`.
    @Test(arguments: ["MY-VAR", "CAFÉ"]) func badEnvironmentVariableName(_ name: String) {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: [echo]
                  env:
                    \(name): 1
            """, ["\(f):6:9: error: '\(name)' is not a valid environment variable name (ASCII letters, digits and _, not starting with a digit)"])
    }

    // MARK: Durations, regexes, codes, paths

    @Test func aDurationInWords() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: [echo]
                  timeout: 5 minutes
            """, ["\(f):5:16: error: 'timeout' of step 'up' is not a duration: \"5 minutes\" (write e.g. 30s, 5m, 1h30m or 250ms)"])
    }

    @Test func aBadRegexInExpect() {
        expectProblems("""
            phases:
              verify:
                - name: check
                  run: [echo]
                  expect:
                    stdout_matches: "([a-z"
            """, ["\(f):6:25: error: 'stdout_matches' of 'expect' of step 'check' is not a valid regular expression: /([a-z/"])
    }

    @Test func aBadInputPattern() {
        expectProblems("""
            inputs:
              tenant:
                pattern: "[unclosed"
            """, ["\(f):3:14: error: 'pattern' of input 'tenant' is not a valid regular expression: /[unclosed/"])
    }

    @Test func anExitCodeOutOfRange() {
        expectProblems("""
            phases:
              verify:
                - name: doctor
                  run: [mix, mailglass.doctor]
                  expect:
                    exit: [0, 300]
            """, ["\(f):6:19: error: each exit code in 'expect' of step 'doctor' must be between 0 and 255, not 300"])
    }

    @Test func aJSONPathWithoutDollar() {
        expectProblems("""
            phases:
              verify:
                - name: health
                  run: [curl, -s, http://127.0.0.1/health]
                  expect:
                    json:
                      status: ok
            """, ["\(f):7:11: error: JSON path \"status\" must start with '$' (e.g. $.status)"])
    }

    // MARK: Step graph

    @Test func duplicateStepNamesAcrossPhases() {
        expectProblems("""
            phases:
              preflight:
                - name: check
                  run: [echo]
              verify:
                - name: check
                  run: [echo]
            """, ["\(f):6:13: error: duplicate step name 'check' (first defined at \(f):3:13)"])
    }

    @Test func needsAnUnknownStepWithASuggestion() {
        expectProblems("""
            phases:
              verify:
                - name: health
                  run: [echo]
                - name: smoke
                  needs: [helth]
                  run: [echo]
            """, ["\(f):6:14: error: step 'smoke' needs 'helth', which is not a step of phase 'verify' (did you mean 'health'?)"])
    }

    @Test func needsAStepOfAnotherPhase() {
        expectProblems("""
            phases:
              deploy:
                - name: release
                  run: [echo]
              verify:
                - name: smoke
                  needs: release
                  run: [echo]
            """, ["\(f):7:14: error: step 'smoke' needs 'release', which is in phase 'deploy'; 'needs' orders steps within one phase (phases already run in order)"])
    }

    @Test func needsCycle() {
        expectProblems("""
            phases:
              deploy:
                - name: a
                  needs: [c]
                  run: [echo]
                - name: b
                  needs: [a]
                  run: [echo]
                - name: c
                  needs: [b]
                  run: [echo]
            """, ["\(f):3:13: error: 'needs' cycle: a → c → b → a"])
    }

    @Test func needsItself() {
        expectProblems("""
            phases:
              deploy:
                - name: a
                  needs: [a]
                  run: [echo]
            """, ["\(f):4:14: error: step 'a' needs itself"])
    }

    // MARK: Backup

    @Test func migrateWithoutABackup() {
        expectProblems("""
            phases:
              migrate:
                - name: alembic-upgrade
                  run: [alembic, upgrade, head]
            """, ["\(f):3:13: error: phase 'migrate' has 1 step(s) but the descriptor has no 'backup:' block; a migration always runs after a verified backup (give backup.take, backup.verify and backup.restore)"])
    }

    @Test func aBackupWithoutRestore() {
        expectProblems("""
            backup:
              take: [pg_dump, -Fc, -f, "${backup.path}"]
              verify: [pg_restore, --list, "${backup.path}"]
            """, ["\(f):2:3: error: 'backup' has no 'restore' command; a backup needs take, verify and restore"])
    }

    @Test func aBadOnFailure() {
        expectProblems("""
            backup:
              take: [a]
              verify: [b]
              restore: [c]
              on_failure: ignore
            """, ["\(f):5:15: error: 'backup.on_failure' must be 'restore' or 'stop', not \"ignore\""])
    }

    // MARK: Interpolation

    @Test func anUnknownInputReference() {
        expectProblems("""
            inputs:
              tenant: {required: true}
            phases:
              deploy:
                - name: up
                  run: [helm, upgrade, "${inputs.tenat}"]
            """, ["\(f):6:28: error: unknown input 'tenat' in ${inputs.tenat} (did you mean 'tenant'?); declare it under 'inputs:'"])
    }

    @Test func anUnknownSecretReference() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: [echo]
                  env:
                    TOKEN: ${secrets.API_TOKEN}
            """, ["\(f):6:16: error: unknown secret 'API_TOKEN' in ${secrets.API_TOKEN}; declare it under 'secrets:'"])
    }

    @Test func anUnknownNamespace() {
        expectProblems("""
            inputs:
              port: {default: "80"}
            phases:
              deploy:
                - name: up
                  run: [echo, "${input.port}"]
            """, ["\(f):6:19: error: unknown namespace 'input' in ${input.port} (did you mean 'inputs'?); use inputs, secrets, env, run or backup"])
    }

    @Test func anUnknownRunField() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: [echo, "${run.sha}"]
            """, ["\(f):4:19: error: unknown run field 'sha' in ${run.sha}; known: id, revision, short_revision, stack, environment, target, operator, state_dir, kind"])
    }

    @Test func backupPathWithoutABackup() {
        expectProblems("""
            phases:
              postdeploy:
                - name: show
                  run: [ls, "${backup.path}"]
            """, ["\(f):4:17: error: ${backup.path} is used but the descriptor has no 'backup:' block"])
    }

    @Test func anUnterminatedReference() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  run: [echo, "${inputs.port"]
            """, ["\(f):4:19: error: unterminated '${' in \"${inputs.port\" (write '$${' for a literal '${')"])
    }

    // MARK: when

    @Test func whenWithAnUnknownInput() {
        expectProblems("""
            inputs:
              deploy_via: {default: compose}
            phases:
              deploy:
                - name: helm-upgrade
                  when: inputs.deploy_vai == "helm"
                  run: [helm, upgrade]
            """, ["\(f):6:13: error: 'when' of step 'helm-upgrade' uses unknown input 'deploy_vai' (did you mean 'deploy_via'?)"])
    }

    @Test func whenThatDoesNotParse() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                  when: inputs.a == == "b"
                  run: [echo]
            """, ["\(f):4:13: error: expected a value, found '==' in condition \"inputs.a == == \"b\"\""])
    }

    @Test func whenCannotDependOnASecret() {
        expectProblems("""
            secrets:
              TOKEN: {}
            phases:
              deploy:
                - name: up
                  when: secrets.TOKEN
                  run: [echo]
            """, ["\(f):6:13: error: 'when' of step 'up' cannot depend on a secret ('secrets.TOKEN'); conditions are printed in plans and reports"])
    }

    // MARK: Inputs and secrets

    @Test func aRequiredInputWithADefault() {
        expectProblems("""
            inputs:
              tenant:
                required: true
                default: acme
            """, ["\(f):4:5: error: input 'tenant' is required and also has a default; drop one of them"])
    }

    @Test func aDefaultThatFailsItsOwnPattern() {
        expectProblems("""
            inputs:
              port:
                default: http
                pattern: '[0-9]+'
            """, ["\(f):3:14: error: the default of input 'port', \"http\", does not match its own pattern /[0-9]+/"])
    }

    @Test func aSecretWithTwoSources() {
        expectProblems("""
            secrets:
              DB_PASSWORD:
                env: DB_PASSWORD
                file: /run/secrets/db
            """, ["\(f):4:5: error: secret 'DB_PASSWORD' names both 'env' and 'file'; give one source"])
    }

    @Test func anInvalidInputName() {
        expectProblems("""
            inputs:
              api-domain: {}
            """, ["\(f):2:3: error: 'api-domain' is not a valid input name: use letters, digits and '_', starting with a letter"])
    }

    // MARK: Inbound, readiness, version, names

    @Test func inboundWithoutStatus() {
        expectProblems("""
            inbound:
              disable: [aws, ses, update-receipt-rule]
              enable: [aws, ses, update-receipt-rule]
            """, ["\(f):2:3: error: 'inbound' has no 'status' command; deployctl verifies every switch it flips"])
    }

    @Test func inboundStatusThatCannotTellTheStatesApart() {
        expectProblems("""
            inbound:
              disable: [a]
              enable: [b]
              status:
                run: [c]
            """, ["\(f):5:5: error: 'inbound.status' needs both 'enabled' and 'disabled' (expectations on its output) to tell the two states apart"])
    }

    @Test func readinessThatCannotPass() {
        expectProblems("""
            readiness:
              categories: [Security, Performance]
              scale: 5
              pass: 20
            """, ["\(f):4:9: error: 'readiness.pass' is 20 but the most a run can score is 10 (2 categories × 5)"])
    }

    @Test func anUnsupportedVersion() {
        expectProblems("""
            version: 2
            """, ["\(f):1:10: error: descriptor version 2 is not supported by this deployctl (it reads version 1)"])
    }

    @Test func aStackNameThatDisagreesWithThePath() {
        expectProblems("""
            stack: y
            environment: prod
            """, ["\(f):1:8: error: 'stack: y' does not match the file's path, which says 'x' (the directory name under stacks/)"])
    }

    // MARK: YAML itself

    @Test func aYAMLSyntaxErrorHasItsLineAndColumn() {
        expectProblems("""
            phases:
              deploy:
                - name: up
                 run: [echo]
            """, ["\(f):4:6: error: invalid YAML: did not find expected '-' indicator (while parsing a block collection)"])
    }

    @Test func duplicateKeys() {
        expectProblems("""
            description: one
            description: two
            """, ["\(f):1:1: error: duplicate key 'description' in the same mapping"])
    }

    @Test func anEmptyFile() {
        expectProblems("", ["\(f):1:1: error: the descriptor is empty"])
    }

    // MARK: extends

    @Test func anExtendsCycle() {
        let problems = Fixtures.problems([
            "stacks/x/prod.yaml": "extends: _base.yaml\n",
            "stacks/x/_base.yaml": "description: base\nextends: _common.yaml\n",
            "stacks/x/_common.yaml": "extends: _base.yaml\n",
        ])
        #expect(problems == ["stacks/x/_common.yaml:1:10: error: extends cycle: stacks/x/prod.yaml → stacks/x/_base.yaml → stacks/x/_common.yaml → stacks/x/_base.yaml"])
    }

    /// Each file of a chain is a frame of the loader's recursion, on validate's small worker
    /// stacks: 32 files load, a 33rd is refused where it is named.
    @Test func anExtendsChainLongerThan32FilesIsRefused() {
        func chain(_ length: Int) -> [String: String] {
            var files = ["stacks/x/prod.yaml": "extends: _1.yaml\n"]
            for index in 1..<length { files["stacks/x/_\(index).yaml"] = "extends: _\(index + 1).yaml\n" }
            files["stacks/x/_\(length).yaml"] = "phases:\n  deploy:\n    - {name: a, run: [echo, ok]}\n"
            return files
        }
        #expect(Fixtures.problems(chain(31)) == [])
        #expect(Fixtures.problems(chain(32)) == ["stacks/x/_31.yaml:1:10: error: 'extends' chains more than 32 files; deployctl stops here. Flatten the chain into fewer bases"])
    }

    @Test func extendsAMissingFile() {
        let problems = Fixtures.problems(["stacks/x/prod.yaml": "description: p\nextends: _bsae.yaml\n"])
        #expect(problems == ["stacks/x/prod.yaml:2:10: error: extends 'stacks/x/_bsae.yaml', which does not exist at this revision"])
    }

    @Test func anErrorInTheBaseFilePointsAtTheBaseFile() {
        let problems = Fixtures.problems([
            "stacks/x/prod.yaml": "extends: _base.yaml\ndefaults:\n  timeout: 10m\n",
            "stacks/x/_base.yaml": "phases:\n  deploy:\n    - name: up\n      run: [echo]\n      retires: 2\n",
        ])
        #expect(problems == ["stacks/x/_base.yaml:5:7: error: unknown key 'retires' in step 'up' (did you mean 'retries'?)"])
    }

    // MARK: All at once

    @Test func everyProblemIsReportedInOnePassInFileOrder() {
        expectProblems("""
            stack: x
            enviroment: prod
            defaults:
              timeout: forever
            phases:
              migrate:
                - name: upgrade
                  run: [alembic, upgrade, head]
              deploy:
                - name: up
                  run: [echo, "${inputs.nope}"]
                  needs: [missing]
            """, [
                "\(f):2:1: error: unknown key 'enviroment' in the descriptor (did you mean 'environment'?)",
                "\(f):4:12: error: 'defaults.timeout' is not a duration: \"forever\" (write e.g. 30s, 5m, 1h30m or 250ms)",
                "\(f):7:13: error: phase 'migrate' has 1 step(s) but the descriptor has no 'backup:' block; a migration always runs after a verified backup (give backup.take, backup.verify and backup.restore)",
                "\(f):11:19: error: unknown input 'nope' in ${inputs.nope}; declare it under 'inputs:'",
                "\(f):12:14: error: step 'up' needs 'missing', which is not a step of phase 'deploy'",
            ])
    }
}
