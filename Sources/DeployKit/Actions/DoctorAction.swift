import Foundation
import Probes

/// `deployctl doctor TARGET`: can this machine deploy TARGET, and is its mail and TLS set up?
/// Checks every CLI the descriptor calls (on PATH, with its version) and runs the
/// descriptor's DNS and TLS probes. Three answers, like seed 000's doctors: 0 all good,
/// 1 problems found (each with its fix), 2 cannot diagnose.
public struct DoctorAction {
    public struct Check: Codable, Sendable {
        /// `cli`, `dns`, `tls`
        public var kind: String
        public var name: String
        /// ok, problem, unavailable
        public var status: String
        public var detail: String
        public var fix: String?
        public var measurements: [ProbeMeasurement]?
    }

    public struct Result: Codable, Sendable {
        public var target: String
        public var revision: String
        public var checks: [Check]
        /// ok, problems, cannot_diagnose
        public var verdict: String
        public var exitCode: Int32 {
            verdict == "ok" ? 0 : verdict == "problems" ? 1 : 2
        }
    }

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Throws (exit 2) only when nothing can be diagnosed: no repository, no such target, an
    /// invalid descriptor, inputs missing.
    public func run(target: String, revision: String, supply: InputSupply) async throws -> Result {
        let plan: Plan
        do {
            plan = try PlanAction(workspace: workspace).run(target: target, revision: revision, supply: supply)
        } catch let error as DeployError {
            throw DeployError(.usage, "cannot diagnose \(target): \(error.message)", diagnostics: error.diagnostics, next: error.next)
        }
        var checks = commandChecks(plan)
        let probes = (plan.phases.flatMap(\.steps) + plan.rollback).filter { $0.probe?.kind == .dns || $0.probe?.kind == .tls }
        // A CA file named relative to the repository comes from the commit, as in a run.
        var tree: String? = nil
        if probes.contains(where: { $0.probe?.usesRelativeFiles == true }) {
            tree = try RunSession(workspace: workspace).tree(for: workspace.stacks.pin(plan.revision))
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
        let verdict = checks.contains { $0.status == "unavailable" } ? "cannot_diagnose"
            : checks.contains { $0.status == "problem" } ? "problems" : "ok"
        return Result(target: plan.target, revision: plan.revision, checks: checks, verdict: verdict)
    }

    /// Each distinct program the descriptor runs: found on PATH (or in the stack's tree), and its version.
    func commandChecks(_ plan: Plan) -> [Check] {
        var programs: [String: String] = [:]  // program → first place it is used
        var order: [String] = []
        func note(_ argv: [String], _ place: String) {
            guard let program = argv.first, !program.isEmpty, programs[program] == nil else { return }
            programs[program] = place
            order.append(program)
        }
        for phase in plan.phases {
            if let backup = phase.backup {
                note(backup.take.argv, "backup.take"); note(backup.verify.argv, "backup.verify"); note(backup.restore.argv, "backup.restore")
            }
            for step in phase.steps where step.probe == nil && !step.skipped {
                note(step.argv, "\(phase.name)/\(step.name)")
                if let rollback = step.rollbackArgv { note(rollback, "rollback of \(step.name)") }
            }
        }
        for step in plan.rollback where step.probe == nil { note(step.argv, "rollback/\(step.name)") }
        if let inbound = plan.inbound {
            for (argv, place) in [(inbound.disable.argv, "inbound.disable"), (inbound.status.argv, "inbound.status"), (inbound.enable.argv, "inbound.enable")] {
                note(argv, place)
            }
        }
        let path = (workspace.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        return order.map { program in
            let place = programs[program] ?? ""
            if program.contains("/") {
                if program.hasPrefix("/") {
                    let ok = FileManager.default.isExecutableFile(atPath: program)
                    return Check(kind: "cli", name: program, status: ok ? "ok" : "problem",
                                 detail: ok ? "\(program) (\(Self.version(of: program)))" : "\(program) is not an executable file (used by \(place))",
                                 fix: ok ? nil : "install it, or correct the path in the descriptor")
                }
                // A script of the stack itself: it comes from the pinned commit's tree.
                let inTree = (try? workspace.stacks.repository.exists(program.hasPrefix("./") ? String(program.dropFirst(2)) : program,
                                                                        at: workspace.stacks.pin(plan.revision).id)) ?? false
                return Check(kind: "cli", name: program, status: inTree ? "ok" : "problem",
                             detail: inTree ? "\(program) is in the stacks repository at \(plan.revision.prefix(12))" : "\(program) is not in the stacks repository at \(plan.revision.prefix(12)) (used by \(place))",
                             fix: inTree ? nil : "commit \(program), or give the path relative to the repository root")
            }
            guard let found = path.map({ "\($0)/\(program)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                return Check(kind: "cli", name: program, status: "problem", detail: "\(program) is not on PATH (used by \(place))",
                             fix: "install \(program) so that it is on PATH (\(path.joined(separator: ":")))")
            }
            return Check(kind: "cli", name: program, status: "ok", detail: "\(found) (\(Self.version(of: found)))")
        }
    }

    /// `PROGRAM --version`, first line, within 5 s; "version unknown" otherwise.
    static func version(of program: String) -> String {
        let capture = OutputCapture(secrets: [], logPath: nil, observer: nil)
        let request = LaunchRequest(argv: [program, "--version"], environment: ProcessInfo.processInfo.environment,
                                    timeoutMs: 5_000, graceMs: 500)
        guard let result = try? ProcessLauncher.run(request, capture: capture, cancellation: Cancellation()) else { return "version unknown" }
        capture.finish()
        if result.timedOut { return "version unknown: --version did not answer in 5 s" }
        let line = capture.tail.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return line.isEmpty ? "version unknown" : String(line.prefix(120))
    }

    static func probeCheck(_ name: String, _ probe: ProbeRequest) async -> Check {
        let (result, _) = await ProbeRunner.run(probe)
        let kind = probe.kind.rawValue
        let title = "\(name): \(probe.words.dropFirst().joined(separator: " "))"
        if let why = result.unavailable {
            // A TLS server that does not answer is a problem with the server; a DNS resolver that
            // does not answer means nothing about the records can be known.
            let status = probe.kind == .dns ? "unavailable" : "problem"
            return Check(kind: kind, name: title, status: status, detail: why,
                         fix: probe.kind == .dns ? "check that the resolver answers (dig \(probe.dns?.server.map { "@" + $0 } ?? "") \(probe.dns?.name ?? ""))" : "check that the server listens and speaks TLS",
                         measurements: result.measurements)
        }
        let failed = result.measurements.filter { !$0.ok }
        return Check(kind: kind, name: title, status: failed.isEmpty ? "ok" : "problem",
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
