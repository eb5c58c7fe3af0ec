import Arguments
import DeployKit
import Foundation

struct StatusCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "What is deployed (or that the environment is degraded, and what ran), the last run and check, the lock, interrupted runs.")

    var workspace = WorkspaceOptions()
    var format: OutputFormat = .text
    var fetch = false
    var target: String?

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .option(\.format, "--format", help: "text or json"),
            .flag(\.fetch, "--fetch", help: "Fetch the stacks repository's remote first (else drift is as of the last fetch, and says how old)."),
            .argument(\.target, "target", help: "ENV or STACK/ENV (all when omitted).", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        let statuses = try StatusAction(workspace: try workspace.open()).status(target: target, fetch: fetch ? .fetch : .offline)
        if format == .json {
            if target != nil, let one = statuses.first { Terminal.out(try JSONOutput.encode(one)) } else { Terminal.out(try JSONOutput.encode(statuses)) }
            return
        }
        if statuses.isEmpty { Terminal.line("no stacks and no runs yet: deployctl stacks") }
        for s in statuses { Self.print(s) }
    }

    static func print(_ s: StatusAction.Status) {
        Terminal.line("\(s.target)")
        switch s.state {
        case .none:
            Terminal.line("  state:      nothing deployed yet")
        case .deployed:
            Terminal.line("  state:      deployed \(s.deployedRevision.map { String($0.prefix(10)) } ?? "?") (run \(s.deployedRun ?? "?"))")
        case .degraded:
            let d = s.degraded!
            let what = d.kind == .rollback
                ? "rollback \(d.run) of run \(d.rollbackOf ?? "?") to \(d.revision.prefix(10)) stopped (\(d.status.rawValue))"
                : "run \(d.run) (\(d.kind.rawValue) of \(d.revision.prefix(10))) \(d.status.rawValue) after changing things, and was not rolled back"
            Terminal.line("  state:      DEGRADED — \(what)")
            Terminal.line("              why: \(d.reason)")
            if !d.changed.isEmpty { Terminal.line("              ran: \(d.changed.joined(separator: ", "))") }
            if !d.undone.isEmpty { Terminal.line("              undone: \(d.undone.joined(separator: ", "))") }
            Terminal.line("              database: \(d.database.rawValue.replacingOccurrences(of: "_", with: " "))")
        }
        if let good = s.lastGood, s.state != .deployed || good.run != s.deployedRun {
            Terminal.line("  last good:  \(good.revision.prefix(10)) (run \(good.run))")
        }
        if let running = s.inProgress { Terminal.line("  running:    \(running.kind.rawValue) run \(running.run) at \(running.revision.prefix(10))") }
        Terminal.line("  last run:   " + (s.lastRun.map { "\($0.id) \($0.kind.rawValue) \($0.status.rawValue) at \($0.revision.prefix(10)), \(Timestamp.human($0.endedAt ?? $0.startedAt))" } ?? "none"))
        if let check = s.lastCheck {
            Terminal.line("  last check: \(check.status == .succeeded ? "passed" : check.status.rawValue.uppercased()) \(Timestamp.human(check.at)) at \(check.revision.prefix(10)) (run \(check.run))"
                          + (check.current ? "" : " — of an earlier deploy: deployctl check \(s.target)"))
        } else if s.state != .none {
            Terminal.line("  last check: never (deployctl check \(s.target) runs the verify phase again)")
        }
        if let lock = s.lock {
            Terminal.line("  lock:       held by run \(lock.runId)\(lock.command.map { " (\($0))" } ?? ""), \(lock.operator) on \(lock.host), pid \(lock.pid), since \(Timestamp.human(lock.since))"
                          + (lock.heartbeat.map { ", last heartbeat \(Timestamp.human($0))" } ?? "")
                          + (lock.stale ? " — STALE (that process, or its connection to the store, is gone); the next up takes it over" : ""))
        } else {
            Terminal.line("  lock:       free")
        }
        Terminal.line("  inbound:    " + (s.inboundOwedBy.map { "DISABLED, owed by run \($0) since \(s.inboundOwedSince.map { Timestamp.human($0) } ?? "?")" } ?? "enabled (as far as deployctl knows)"))
        if let review = s.review {
            Terminal.line("  review:     " + (review.accepted ? "accepted" + (review.acceptedAt.map { " " + Timestamp.human($0) } ?? "")
                                                                : "PENDING — \(review.missing.joined(separator: "; ")) (deployctl review show \(review.runId))"))
        }
        if !s.hosts.isEmpty {
            let revisions = Set(s.hosts.map(\.revision))
            Terminal.line("  hosts:      " + s.hosts.map { "\($0.host) \($0.revision.prefix(10))" }.joined(separator: ", ")
                          + (revisions.count > 1 ? " — MIXED: not every host runs the same revision" : ""))
        }
        if let drift = s.tracking { printDrift(drift, target: s.target) }
        if let problem = s.trackingProblem { Terminal.line("  tracking:   UNKNOWN — \(problem)") }
        for run in s.interruptedRuns {
            Terminal.line("  INTERRUPTED \(run.kind.rawValue) run \(run.id) by \(run.operator), started \(Timestamp.human(run.startedAt)): deployctl show \(run.id); \(run.next)")
        }
        for next in s.next { Terminal.line("  next: \(next)") }
    }
}

