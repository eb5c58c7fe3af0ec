/// Checks what a single key cannot: step names unique, `needs` pointing at steps of the same
/// phase without cycles, a backup wherever there are migrations, and every `${…}` and `when`
/// reference naming something the descriptor declares.
struct DescriptorValidator {
    static let runFields = ["id", "revision", "short_revision", "stack", "environment", "target", "operator", "state_dir", "kind"]
    static let namespaces = ["inputs", "secrets", "env", "run", "backup"]

    let descriptor: StackDescriptor
    private var diagnostics: [Diagnostic] = []

    init(descriptor: StackDescriptor) {
        self.descriptor = descriptor
    }

    func check() -> [Diagnostic] {
        var copy = self
        copy.checkUniqueNames()
        for phase in Phase.allCases { copy.checkNeeds(descriptor.steps(in: phase), phase: phase) }
        copy.checkNeeds(descriptor.rollback, phase: nil)
        copy.checkNeeds(descriptor.rollbackPrepare, phase: nil, container: "'rollback_prepare'")
        copy.checkBake()
        copy.checkBackup()
        copy.checkReferences()
        copy.checkRunbooks()
        copy.checkSecretsInArgv()
        return copy.diagnostics
    }

    private mutating func error(_ message: String, at location: FileLocation) {
        diagnostics.append(.error(message, at: location))
    }

    private mutating func warning(_ message: String, at location: FileLocation) {
        diagnostics.append(.warning(message, at: location))
    }

    /// A secret in an argv (a `shell:` script is an argument of sh) is readable by every user of
    /// the machine while the process runs (`ps`, /proc/PID/cmdline). A warning, an error under
    /// `validate --strict`, unless the command says why it must (`secret_in_argv:`).
    private mutating func checkSecretsInArgv() {
        func check(_ command: CommandSpec, allowed: String?, what: String, stdin: Bool) {
            guard allowed == nil else { return }
            for template in command.templates {
                let secrets = template.references.filter { $0.namespace == "secrets" }.map(\.name)
                guard let first = secrets.first else { continue }
                let place: String
                if case .shell = command { place = "the 'shell:' script of \(what), which is an argument of sh," } else { place = "the argv of \(what)" }
                let ways = stdin ? "'env:' (e.g. PGPASSWORD: \"${secrets.\(first)}\") or 'stdin:'" : "'env:' (e.g. PGPASSWORD: \"${secrets.\(first)}\")"
                warning("secret '\(first)' in \(place) is readable by every user of this machine (ps, /proc/PID/cmdline) while it runs; "
                        + "pass it in \(ways) for the program to read, or allow it with secret_in_argv: \"why\"", at: template.location)
            }
        }
        for step in descriptor.allSteps + descriptor.runbooks.flatMap(\.steps) {
            if let command = step.command { check(command, allowed: step.secretInArgv, what: "step '\(step.name)'", stdin: true) }
            if let undo = step.rollback { check(undo.command, allowed: undo.secretInArgv, what: "the 'rollback' of step '\(step.name)'", stdin: false) }
        }
        if let backup = descriptor.backup {
            let blocks: [(String, CommandBlock?)] = [("take", backup.take), ("verify", backup.verify), ("restore", backup.restore),
                                                     ("check", backup.check), ("push", backup.push), ("fetch", backup.fetch)]
            for case let (name, block?) in blocks { check(block.command, allowed: block.secretInArgv, what: "backup.\(name)", stdin: false) }
        }
        if let inbound = descriptor.inbound {
            let blocks: [(String, CommandBlock?)] = [("disable", inbound.disable), ("enable", inbound.enable),
                                                     ("status", inbound.status.block), ("drain", inbound.drain?.block)]
            for case let (name, block?) in blocks { check(block.command, allowed: block.secretInArgv, what: "inbound.\(name)", stdin: false) }
        }
    }

    private mutating func checkUniqueNames() {
        for group in [Phase.allCases.flatMap { descriptor.steps(in: $0) }, descriptor.rollback, descriptor.rollbackPrepare] + descriptor.runbooks.map(\.steps) {
            var first: [String: Step] = [:]
            for step in group {
                if let earlier = first[step.name] {
                    error("duplicate step name '\(step.name)' (first defined at \(earlier.location))", at: step.location)
                } else {
                    first[step.name] = step
                }
            }
        }
    }

    /// `bake.checks` name verify or postdeploy steps: the checks the window repeats.
    private mutating func checkBake() {
        guard let bake = descriptor.bake else { return }
        let checks = (descriptor.steps(in: .verify) + descriptor.steps(in: .postdeploy))
        for (name, location) in zip(bake.checks, bake.checkLocations) where !checks.contains(where: { $0.name == name }) {
            error("'bake.checks' names '\(name)', which is not a verify or postdeploy step\(Suggestion.hint(for: name, in: checks.map(\.name)))", at: location)
        }
        for step in checks where bake.checks.contains(step.name) && step.confirm != nil {
            error("'bake.checks' repeats '\(step.name)', which has a confirm: gate; a bake round runs unattended", at: step.location)
        }
    }

    private mutating func checkNeeds(_ steps: [Step], phase: Phase?, container named: String? = nil) {
        let names = steps.map(\.name)
        let container = named ?? phase.map { "phase '\($0.rawValue)'" } ?? "'rollback'"
        for step in steps {
            let at = step.needsLocation ?? step.location
            for need in step.needs {
                if need == step.name {
                    error("step '\(step.name)' needs itself", at: at)
                } else if !names.contains(need) {
                    if let other = descriptor.allSteps.first(where: { $0.name == need }) {
                        let where_ = other.phase.map { "phase '\($0.rawValue)'" } ?? "'rollback'"
                        error("step '\(step.name)' needs '\(need)', which is in \(where_); 'needs' orders steps within one phase (phases already run in order)", at: at)
                    } else {
                        error("step '\(step.name)' needs '\(need)', which is not a step of \(container)\(Suggestion.hint(for: need, in: names))", at: at)
                    }
                }
            }
        }
        if let cycle = Self.findCycle(steps) {
            let start = steps.first { $0.name == cycle[0] }!
            error("'needs' cycle: \(cycle.joined(separator: " → "))", at: start.location)
        }
    }

