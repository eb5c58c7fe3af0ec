import Arguments
import DeployKit
import Foundation

struct SyncCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Deploy each target's tracked head when it touches the stack and is not what runs: up, with its lock, journal and automatic rollback.",
        discussion: "Rollback-aware: after a rollback (automatic or by hand) a target is held — sync leaves it alone until a newer commit touching the stack is pushed, or `deployctl release TARGET`; it never deploys a revision marked bad, nor a degraded target. One sync loop per store at a time.")

    var workspace = WorkspaceOptions()
    var inputs = InputOptions()
    var run = RunFlags()
    var once = false
    var interval: String?
    var targets: [String] = []

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .group(\.inputs),
            .group(\.run),
            .flag(\.once, "--once", help: "One round, then exit (the default)."),
            .option(\.interval, "--interval", help: Help("Run a round every DURATION until SIGTERM/SIGINT (a running step finishes as in up).", valueName: "duration")),
            .argument(\.targets, "targets", help: "ENV or STACK/ENV (default: every target on the remote's default branch).", completion: .custom(Completions.targets)),
        ]
    }

    func validate() throws {
        if once, interval != nil { throw ValidationError("--once and --interval contradict each other; give one") }
    }

    func run() async throws {
        let ws = try workspace.open()
        var intervalMs: Int? = nil
        if let interval {
            guard let ms = DurationValue.parse(interval), ms >= 1_000 else {
                throw DeployError(.usage, "--interval \(interval) is not a duration of at least 1s", next: ["e.g. --interval 5m"])
            }
            intervalMs = ms
        }
        let (options, display, cancellation) = try run.begin()
        let request = SyncAction.Request(targets: targets.isEmpty ? nil : targets, options: options,
                                         supply: try inputs.supply(environment: ws.environment), intervalMs: intervalMs)
        let status = try await SyncAction(workspace: ws).run(request, observer: display, cancellation: cancellation) { decisions in
            (display as? TerminalRunDisplay)?.clear()
            if let json = display as? JSONRunDisplay {
                for d in decisions {
                    json.emit(["event": "sync_decision", "target": d.target, "decision": d.kind.rawValue, "detail": d.detail,
                               "runs": d.runs.map(\.run.id), "exit_code": Int(d.exitStatus.rawValue)])
                }
                return
            }
            Terminal.line("sync round at \(Timestamp.human(Date())):")
            for d in decisions {
                let mark = d.kind == .deployed ? "✓" : d.kind == .failed ? "✗" : "·"
                Terminal.line("  \(mark) \(d.target): \(d.kind.rawValue.replacingOccurrences(of: "_", with: " ")) — \(d.detail)")
                for finished in d.runs where finished.outcome.status != .succeeded {
                    for next in finished.next { Terminal.line("      next: \(next)") }
                }
            }
            if decisions.isEmpty { Terminal.line("  (no targets)") }
        }
        ws.close()
        Main.end(status.rawValue)
    }
}

struct ReleaseCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Lift the hold a rollback put on sync for a target (journaled), so sync deploys its tracked head again.")

    var workspace = WorkspaceOptions()
    var reason: String?
    var target = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .option(\.reason, "--reason", help: "Why, for the record."),
            .argument(\.target, "target", help: "ENV or STACK/ENV.", completion: .custom(Completions.targets)),
        ]
    }

    func run() async throws {
        let ws = try workspace.open()
        guard let hold = try ReleaseAction(workspace: ws).run(target: target, reason: reason) else {
            Terminal.line("\(target) is not held: nothing to release (deployctl status \(target))")
            return
        }
        Terminal.line("released \(target): the hold from rollback \(hold.run) (away from \(hold.from.prefix(10))) is lifted, recorded in \(ws.store.shown)")
        Terminal.line("next: deployctl sync \(target) --once")
    }
}