extension StatusCommand {
    static func printDrift(_ drift: Drift, target: String) {
        let tracked = drift.tracked
        let head = "\(tracked.name) at \(tracked.head.prefix(10)) (\(Tracker.freshness(tracked)))"
        if drift.upToDate {
            Terminal.line("  tracking:   \(head): up to date")
        } else {
            let touching = drift.touching.count
            Terminal.line("  tracking:   \(head): \(drift.deployed == nil ? "not deployed from it" : "\(drift.behind) commit\(drift.behind == 1 ? "" : "s") behind")"
                          + ", \(touching) touch\(touching == 1 ? "es" : "") the stack" + (drift.deployedOffBranch ? "; the deployed revision is NOT on the branch" : ""))
            for commit in drift.touching.prefix(5) { Terminal.line("              \(commit.commit.prefix(10))  \(commit.subject)") }
            if drift.touching.count > 5 { Terminal.line("              … \(drift.touching.count - 5) more: deployctl revisions \(target)") }
        }
        if drift.headMarkedBad { Terminal.line("              the head is marked BAD (rolled back from): sync will not deploy it") }
        if let hold = drift.hold {
            Terminal.line("  sync:       HELD — \(hold.reason); it deploys again once a newer commit touches the stack, or after: deployctl release \(target)")
        }
    }
}

struct RunsCommand: Command {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List runs, newest first.")

    var workspace = WorkspaceOptions()
    var format: OutputFormat = .text
    var limit: Int = 20
    var target: String?

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .option(\.format, "--format", help: "text or json"),
            .option(\.limit, "--limit", help: "At most this many."),
            .argument(\.target, "target", help: "ENV or STACK/ENV (all when omitted).", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        let runs = try RecordActions(workspace: try workspace.open()).runs(target: target, limit: limit)
        if format == .json { Terminal.out(try JSONOutput.encode(runs)); return }
        if runs.isEmpty { Terminal.line("no runs yet"); return }
        let rows = runs.map { run in
            [run.id, run.kind.rawValue, run.target, run.status.rawValue, String(run.revision.prefix(10)),
             Timestamp.human(run.startedAt), run.durationMs.map { TerminalRunDisplay.seconds($0) } ?? "-", run.revisionSubject]
        }
        Terminal.table(header: ["RUN", "KIND", "TARGET", "STATUS", "REVISION", "STARTED", "TOOK", "SUBJECT"], rows: rows)
    }
}

struct ShowCommand: Command {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Every step and event of one run.")

