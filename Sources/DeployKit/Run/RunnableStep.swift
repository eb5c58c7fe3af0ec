import Probes

/// A command ready to hand to a process: what to show (secrets masked) and what to run
/// (secrets filled in), with everything `defaults:` contributes already applied.
struct RunnableCommand: Sendable {
    var ref: StepRef
    var shownArgv: [String]
    var argv: [String]
    var env: [String: String]
    var directory: String?
    var timeoutMs: Int
    var retries: Int
    var backoffMs: Int
    var expect: Expectation
    var after: [String]
    var skipped: Bool
    var skipReason: String?
    var confirm: String?
    var idempotent: Bool
    var continueOnError: Bool
    /// A built-in check to run instead of a process (secrets filled in), and its JSON checks.
    var probe: ProbeRequest? = nil
    var probeJSON: [JSONCheck] = []
    /// Standard input (secrets filled in); nil: /dev/null.
    var stdin: String? = nil
    /// It ends only when the step does (`LaunchRequest.stdinHeldOpen`): a hosted step's script.
    var stdinHeldOpen = false
    /// The host it runs on over ssh (`on:`); nil: here. Hosted commands wait on the network,
    /// so the rollout's waves bound them, not `--parallel`.
    var host: String? = nil
    /// The same remote command through the host's master connection, when one is up.
    var viaMaster: MasterSession? = nil
}

/// Builds runnable commands from the masked and the revealed plan of the same descriptor.
struct RunnableSteps {
    let descriptor: StackDescriptor
    let masked: Plan
    let revealed: Plan
    let tree: String
    /// The revision a rollback of this run would go back to: `release.activate` keeps its
    /// release whatever `keep` says (a failed deploy between them would otherwise push it out).
    var rollbackTarget: String? = nil

    /// A phase's commands, those that run `on:` hosts expanded into one per host (see `HostRollout`).
    func phase(_ phase: Phase) -> [RunnableCommand] {
        onHosts(local(phase), declared: descriptor.steps(in: phase))
    }

    /// Commands of steps that run `on:` hosts, expanded per host (see `HostRollout`).
    private func onHosts(_ commands: [RunnableCommand], declared: [Step]) -> [RunnableCommand] {
        guard let remote, declared.contains(where: { $0.on != nil }) else { return commands }
        return HostRollout(descriptor: descriptor, remote: remote).expand(commands, declared: declared, verify: local(.verify))
    }

    /// How the hosts are reached, when the descriptor has any.
    var remote: SSHRemote? {
        descriptor.ssh.map {
            SSHRemote(spec: $0, tree: tree, revision: revealed.revision, release: descriptor.release,
                      releaseHosts: Set(descriptor.release.map { $0.placement.selector.select(descriptor.hosts).map(\.name) } ?? []),
                      rollbackTarget: rollbackTarget)
        }
    }

    private func local(_ phase: Phase) -> [RunnableCommand] {
        let shown = masked.phase(phase).steps, real = revealed.phase(phase).steps
        return zip(shown, real).map { shown, real in
            let step = descriptor.steps(in: phase).first { $0.name == shown.name }
            return RunnableCommand(
                ref: StepRef(phase: phase.rawValue, name: shown.name), shownArgv: shown.shownCommand, argv: real.argv,
                env: real.env, directory: directory(real.dir), timeoutMs: real.timeoutMs, retries: real.retries,
                backoffMs: real.backoffMs, expect: step?.expect ?? Expectation(), after: real.after,
                skipped: real.skipped, skipReason: real.when.map { "when \($0) is false" },
                confirm: real.confirm, idempotent: real.idempotent, continueOnError: real.continueOnError,
                probe: real.probe?.anchored(in: tree), probeJSON: step?.probe?.json ?? [], stdin: real.stdin)
        }
    }

