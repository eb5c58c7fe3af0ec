import Foundation
import Probes

/// `deployctl doctor TARGET`: can this machine deploy TARGET, and is its mail and TLS set up?
/// Checks every program the descriptor calls (found, and its version command exits 0), the
/// first program of every `shell:` script, every secret and `${env.…}` value the plan needs,
/// and runs the descriptor's DNS and TLS probes. Three answers, like seed 000's doctors:
/// 0 all good, 1 problems found (each with its fix), 2 cannot diagnose.
public struct DoctorAction {
    public struct Check: Codable, Sendable {
        public enum Kind: String, Codable, Sendable { case cli, secret, env, dns, tls, store }
        public enum Status: String, Codable, Sendable { case ok, problem, unavailable }
        public var kind: Kind
        public var name: String
        public var status: Status
        public var detail: String
        public var fix: String?
        public var measurements: [ProbeMeasurement]?
    }

    public struct Result: Codable, Sendable {
        public enum Verdict: String, Codable, Sendable {
            case ok, problems
            case cannotDiagnose = "cannot_diagnose"
        }
        public var target: String
        public var revision: String
        /// Read from the files on disk (`--worktree`).
        public var uncommitted: Bool
        public var checks: [Check]
        public var verdict: Verdict
        public var exitCode: Int32 {
            switch verdict {
            case .ok: return 0
            case .problems: return 1
            case .cannotDiagnose: return 2
            }
        }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Throws (exit 2) only when nothing can be diagnosed: no repository, no such target, an
    /// invalid descriptor, inputs missing.
    public func run(target: String, source: DescriptorSource, supply: InputSupply) async throws -> Result {
        let plan: Plan
        var checks: [Check]
        do {
            let entry = try workspace.stacks.entry(for: target, at: source)
            let descriptor = try workspace.load(entry, at: source)
            checks = Self.secretChecks(descriptor, environment: workspace.environment)
            let unset = descriptor.environmentReferences.filter { workspace.environment[$0] == nil }
            checks += unset.map { name in
                Check(kind: .env, name: name, status: .problem, detail: "$\(name) is not set, and the descriptor uses ${env.\(name)}",
                      fix: "export \(name)=… in the environment deployctl runs in")
            }
            // Planned with the unset ones filled in, so everything else can still be checked.
            var environment = workspace.environment
            for name in unset { environment[name] = "<unset \(name)>" }
            let probing = Workspace(stacks: workspace.stacks, stateDirectory: workspace.stateDirectory, store: workspace.store, environment: environment,
                                    operatorName: workspace.operatorName)
            plan = try PlanAction(workspace: probing).run(target: entry.target, source: source, supply: supply)
        } catch let error as DeployError {
            throw DeployError(.usage, "cannot diagnose \(target): \(error.message)", diagnostics: error.diagnostics, next: error.next)
        }
        checks = commandChecks(plan, source: source) + checks
        let probes = (plan.phases.flatMap(\.steps) + plan.rollback + plan.rollbackPrepare).filter { $0.probe?.kind == .dns || $0.probe?.kind == .tls }
        // A CA file named relative to the repository comes from the commit, as in a run.
        var tree: String? = nil
        if probes.contains(where: { $0.probe?.usesRelativeFiles == true }) {
            switch source {
            case .commit(let revision): tree = try RunSession(workspace: workspace).tree(for: revision)
            case .worktree(let directory, _): tree = directory
            }
        }
        await withTaskGroup(of: (Int, Check).self) { group in
            for (index, step) in probes.enumerated() {
                guard var probe = step.probe else { continue }
                if let tree { probe = probe.anchored(in: tree) }
                group.addTask { (index, await Self.probeCheck(step.name, probe)) }
            }
            var results: [(Int, Check)] = []
            for await result in group { results.append(result) }
            checks += results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        if let store = storeCheck() { checks.append(store) }
        let verdict: Result.Verdict = checks.contains { $0.status == .unavailable } ? .cannotDiagnose
            : checks.contains { $0.status == .problem } ? .problems : .ok
        return Result(target: plan.target, revision: plan.revision, uncommitted: plan.uncommitted, checks: checks, verdict: verdict)
    }

    /// A shared store: reached, its schema known, and this role allowed to record runs. The
    /// embedded store has nothing to check (it is created on first use).
    func storeCheck() -> Check? {
        guard case .postgres(let url) = workspace.store else { return nil }
        do {
            let journal = try workspace.openJournal()
            guard journal.store.canWrite else {
                return Check(kind: .store, name: url.shown, status: .problem,
                             detail: "reached, but this role may only read; up, rollback, resume and unlock will refuse",
                             fix: "run deployctl as the writer role (README: \"A shared store (PostgreSQL)\", Roles)")
            }
            return Check(kind: .store, name: url.shown, status: .ok, detail: "reached; this role may record runs (writer)")
        } catch let error as DeployError {
            return Check(kind: .store, name: url.shown, status: .problem, detail: error.message, fix: error.next.first)
        } catch {
            return Check(kind: .store, name: url.shown, status: .problem, detail: "\(error)")
        }
    }

    /// A secret that is missing, unreadable, a known default or too short: up would refuse.
    static func secretChecks(_ descriptor: StackDescriptor, environment: [String: String]) -> [Check] {
        let (secrets, _) = SecretResolver(descriptor: descriptor).resolve(environment: environment)
        return zip(descriptor.secrets, secrets).compactMap { spec, secret in
            let fix: String
            switch secret.status {
            case .set: return nil
            case .missing:
                if spec.optional { return nil }
                fix = "export \(spec.env ?? spec.name)=… (never a default: the descriptor rejects \(spec.reject.isEmpty ? "none" : spec.reject.joined(separator: ", ")))"
            case .unreadable: fix = "make \(spec.file ?? "the file") readable by the user deployctl runs as"
            case .rejected: fix = "set \(secret.source) to a real value, not a known default"
            case .tooShort: fix = "set \(secret.source) to a value of at least \(spec.minLength ?? 0) characters"
            }
            return Check(kind: .secret, name: spec.name, status: .problem,
                         detail: "secret '\(spec.name)' from \(secret.source) is \(secret.status.rawValue.replacingOccurrences(of: "_", with: " ")); up would refuse to start",
                         fix: fix)
        }
    }

    /// Each distinct program the descriptor runs, with the first place it is used: the
    /// argv's first word, and for a `shell:` step the first word of each command in its script.
    static func programs(_ plan: Plan) -> [(program: String, place: String)] {
        var seen = Set<String>(), order: [(String, String)] = []
        func note(_ argv: [String], _ place: String, shell: Bool = false) {
            let words = shell ? ShellWords.commands(in: argv.last ?? "") : argv.first.map { [$0] } ?? []
            for program in words where !program.isEmpty && seen.insert(program).inserted { order.append((program, place)) }
        }
        for phase in plan.phases {
            if let backup = phase.backup {
                for (command, name) in [(backup.take, "take"), (backup.verify, "verify"), (backup.restore, "restore")] + (backup.check.map { [($0, "check")] } ?? []) {
                    note(command.argv, "backup.\(name)", shell: Self.isShell(command.argv))
                }
            }
            for step in phase.steps where step.probe == nil && !step.skipped {
                note(step.argv, "\(phase.name)/\(step.name)", shell: step.shell)
                if let rollback = step.rollbackArgv { note(rollback, "rollback of \(step.name)", shell: Self.isShell(rollback)) }
            }
        }
        for step in plan.rollback where step.probe == nil { note(step.argv, "rollback/\(step.name)", shell: step.shell) }
        for step in plan.rollbackPrepare where step.probe == nil { note(step.argv, "prepare/\(step.name)", shell: step.shell) }
        if let inbound = plan.inbound {
            for (command, place) in [(inbound.disable, "inbound.disable"), (inbound.status, "inbound.status"), (inbound.enable, "inbound.enable")]
                + (inbound.drain.map { [($0, "inbound.drain")] } ?? []) {
                note(command.argv, place, shell: Self.isShell(command.argv))
            }
        }
        return order
    }

    private static func isShell(_ argv: [String]) -> Bool { argv.count == 3 && argv[0] == "/bin/sh" && argv[1] == "-c" }

    /// A program passes when it is found (on PATH, as an absolute path, or in the stack's
    /// tree) and its version command exits 0.
    func commandChecks(_ plan: Plan, source: DescriptorSource) -> [Check] {
        let path = (workspace.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        return Self.programs(plan).map { program, place in
            if program.contains("/") && !program.hasPrefix("/") {
                // A script of the stack itself: it comes from the same commit (or the disk, uncommitted).
                let relative = program.hasPrefix("./") ? String(program.dropFirst(2)) : program
                let present: Bool
                switch source {
                case .commit(let revision): present = (try? workspace.stacks.repository.exists(relative, at: revision.id)) ?? false
                case .worktree(let directory, _): present = FileManager.default.isExecutableFile(atPath: directory + "/" + relative)
                }
                return Check(kind: .cli, name: program, status: present ? .ok : .problem,
                             detail: present ? "\(program) is in the stacks repository at \(source.label)" : "\(program) is not in the stacks repository at \(source.label) (used by \(place))",
                             fix: present ? nil : "commit \(program), or give the path relative to the repository root")
            }
            let found: String
            switch ProgramLookup.find(program, directory: nil, path: path.joined(separator: ":")) {
            case .success(let executable): found = executable
            case .failure(let missing):
                return Check(kind: .cli, name: program, status: .problem, detail: "\(missing) (used by \(place))",
                             fix: program.hasPrefix("/") ? "install it, or correct the path in the descriptor" : "install \(program) so that it is on PATH (\(path.joined(separator: ":")))")
            }
            switch Self.version(of: found) {
            case .success(let version):
                return Check(kind: .cli, name: program, status: .ok, detail: "\(found) (\(version))")
            case .failure(let why):
                return Check(kind: .cli, name: program, status: .problem, detail: "\(found) is there but does not run: \(why) (used by \(place))",
                             fix: "reinstall \(program), or check it runs for the user deployctl runs as")
            }
        }
    }

    struct VersionFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// How to ask a program that `--version` does not fit: nginx answers only `-v`, helm and
    /// kubectl a `version` subcommand, a shell has no version flag (dash) but runs a no-op.
    /// A positional word is never tried blindly: `touch version` would create a file.
    static let versionArguments: [String: [String]] = [
        "nginx": ["-v"], "helm": ["version", "--short"], "kubectl": ["version", "--client"], "fly": ["version"], "flyctl": ["version"],
        "go": ["version"], "java": ["-version"], "ssh": ["-V"], "sh": ["-c", "exit 0"], "dash": ["-c", "exit 0"], "ash": ["-c", "exit 0"],
    ]

    /// The first line the program's version command prints when it exits 0: `--version`, or what
    /// `versionArguments` says, within 5 s with no input.
    static func version(of program: String) -> Swift.Result<String, VersionFailure> {
        let arguments = versionArguments[String(program.split(separator: "/").last ?? "")] ?? ["--version"]
        let shown = ([program] + arguments).joined(separator: " ")
        guard let result = ToolCommand(argv: [program] + arguments, timeoutMs: 5_000).run() else {
            return .failure(VersionFailure(description: "`\(shown)` cannot be started"))
        }
        let line = (result.stdout + "\n" + result.stderr).split(separator: "\n")
            .map { $0.trimmingBlanks }.first { !$0.isEmpty } ?? ""
        if result.timedOut { return .failure(VersionFailure(description: "`\(shown)` did not answer in 5 s")) }
        // Exit 0 is the test; some print nothing (`test --version` is just a true test).
        if result.exitCode == 0 { return .success(line.isEmpty ? "runs; printed no version" : String(line.prefix(120))) }
        return .failure(VersionFailure(description: "`\(shown)` \(result.termination)" + (line.isEmpty ? "" : ": \(line.prefix(120))")))
    }

    static func probeCheck(_ name: String, _ probe: ProbeRequest) async -> Check {
        let (result, _) = await ProbeRunner.run(probe)
        let kind: Check.Kind = probe.kind == .dns ? .dns : .tls
        let title = "\(name): \(probe.words.dropFirst().joined(separator: " "))"
        if let why = result.unavailable {
            // A TLS server that does not answer is a problem with the server; a DNS resolver that
            // does not answer means nothing about the records can be known.
            return Check(kind: kind, name: title, status: probe.kind == .dns ? .unavailable : .problem, detail: why,
                         fix: probe.kind == .dns ? "check that the resolver answers (dig \(probe.dns?.server.map { "@" + $0 } ?? "") \(probe.dns?.name ?? ""))" : "check that the server listens and speaks TLS",
                         measurements: result.measurements)
        }
        let failed = result.measurements.filter { !$0.ok }
        return Check(kind: kind, name: title, status: failed.isEmpty ? .ok : .problem,
                     detail: failed.isEmpty ? "all \(result.measurements.count) checks passed" : failed.map(\.sentence).joined(separator: "; "),
                     fix: failed.isEmpty ? nil : fix(for: probe, failed), measurements: result.measurements)
    }

    static func fix(for probe: ProbeRequest, _ failed: [ProbeMeasurement]) -> String {
        switch probe.kind {
        case .dns:
            let name = probe.dns?.name ?? "the name"
            if let spf = probe.dns?.spf {
                return "publish one TXT record at \(name): \"v=spf1 \(spf.includes.map { "include:\($0)" }.joined(separator: " ")) \(spf.all?.rawValue ?? "~all")\""
            }
            if probe.dns?.dkim != nil { return "publish the DKIM public key as TXT at \(name): \"v=DKIM1; k=rsa; p=<base64 key>\"" }
            if let dmarc = probe.dns?.dmarc { return "publish TXT at \(name): \"v=DMARC1; p=\(dmarc.policy.rawValue); rua=mailto:…\"" }
            return "publish the expected \(probe.dns?.type.rawValue ?? "") record at \(name)"
        case .tls:
            if failed.contains(where: { $0.name == "days to expiry" }) { return "renew the certificate of \(probe.tls?.host ?? "the host") before it expires" }
            if failed.contains(where: { $0.name.hasPrefix("hostname") }) { return "serve a certificate whose subjectAltName covers \(probe.tls?.serverName ?? probe.tls?.host ?? "the host")" }
            return "serve a certificate chain the clients trust (or give ca_file)"
        default:
            return failed.map { "\($0.name) must be \($0.expected ?? "as expected")" }.joined(separator: "; ")
        }
    }
}