    var workspace = WorkspaceOptions()
    var format: OutputFormat = .text
    var runID = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .option(\.format, "--format", help: "text or json"),
            .argument(\.runID, "run-id", help: "The run id, or a unique prefix of it.", completion: .custom(Completions.runIDs)),
        ]
    }

    func run() async throws {
        let run = try RecordActions(workspace: try workspace.open()).show(runID: runID)
        if format == .json { Terminal.out(try JSONOutput.encode(run)); return }
        Terminal.line("run \(run.id): \(run.kind.rawValue) \(run.target) at \(run.revision.prefix(10)) \"\(run.revisionSubject)\"")
        Terminal.line("  by \(run.operator), pid \(run.pid) on \(run.host); started \(Timestamp.human(run.startedAt))" + (run.endedAt.map { ", ended \(Timestamp.human($0))" } ?? ""))
        Terminal.line("  status: \(run.status.rawValue)" + (run.message.map { " — \($0)" } ?? ""))
        if let of = run.rollbackOf { Terminal.line("  a rollback of run \(of): every step below belongs to the rollback") }
        if let by = run.rolledBackBy { Terminal.line("  rolled back by run \(by): deployctl show \(by)") }
        if let seconds = run.inboundDisabledSeconds { Terminal.line("  inbound mail processing was disabled for \(seconds)s") }
        for step in run.steps {
            let code = step.exitCode.map { "exit \($0)" } ?? step.signal.map { "signal \($0)" } ?? ""
            Terminal.line("  \(step.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(step.phase)/\(step.name)  \(code)  \(step.attempts) attempt(s)  \(TerminalRunDisplay.seconds(step.durationMs ?? 0))"
                          + (step.message.map { "  \($0)" } ?? ""))
        }
        if let review = run.review {
            Terminal.line("  review: " + (review.accepted ? "ACCEPTED" : "not accepted — \(review.missing.joined(separator: "; "))") + " (deployctl review show \(run.id))")
        }
        for event in run.events {
            Terminal.line("  event \(event.kind.rawValue) \(Timestamp.human(event.at)) " + event.data.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
    }
}

struct LogsCommand: Command {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "The output of a run's steps (secrets masked).")

    var workspace = WorkspaceOptions()
    var follow = false
    var runID = ""
    var step: String?
    var host: String?

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .flag(\.follow, "--follow", help: "Keep printing while the run is still going."),
            .argument(\.runID, "run-id", help: "The run id, or a unique prefix of it.", completion: .custom(Completions.runIDs)),
            .argument(\.step, "step", help: "Only this step."),
            .option(\.host, "--host", help: Help("Only this host's attempts of STEP (a step that runs on: hosts is journaled as STEP@HOST).", valueName: "name")),
        ]
    }

    func validate() throws {
        if host != nil, step == nil { throw ValidationError("--host picks one host's run of a step: give the STEP too") }
    }

    func run() async throws {
        let actions = RecordActions(workspace: try workspace.open())
        var offsets: [String: UInt64] = [:]
        // By attempt: a silent step's header shows at once, and once, however its output is
        // found later (its log file, made by its first byte; or the store's copy once it ends).
        var headed = Set<Int64>(), fromStore = Set<Int64>()
        let step = host.map { "\(self.step!)@\($0)" } ?? self.step
        while true {
            let (run, logs) = try actions.logs(runID: runID, step: step)
            for (attempt, source) in logs {
                if headed.insert(attempt.id).inserted {
                    Terminal.line("==> \(attempt.phase)/\(attempt.name) attempt \(attempt.attempt) (\(attempt.status.rawValue)) <==")
                }
                switch source {
                case let .stored(data, truncated):
                    // The store's copy: whole once the attempt ended.
                    guard fromStore.insert(attempt.id).inserted else { continue }
                    Terminal.raw(data)
                    if truncated { Terminal.line("(the store keeps the first \(StoredLog.cap >> 20) MiB of a log; the rest is in the log file on \(run.host))") }
                case .file(let path):
                    // No file: the step has printed nothing yet.
                    guard let handle = FileHandle(forReadingAtPath: path) else { continue }
                    let offset = offsets[path] ?? 0
                    try handle.seek(toOffset: offset)
                    let data = handle.readDataToEndOfFile()
                    try handle.close()
                    if !data.isEmpty { Terminal.raw(data) }
                    offsets[path] = offset + UInt64(data.count)
                }
            }
            let current = try actions.run(run.id)
            if !follow || current?.status != .running || run.status != .running { break }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }
}