    /// A runbook's checks: every one runs (a failure is a finding, not a stop), in order.
    func runbook(_ name: String) -> [RunnableCommand] {
        guard let shownBook = masked.runbooks.first(where: { $0.name == name }),
              let realBook = revealed.runbooks.first(where: { $0.name == name }),
              let book = descriptor.runbooks.first(where: { $0.name == name }) else { return [] }
        return zip(shownBook.steps, realBook.steps).map { shown, real in
            let step = book.steps.first { $0.name == shown.name }
            return RunnableCommand(
                ref: StepRef(phase: StepRef.Section.runbook, name: shown.name), shownArgv: shown.shownCommand, argv: real.argv,
                env: real.env, directory: directory(real.dir), timeoutMs: real.timeoutMs, retries: real.retries,
                backoffMs: real.backoffMs, expect: step?.expect ?? Expectation(), after: real.after,
                skipped: real.skipped, skipReason: real.when.map { "when \($0) is false" },
                confirm: nil, idempotent: true, continueOnError: true,
                probe: real.probe?.anchored(in: tree), probeJSON: step?.probe?.json ?? [], stdin: real.stdin)
        }
    }

    enum BackupCommand: String, CaseIterable { case take, verify, restore, check, push, fetch }

    /// `backup.take`, `backup.verify`, `backup.restore`, `backup.check` as steps of `phase`
    /// (migrate in an up; rollback in a rollback).
    func backup(_ which: BackupCommand, phase: String = Phase.migrate.rawValue) -> RunnableCommand? {
        guard let spec = descriptor.backup,
              let shown = masked.phase(.migrate).backup, let real = revealed.phase(.migrate).backup else { return nil }
        let block: CommandBlock
        let (shownCommand, command): (PlanCommand, PlanCommand)
        switch which {
        case .take: block = spec.take; (shownCommand, command) = (shown.take, real.take)
        case .verify: block = spec.verify; (shownCommand, command) = (shown.verify, real.verify)
        case .restore: block = spec.restore; (shownCommand, command) = (shown.restore, real.restore)
        case .check:
            guard let check = spec.check, let shownCheck = shown.check, let realCheck = real.check else { return nil }
            block = check; (shownCommand, command) = (shownCheck, realCheck)
        case .push:
            guard let push = spec.push, let shownPush = shown.push, let realPush = real.push else { return nil }
            block = push; (shownCommand, command) = (shownPush, realPush)
        case .fetch:
            guard let fetch = spec.fetch, let shownFetch = shown.fetch, let realFetch = real.fetch else { return nil }
            block = fetch; (shownCommand, command) = (shownFetch, realFetch)
        }
        let env = revealed.defaults.env.merging(command.env) { _, own in own }
        return RunnableCommand(
            ref: StepRef(phase: phase, name: "backup.\(which.rawValue)"), shownArgv: shownCommand.argv, argv: command.argv,
            env: env, directory: directory(command.dir ?? revealed.defaults.dir), timeoutMs: block.timeoutMs ?? revealed.defaults.timeoutMs,
            retries: 0, backoffMs: 0, expect: block.expect, after: [], skipped: false, skipReason: nil,
            confirm: nil, idempotent: which != .restore, continueOnError: false)
    }

    /// The `rollback:` command of a step, as the step `undo.<name>` of a rollback run; for a
    /// step that ran on a host (`NAME@HOST`), on that host.
    func undo(_ phase: Phase, name: String) -> RunnableCommand? {
        if let parts = StepRef.hostParts(of: name) {
            guard let remote, let host = descriptor.hosts.first(where: { $0.name == parts.host }),
                  let local = undo(phase, name: String(parts.step)) else { return nil }
            return remote.wrap(local, on: host, name: "undo.\(name)")
        }
        guard let shown = masked.phase(phase).steps.first(where: { $0.name == name }),
              let real = revealed.phase(phase).steps.first(where: { $0.name == name }),
              let shownArgv = shown.rollbackArgv, let argv = real.rollbackArgv else { return nil }
        // It runs in its own revision's tree, and says so to the command.
        var env = real.env
        env["DEPLOYCTL_TREE"] = tree
        env["DEPLOYCTL_REVISION"] = revealed.revision
        return RunnableCommand(
            ref: StepRef(phase: StepRef.Section.rollback, name: "undo.\(name)"), shownArgv: shownArgv, argv: argv, env: env,
            directory: directory(real.dir), timeoutMs: real.timeoutMs, retries: real.retries, backoffMs: real.backoffMs,
            expect: Expectation(), after: [], skipped: false, skipReason: nil, confirm: nil, idempotent: false, continueOnError: false)
    }

