/// Everything a plan needs besides the descriptor: the pinned revision and what the person
/// supplied. No I/O happens in planning.
public struct PlanContext: Sendable {
    public var revision: String
    public var revisionSubject: String
    public var revisionAuthor: String
    public var descriptorBlob: String
    public var inputs: [ResolvedInput]
    public var secrets: [ResolvedSecret]
    public var environment: [String: String]
    public var stateDirectory: String
    public var runID: String
    public var operatorName: String
    /// `up`, `resume`, `rollback`: `${run.kind}`.
    public var runKind: String = "up"

    public init(revision: String, revisionSubject: String, revisionAuthor: String, descriptorBlob: String,
                inputs: [ResolvedInput], secrets: [ResolvedSecret], environment: [String: String],
                stateDirectory: String, runID: String, operatorName: String) {
        self.revision = revision
        self.revisionSubject = revisionSubject
        self.revisionAuthor = revisionAuthor
        self.descriptorBlob = descriptorBlob
        self.inputs = inputs
        self.secrets = secrets
        self.environment = environment
        self.stateDirectory = stateDirectory
        self.runID = runID
        self.operatorName = operatorName
    }
}

/// Descriptor + context → `Plan`: resolves every argument, applies defaults, evaluates `when`,
/// orders each phase into waves from `needs`.
public enum Planner {
    /// With `.reveal`, secrets are filled in: only for handing argv and env to a process, never
    /// for printing or journaling (those use the masked plan).
    public static func plan(_ d: StackDescriptor, _ context: PlanContext,
                            secrets mode: Interpolator.SecretMode = .mask) -> (plan: Plan, diagnostics: [Diagnostic]) {
        let inputValues = Dictionary(context.inputs.map { ($0.name, $0.value) }, uniquingKeysWith: { _, b in b })
        let run: [String: String] = [
            "id": context.runID, "revision": context.revision, "short_revision": String(context.revision.prefix(7)),
            "stack": d.stack, "environment": d.environment, "target": d.target,
            "operator": context.operatorName, "state_dir": context.stateDirectory, "kind": context.runKind,
        ]
        let secretValues = Dictionary(context.secrets.compactMap { s in s.value.map { (s.name, $0) } }, uniquingKeysWith: { a, _ in a })
        var interpolator = Interpolator(inputs: inputValues, secrets: secretValues, environment: context.environment,
                                        run: run, backupPath: nil, mode: mode)
        interpolator.unsetOptionalSecrets = Set(d.secrets.filter(\.optional).map(\.name)).subtracting(secretValues.keys)
        if let backup = d.backup {
            interpolator.backupPath = backup.path.map { interpolator.render($0) }
                ?? "\(context.stateDirectory)/backups/\(d.stack)-\(d.environment)-\(context.runID).backup"
        }
        let lookup: (Reference) -> String? = { reference in
            reference.namespace == "inputs" ? inputValues[reference.name] : context.environment[reference.name]
        }

        var phases: [PlanPhase] = []
        for phase in Phase.allCases {
            let steps = plannedSteps(d.steps(in: phase), d, &interpolator, lookup)
            var backup: PlanBackup? = nil
            if phase == .migrate, !steps.isEmpty, let spec = d.backup {
                backup = PlanBackup(path: interpolator.backupPath ?? "",
                                    take: command(spec.take, &interpolator),
                                    verify: command(spec.verify, &interpolator),
                                    restore: command(spec.restore, &interpolator),
                                    check: spec.check.map { command($0, &interpolator) },
                                    push: spec.push.map { command($0, &interpolator) },
                                    fetch: spec.fetch.map { command($0, &interpolator) },
                                    onFailure: spec.onFailure.rawValue, onRollback: spec.onRollback)
            }
            phases.append(PlanPhase(name: phase.rawValue, backup: backup, steps: steps))
        }
        let rollback = plannedSteps(d.rollback, d, &interpolator, lookup)
        let inbound = d.inbound.map { spec in
            PlanInbound(disable: command(spec.disable, &interpolator), enable: command(spec.enable, &interpolator),
                        status: command(spec.status.block, &interpolator),
                        drain: spec.drain.map { command($0.block, &interpolator) })
        }
        var defaultEnv: [String: String] = [:]
        for entry in d.defaults.env { defaultEnv[entry.name] = interpolator.render(entry.value) }
        let defaults = PlanDefaults(timeoutMs: d.defaults.timeoutMs, retries: d.defaults.retries, backoffMs: d.defaults.backoffMs,
                                    env: defaultEnv, dir: d.defaults.dir.map { interpolator.render($0) })
        var plan = Plan(
            stack: d.stack, environment: d.environment, revision: context.revision,
            revisionSubject: context.revisionSubject, revisionAuthor: context.revisionAuthor,
            descriptorFiles: d.files, descriptorBlob: context.descriptorBlob, paths: d.paths.map(\.raw),
            inputs: context.inputs.map { PlanInput(name: $0.name, value: $0.value, source: $0.source.rawValue) },
            secrets: context.secrets.map { PlanSecret(name: $0.name, source: $0.source, status: $0.status) },
            defaults: defaults,
            phases: phases, autoRollback: Phase.allCases.filter(d.autoRollback.contains).map(\.rawValue), rollback: rollback, inbound: inbound,
            manual: d.manual.map { PlanManualItem(item: $0.text, section: $0.section) },
            signoff: d.signoff,
            readiness: d.readiness.map { PlanReadiness(categories: $0.categories, scale: $0.scale, pass: $0.pass, maximum: $0.maximum) },
            promotion: d.promotion.map { PlanPromotion(from: $0.from, sameRevision: $0.sameRevision) },
            notify: d.notify.map { PlanNotify(url: interpolator.render($0.url), on: $0.on.map(\.rawValue).sorted()) },
            runbooks: d.runbooks.map { book in
                PlanRunbook(name: book.name, description: book.description,
                            steps: plannedSteps(book.steps, d, &interpolator, lookup), next: book.next)
            },
            warnings: [], diff: nil)
        plan.rollbackPrepare = plannedSteps(d.rollbackPrepare, d, &interpolator, lookup)
        plan.bake = d.bake.map { PlanBake(durationMs: $0.durationMs, intervalMs: $0.intervalMs, rounds: $0.rounds, checks: $0.checks) }
        plan.hosts = d.hosts.map(\.name)
        return (plan, interpolator.problems)
    }