struct UnlockCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "unlock", abstract: "Break an environment's deploy lock (recorded with who and why).",
        discussion: "A holder still running on this machine is not broken: add --kill to stop it first (SIGTERM, as Ctrl-C: its steps are stopped and it records itself cancelled).")

    var workspace = WorkspaceOptions()
    var force = false
    var reason: String?
    var kill = false
    var target = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .flag(\.force, "--force", help: "Required: breaking a lock is deliberate."),
            .option(\.reason, "--reason", help: "Why; kept in the journal."),
            .flag(\.kill, "--kill", help: "If the holder is still running on this machine, stop it (SIGTERM, then wait up to a minute) before breaking its lock."),
            .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        guard force, let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DeployError(.usage, "unlock needs --force and --reason \"…\": a broken lock lets a second run start beside the first",
                              next: ["deployctl status \(target)  (is the holder really gone?)",
                                     "deployctl unlock \(target) --force --reason \"holder killed during the outage\""])
        }
        let result = try UnlockAction(workspace: try workspace.open()).run(target: target, reason: reason, kill: kill)
        if let stopped = result.stopped {
            Terminal.line("stopped run \(stopped.runID) (pid \(stopped.pid)) with SIGTERM: its steps were stopped and it recorded itself cancelled; recorded with your reason")
        }
        guard let broken = result.broken else {
            Terminal.line(result.stopped == nil ? "\(target) was not locked; nothing to do" : "it released its lock on the way out; nothing left to break")
            Terminal.line("next: deployctl status \(result.stopped?.target ?? target)")
            return
        }
        Terminal.line("broke the lock of \(broken.target) held by run \(broken.runID) (\(broken.operatorName) on \(broken.host), pid \(broken.pid)); recorded with your reason")
        if broken.host != ProcessIdentity.hostName {
            Terminal.line("warning: that run was on \(broken.host); if it is still going there, two runs may now change \(broken.target) at once")
        }
        Terminal.line("next: deployctl status \(broken.target)")
    }
}

struct CheckCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Is the environment what the journal says? Runs the deployed revision's verify phase again (read-only, no lock, journaled).",
        discussion: "Exit 0: every verify step passed. 1: some failed (listed). 2: nothing deployed to check. status shows the last check.")

    var workspace = WorkspaceOptions()
    var format: OutputFormat = .text
    var target = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .option(\.format, "--format", help: "text or json (one event per line)"),
            .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        let ws = try workspace.open()
        let display: RunObserver = format == .json ? JSONRunDisplay() : TerminalRunDisplay()
        let cancellation = Cancellation()
        SignalForwarding.install(cancellation, graceMs: 10_000, observer: display)
        let result = try await CheckAction(workspace: ws).run(target: target, options: RunOptions(parallel: 1, graceMs: 10_000),
                                                              observer: display, cancellation: cancellation)
        (display as? TerminalRunDisplay)?.stop()
        if !(display is JSONRunDisplay) {
            for finding in result.findings where finding.status != .succeeded && finding.status != .skipped {
                Terminal.line("  ✗ \(finding.phase)/\(finding.name): \(finding.message ?? finding.status.rawValue)")
            }
        }
        RunReport.finish([result.finished], status: result.exitStatus, workspace: ws, display: display)
    }
}