    /// The descriptor's stack-level `rollback:` steps.
    func stackRollback() -> [RunnableCommand] {
        onHosts(listed(masked.rollback, revealed.rollback, declared: descriptor.rollback, section: StepRef.Section.rollback),
                declared: descriptor.rollback)
    }

    /// The descriptor's `rollback_prepare:` steps, run before the inbound guard.
    func rollbackPrepare() -> [RunnableCommand] {
        onHosts(listed(masked.rollbackPrepare, revealed.rollbackPrepare, declared: descriptor.rollbackPrepare, section: StepRef.Section.prepare),
                declared: descriptor.rollbackPrepare)
    }

    private func listed(_ masked: [PlanStep], _ revealed: [PlanStep], declared: [Step], section: String) -> [RunnableCommand] {
        zip(masked, revealed).map { shown, real in
            let step = declared.first { $0.name == shown.name }
            return RunnableCommand(
                ref: StepRef(phase: section, name: shown.name), shownArgv: shown.shownCommand, argv: real.argv, env: real.env,
                directory: directory(real.dir), timeoutMs: real.timeoutMs, retries: real.retries, backoffMs: real.backoffMs,
                expect: step?.expect ?? Expectation(), after: real.after, skipped: real.skipped,
                skipReason: real.when.map { "when \($0) is false" }, confirm: real.confirm, idempotent: real.idempotent,
                continueOnError: real.continueOnError, probe: real.probe?.anchored(in: tree), probeJSON: step?.probe?.json ?? [], stdin: real.stdin)
        }
    }

    enum InboundCommand: String { case disable, enable, status, drain }

    /// `inbound.disable`, `inbound.enable`, `inbound.status`, `inbound.drain`.
    func inbound(_ which: InboundCommand) -> RunnableCommand? {
        guard let spec = descriptor.inbound, let shown = masked.inbound, let real = revealed.inbound else { return nil }
        let block: CommandBlock
        let (shownCommand, command): (PlanCommand, PlanCommand)
        switch which {
        case .disable: block = spec.disable; (shownCommand, command) = (shown.disable, real.disable)
        case .enable: block = spec.enable; (shownCommand, command) = (shown.enable, real.enable)
        case .status: block = spec.status.block; (shownCommand, command) = (shown.status, real.status)
        case .drain:
            guard let drain = spec.drain, let shownDrain = shown.drain, let realDrain = real.drain else { return nil }
            block = drain.block
            (shownCommand, command) = (shownDrain, realDrain)
        }
        return RunnableCommand(
            ref: StepRef(phase: StepRef.Section.inbound, name: "inbound.\(which.rawValue)"), shownArgv: shownCommand.argv, argv: command.argv,
            env: revealed.defaults.env.merging(command.env) { _, own in own }, directory: directory(command.dir ?? revealed.defaults.dir),
            timeoutMs: block.timeoutMs ?? min(revealed.defaults.timeoutMs, 120_000), retries: 0, backoffMs: 0,
            expect: block.expect, after: [], skipped: false, skipReason: nil, confirm: nil, idempotent: true, continueOnError: false)
    }

    /// A step's directory: relative ones are inside the exported tree of the pinned commit.
    private func directory(_ dir: String?) -> String {
        guard let dir, !dir.isEmpty, dir != "." else { return tree }
        return dir.hasPrefix("/") ? dir : tree + "/" + dir
    }
}