    private static func command(_ block: CommandBlock, _ interpolator: inout Interpolator) -> PlanCommand {
        var env: [String: String] = [:]
        for entry in block.env { env[entry.name] = interpolator.render(entry.value) }
        return PlanCommand(argv: interpolator.render(block.command), env: env,
                           dir: block.dir.map { interpolator.render($0) }, timeoutMs: block.timeoutMs,
                           secretInArgv: block.secretInArgv)
    }

    private static func plannedSteps(_ steps: [Step], _ d: StackDescriptor, _ interpolator: inout Interpolator,
                                     _ lookup: (Reference) -> String?) -> [PlanStep] {
        let after = dependencies(steps)
        let waves = self.waves(steps, after: after)
        return steps.map { step in
            var env: [String: String] = [:]
            for entry in d.defaults.env { env[entry.name] = interpolator.render(entry.value) }
            for entry in step.env { env[entry.name] = interpolator.render(entry.value) }
            let probe = step.probe.map { probe in probe.resolve(&interpolator) }
            return PlanStep(
                name: step.name,
                argv: step.command.map { interpolator.render($0) } ?? [],
                shell: { if case .shell? = step.command { return true } else { return false } }(),
                probe: probe,
                env: env,
                stdin: step.stdin.map { interpolator.render($0) },
                secretInArgv: step.secretInArgv,
                rollsBack: step.rollsBack ? true : nil,
                rollout: step.on.map { HostRollout.describe($0, hosts: d.hosts) },
                dir: (step.dir ?? d.defaults.dir).map { interpolator.render($0) },
                timeoutMs: step.timeoutMs ?? d.defaults.timeoutMs,
                retries: step.retries ?? d.defaults.retries,
                backoffMs: step.backoffMs ?? d.defaults.backoffMs,
                after: after[step.name] ?? [],
                wave: waves[step.name] ?? 0,
                when: step.when?.source,
                skipped: step.when.map { !$0.condition.evaluate(lookup) } ?? false,
                confirm: step.confirm,
                rollbackArgv: step.rollback.map { interpolator.render($0.command) },
                continueOnError: step.continueOnError,
                idempotent: step.idempotent,
                expect: probe.map { describe($0, json: step.probe?.json ?? []) } ?? describe(step.expect))
        }
    }

    /// A step with `needs` waits for exactly those; a step without waits for every step
    /// declared before it. So a phase runs in declared order unless `needs` says otherwise.
    ///
    /// "Every earlier step" is written as its transitive reduction, the frontier: the earlier
    /// steps no later one already waits for (in a plain sequence, just the previous step), so
    /// plans and readiness checks stay linear in the number of steps.
    public static func dependencies(_ steps: [Step]) -> [String: [String]] {
        var result: [String: [String]] = [:]
        var frontier: [String] = []
        for step in steps {
            if step.needsLocation != nil {
                result[step.name] = step.needs
                var covered: Set<String> = []
                var stack = step.needs
                while let name = stack.popLast() {
                    guard covered.insert(name).inserted else { continue }
                    stack += result[name] ?? []
                }
                frontier = frontier.filter { !covered.contains($0) } + [step.name]
            } else {
                result[step.name] = frontier
                frontier = [step.name]
            }
        }
        return result
    }

    /// Wave 0 has no dependencies; every other step is one wave after its latest dependency.
    static func waves(_ steps: [Step], after: [String: [String]]) -> [String: Int] {
        var wave: [String: Int] = [:]
        func compute(_ name: String, _ depth: Int) -> Int {
            if let known = wave[name] { return known }
            guard depth <= steps.count else { return 0 }
            let value = (after[name] ?? []).map { compute($0, depth + 1) + 1 }.max() ?? 0
            wave[name] = value
            return value
        }
        for step in steps { _ = compute(step.name, 0) }
        return wave
    }

    static func describe(_ e: Expectation) -> [String] {
        var out: [String] = []
        out.append(e.exitCodes == [0] ? "exit 0" : "exit in \(e.exitCodes.map(String.init).joined(separator: ", "))")
        out += e.stdoutContains.map { "stdout contains \"\($0)\"" }
        out += e.stderrContains.map { "stderr contains \"\($0)\"" }
        out += e.stdoutMatches.map { "stdout matches /\($0)/" }
        out += e.stderrMatches.map { "stderr matches /\($0)/" }
        out += e.json.map { "\($0.path) == \($0.equals)" }
        return out
    }
}
