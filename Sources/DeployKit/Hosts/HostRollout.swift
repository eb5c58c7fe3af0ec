/// Expands the steps of a phase that run `on:` hosts into one command per host (`NAME@HOST`),
/// in waves: the canary hosts first, followed by the verify steps that run on them
/// (`STEP.canary.CHECK@HOST`), then
/// the rest at most `max_parallel` at a time. Each wave needs the one before it, so a failed
/// host stops the rollout where it is; each host is its own journaled step, so `resume` runs
/// again only the hosts that did not succeed, and a rollback undoes them newest first.
struct HostRollout {
    let descriptor: StackDescriptor
    let remote: SSHRemote

    /// The hosts in waves: `canary` first, then chunks of `maxParallel` (all at once by default).
    static func waves(_ hosts: [HostSpec], canary: Int, maxParallel: Int?) -> [[HostSpec]] {
        var waves: [[HostSpec]] = []
        var rest = hosts[...]
        if canary > 0 {
            waves.append(Array(rest.prefix(canary)))
            rest = rest.dropFirst(canary)
        }
        let size = max(1, maxParallel ?? rest.count)
        while !rest.isEmpty {
            waves.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return waves
    }

    /// `on web: web1 (canary), then web2, then web3`: what `plan` shows.
    static func describe(_ on: HostPlacement, hosts: [HostSpec]) -> String {
        let waves = waves(on.selector.select(hosts), canary: on.canary, maxParallel: on.maxParallel)
        let parts = waves.enumerated().map { index, wave in
            wave.map(\.name).joined(separator: " + ") + (index == 0 && on.canary > 0 ? " (canary)" : "")
        }
        var between: [String] = []
        if let confirm = on.confirm { between.append("asks \"\(confirm)\"") }
        if let pause = on.pauseMs { between.append("waits \(DurationValue.format(milliseconds: pause))") }
        return "on \(on.selector): " + parts.joined(separator: ", then ") + (between.isEmpty || waves.count < 2 ? "" : "; between waves it " + between.joined(separator: " and "))
    }

    /// `declared`: the steps the commands were built from (a phase's, or the rollback lists');
    /// `verify`: the verify phase's commands as written (not expanded), for the canary gates.
    func expand(_ commands: [RunnableCommand], declared: [Step], verify: [RunnableCommand]) -> [RunnableCommand] {
        var out: [RunnableCommand] = []
        var expanded: [String: [String]] = [:]
        for command in commands {
            guard let step = declared.first(where: { $0.name == command.ref.name }), let on = step.on else {
                out.append(command)
                continue
            }
            var previous: [String] = [], names: [String] = []
            for (index, wave) in Self.waves(on.selector.select(descriptor.hosts), canary: on.canary, maxParallel: on.maxParallel).enumerated() {
                if index > 0, on.pauseMs != nil || on.confirm != nil {
                    let gate = Self.betweenWaves(command, wave: index + 1, placement: on, after: previous)
                    out.append(gate)
                    previous = [gate.ref.name]
                }
                let wrapped = wave.map { host -> RunnableCommand in
                    var onHost = step.upload.map { remote.upload(command, to: $0.to, on: host) } ?? remote.wrap(command, on: host)
                    onHost.after = command.after + previous
                    return onHost
                }
                out += wrapped
                previous = wrapped.map(\.ref.name)
                names += previous
                if index == 0, on.canary > 0 {
                    let gates = canaryGates(wave, of: command.ref.name, after: previous, verify: verify, section: command.ref.phase)
                    out += gates
                    previous += gates.map(\.ref.name)
                }
            }
            expanded[command.ref.name] = names
        }
        // A step that needs a hosted step needs it on every host.
        return out.map { command in
            var command = command
            command.after = command.after.flatMap { expanded[$0] ?? [$0] }
            return command
        }
    }

    /// The verify steps that run on the canary hosts, run there right after them
    /// (`canary.CHECK@HOST`): the rest of the hosts wait for them.
    /// `between_waves:` a local step before wave `wave` (`STEP.wave#N`): the question, then the pause.
    static func betweenWaves(_ step: RunnableCommand, wave: Int, placement: HostPlacement, after: [String]) -> RunnableCommand {
        var gate = step
        gate.ref = StepRef(phase: step.ref.phase, name: "\(step.ref.name).wave#\(wave)")
        let seconds = (placement.pauseMs ?? 0) / 1000
        gate.argv = placement.pauseMs == nil ? ["true"] : ["sleep", "\(seconds)"]
        gate.shownArgv = gate.argv
        gate.env = [:]
        gate.stdin = nil
        gate.stdinHeldOpen = false
        gate.viaMaster = nil
        gate.probe = nil
        gate.host = nil
        gate.retries = 0
        gate.expect = Expectation()
        gate.timeoutMs = (placement.pauseMs ?? 0) + 60_000
        gate.confirm = placement.confirm
        gate.after = after
        return gate
    }

    /// Among themselves they keep the verify phase's order (a log check after the request it reads).
    private func canaryGates(_ canaries: [HostSpec], of step: String, after: [String], verify: [RunnableCommand], section: String) -> [RunnableCommand] {
        func hosts(of name: String) -> [HostSpec] {
            descriptor.steps(in: .verify).first { $0.name == name }?.on?.selector.select(descriptor.hosts) ?? []
        }
        return verify.flatMap { check -> [RunnableCommand] in
            canaries.filter { hosts(of: check.ref.name).contains($0) }.map { host in
                var gate = remote.wrap(check, on: host, name: Self.gateName(step, check.ref.name, host), phase: section)
                let earlier = check.after.filter { hosts(of: $0).contains(host) }
                gate.after = after + earlier.map { Self.gateName(step, $0, host) }
                return gate
            }
        }
    }

    /// `STEP.canary.CHECK@HOST`: one per rolled-out step (two steps with canaries each get theirs).
    static func gateName(_ step: String, _ check: String, _ host: HostSpec) -> String { StepRef.name("\(step).canary.\(check)", on: host.name) }
}