    /// The first cycle through `needs`, as names with the first repeated at the end.
    static func findCycle(_ steps: [Step]) -> [String]? {
        let needs = Dictionary(steps.map { ($0.name, $0.needs) }, uniquingKeysWith: { a, _ in a })
        var state: [String: Int] = [:] // 1 visiting, 2 done
        var stack: [String] = []
        func visit(_ name: String) -> [String]? {
            if state[name] == 2 { return nil }
            if state[name] == 1 {
                let start = stack.firstIndex(of: name)!
                return Array(stack[start...]) + [name]
            }
            state[name] = 1
            stack.append(name)
            for next in needs[name] ?? [] where needs[next] != nil && next != name {
                if let cycle = visit(next) { return cycle }
            }
            stack.removeLast()
            state[name] = 2
            return nil
        }
        for step in steps {
            if let cycle = visit(step.name) { return cycle }
        }
        return nil
    }

    private mutating func checkBackup() {
        let migrate = descriptor.steps(in: .migrate)
        if !migrate.isEmpty, descriptor.backup == nil {
            error("phase 'migrate' has \(migrate.count) step(s) but the descriptor has no 'backup:' block; a migration always runs after a verified backup (give backup.take, backup.verify and backup.restore)", at: migrate[0].location)
        }
    }

    /// Runbooks only look: no undo, no gates, and every check runs in order.
    private mutating func checkRunbooks() {
        for runbook in descriptor.runbooks {
            if runbook.steps.isEmpty { error("runbook '\(runbook.name)' has no steps", at: runbook.location) }
            for step in runbook.steps {
                if step.rollback != nil {
                    error("step '\(step.name)' of runbook '\(runbook.name)' has a 'rollback'; runbooks are read-only, so there is nothing to undo", at: step.location)
                }
                if step.confirm != nil {
                    error("step '\(step.name)' of runbook '\(runbook.name)' has 'confirm'; runbooks are read-only and run unattended", at: step.location)
                }
                if !step.needs.isEmpty {
                    error("step '\(step.name)' of runbook '\(runbook.name)' has 'needs'; every step of a runbook runs, in order", at: step.needsLocation ?? step.location)
                }
            }
        }
    }

    // MARK: - References

    private mutating func checkReferences() {
        descriptor.forEachTemplate { template, allowBackup in checkTemplate(template, allowBackup: allowBackup) }
        for step in descriptor.allSteps + descriptor.runbooks.flatMap(\.steps) {
            if let when = step.when {
                for reference in when.condition.references { checkConditionReference(reference, in: step, at: when.location) }
            }
        }
    }

    private mutating func checkTemplate(_ template: Template, allowBackup: Bool = true) {
        for reference in template.references {
            if let problem = problem(with: reference, allowBackup: allowBackup) {
                error(problem, at: template.location)
            }
        }
    }

    private func problem(with reference: Reference, allowBackup: Bool) -> String? {
        let d = descriptor
        switch reference.namespace {
        case "inputs":
            let names = d.inputs.map(\.name)
            return names.contains(reference.name) ? nil
                : "unknown input '\(reference.name)' in ${\(reference)}\(Suggestion.hint(for: reference.name, in: names)); declare it under 'inputs:'"
        case "secrets":
            let names = d.secrets.map(\.name)
            return names.contains(reference.name) ? nil
                : "unknown secret '\(reference.name)' in ${\(reference)}\(Suggestion.hint(for: reference.name, in: names)); declare it under 'secrets:'"
        case "env":
            return Reference.isIdentifier(reference.name) ? nil : "'\(reference.name)' in ${\(reference)} is not an environment variable name"
        case "run":
            return Self.runFields.contains(reference.name) ? nil
                : "unknown run field '\(reference.name)' in ${\(reference)}\(Suggestion.hint(for: reference.name, in: Self.runFields)); known: \(Self.runFields.joined(separator: ", "))"
        case "backup":
            if reference.name != "path" { return "unknown backup field '\(reference.name)' in ${\(reference)}; only ${backup.path} exists" }
            if !allowBackup { return "backup.path cannot refer to itself" }
            return d.backup == nil ? "${backup.path} is used but the descriptor has no 'backup:' block" : nil
        default:
            return "unknown namespace '\(reference.namespace)' in ${\(reference)}\(Suggestion.hint(for: reference.namespace, in: Self.namespaces)); use inputs, secrets, env, run or backup"
        }
    }

    private mutating func checkConditionReference(_ reference: Reference, in step: Step, at location: FileLocation) {
        switch reference.namespace {
        case "inputs":
            let names = descriptor.inputs.map(\.name)
            if !names.contains(reference.name) {
                error("'when' of step '\(step.name)' uses unknown input '\(reference.name)'\(Suggestion.hint(for: reference.name, in: names))", at: location)
            }
        case "env":
            break
        case "secrets":
            error("'when' of step '\(step.name)' cannot depend on a secret ('\(reference)'); conditions are printed in plans and reports", at: location)
        default:
            error("'when' of step '\(step.name)' uses '\(reference)'; conditions may use inputs.NAME and env.NAME", at: location)
        }
    }
}
