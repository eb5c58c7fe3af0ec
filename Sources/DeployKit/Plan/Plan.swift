import Probes

/// What `up` would do, step by step, with every argument resolved and every secret masked.
/// Encoded as JSON for machines (snake_case keys; stable and documented in README).
public struct Plan: Codable, Sendable {
    public var stack: String
    public var environment: String
    public var revision: String
    public var revisionSubject: String
    public var revisionAuthor: String
    public var descriptorFiles: [String]
    public var descriptorBlob: String
    /// Read from the files on disk (`--worktree`), not from `revision`: never what ran.
    public var uncommitted: Bool = false
    /// The descriptor's `paths:`, as written.
    public var paths: [String]
    public var inputs: [PlanInput]
    public var secrets: [PlanSecret]
    /// What every step gets unless it says otherwise (`defaults:`).
    public var defaults: PlanDefaults
    public var phases: [PlanPhase]
    /// The phases whose failure rolls back by itself (`auto_rollback:`), in run order.
    public var autoRollback: [String] = []
    public var rollback: [PlanStep]
    /// `rollback_prepare:` run by a rollback to this revision before inbound mail goes off.
    public var rollbackPrepare: [PlanStep] = []
    public var inbound: PlanInbound?
    public var manual: [PlanManualItem]
    public var signoff: [String]
    public var readiness: PlanReadiness?
    /// `bake:` the checks repeated after postdeploy.
    public var bake: PlanBake? = nil
    /// `promotion:` whose accepted run this environment needs before `up` (STACK/ENV).
    public var promotion: PlanPromotion? = nil
    /// `hosts:` the inventory's host names, in order (empty: every step runs here).
    public var hosts: [String] = []
    /// Webhooks told how the run ended (masked like every other secret in a plan).
    public var notify: [PlanNotify]
    public var runbooks: [PlanRunbook]
    public var warnings: [String]
    public var diff: PlanDiff?

    public var target: String { "\(stack)/\(environment)" }

    /// What people confirm about a run of this plan (`deployctl review`).
    public var checklist: Checklist {
        Checklist(manual: manual.map { ManualItem(text: $0.item, section: $0.section) }, signoff: signoff,
                  readiness: readiness.map { Readiness(categories: $0.categories, scale: $0.scale, pass: $0.pass) })
    }

    /// A phase by name: plans always hold the five, in order.
    public func phase(_ phase: Phase) -> PlanPhase {
        phases.first { $0.name == phase.rawValue } ?? PlanPhase(name: phase.rawValue, backup: nil, steps: [])
    }

    /// The `secret_in_argv:` reasons of whatever may run (a step, a backup or inbound command,
    /// a rollback or runbook step), by the name the journal gives it, for reports.
    public var argvSecretAllowances: ArgvSecretAllowances { ArgvSecretAllowances(self) }
}

/// Built once per report: looking each step up in the plan's lists made a report of 1,000
/// steps cost ~86 M instructions.
public struct ArgvSecretAllowances: Sendable {
    /// `backup.take`, `inbound.disable`, …: matched by name in whatever section ran them.
    private let blocks: [String: String?]
    /// Phase or section (`runbook`) → step name → reason; any other section is a rollback's.
    private let sections: [String: [String: String]]
    private let rollback: [String: String]

    init(_ plan: Plan) {
        let backup = plan.phase(.migrate).backup, inbound = plan.inbound
        let commands: [String: PlanCommand?] = [
            "backup.take": backup?.take, "backup.verify": backup?.verify, "backup.restore": backup?.restore,
            "backup.check": backup?.check, "backup.push": backup?.push, "backup.fetch": backup?.fetch,
            "inbound.disable": inbound?.disable, "inbound.enable": inbound?.enable, "inbound.status": inbound?.status, "inbound.drain": inbound?.drain,
        ]
        blocks = commands.mapValues { $0?.secretInArgv }
        // The first step of a name decides (runbooks may share step names).
        func reasons(_ steps: [PlanStep]) -> [String: String] {
            var seen = Set<String>(), reasons: [String: String] = [:]
            for step in steps where seen.insert(step.name).inserted { reasons[step.name] = step.secretInArgv }
            return reasons
        }
        var sections = Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0.rawValue, reasons(plan.phase($0).steps)) })
        sections[StepRef.Section.runbook] = reasons(plan.runbooks.flatMap(\.steps))
        self.sections = sections
        rollback = reasons(plan.rollback)
    }

    public func reason(_ ref: StepRef) -> String? {
        if let block = blocks[ref.name] { return block }
        return (sections[ref.phase] ?? rollback)[ref.name]
    }
}

public struct PlanInput: Codable, Sendable, Hashable {
    public var name: String
    public var value: String
    public var source: String
}

public struct PlanDefaults: Codable, Sendable, Hashable {
    public var timeoutMs: Int
    public var retries: Int
    public var backoffMs: Int
    public var env: [String: String]
    public var dir: String?
}

public struct PlanSecret: Codable, Sendable, Hashable {
    public var name: String
    public var source: String
    public var status: SecretStatus
}

public struct PlanPhase: Codable, Sendable {
    public var name: String
    /// Taken and verified before the phase's first step (migrate only).
    public var backup: PlanBackup?
    public var steps: [PlanStep]
}

public struct PlanStep: Codable, Sendable, Hashable {
    public var name: String
    /// The exact argv; a `shell:` step is `["/bin/sh", "-c", script]`.
    public var argv: [String]
    public var shell: Bool
    /// A built-in check (`http`, `dns`, …) instead of a command; `argv` is then empty.
    public var probe: ProbeRequest?
    public var env: [String: String]
    /// What the process reads on standard input (secrets masked in a shown plan).
    public var stdin: String?
    /// Why a secret stands in the argv after all; shown wherever the step is.
    public var secretInArgv: String?
    /// A postdeploy step whose failure rolls back (`rolls_back: true`); absent otherwise.
    public var rollsBack: Bool?
    /// For a step `on:` hosts, its rollout in words (`on web: web1 (canary), then web2`).
    public var rollout: String? = nil
    public var dir: String?
    public var timeoutMs: Int
    public var retries: Int
    public var backoffMs: Int
    /// The steps this one waits for (explicit `needs`, or every earlier step).
    public var after: [String]
    /// Steps of the same wave may run at the same time.
    public var wave: Int
    public var when: String?
    /// True when `when` is false for these inputs: the step will not run.
    public var skipped: Bool
    public var confirm: String?
    public var rollbackArgv: [String]?
    public var continueOnError: Bool
    public var idempotent: Bool
    /// What counts as success, in words.
    public var expect: [String]

    /// What a person reads where the command would be: the argv, or the probe in words.
    public var shownCommand: [String] { probe?.words ?? argv }
}

/// A command outside the phases (backup, inbound guard), resolved like a step.
public struct PlanCommand: Codable, Sendable, Hashable {
    public var argv: [String]
    /// Only what the command adds to the defaults' env.
    public var env: [String: String]
    public var dir: String?
    public var timeoutMs: Int?
    /// Why a secret stands in the argv after all.
    public var secretInArgv: String?
}

public struct PlanBackup: Codable, Sendable, Hashable {
    public var path: String
    public var take: PlanCommand
    public var verify: PlanCommand
    public var restore: PlanCommand
    public var check: PlanCommand?
    public var push: PlanCommand?
    public var fetch: PlanCommand?
    public var onFailure: String
    public var onRollback: RestorePolicy
}

public struct PlanInbound: Codable, Sendable, Hashable {
    public var disable: PlanCommand
    public var enable: PlanCommand
    public var status: PlanCommand
    public var drain: PlanCommand?
}

public struct PlanManualItem: Codable, Sendable, Hashable {
    public var item: String
    public var section: String?
}

public struct PlanReadiness: Codable, Sendable, Hashable {
    public var categories: [String]
    public var scale: Int
    public var pass: Int
    public var maximum: Int
}

public struct PlanBake: Codable, Sendable, Hashable {
    public var durationMs: Int
    public var intervalMs: Int
    public var rounds: Int
    public var checks: [String]
}

public struct PlanPromotion: Codable, Sendable, Hashable {
    public var from: String
    public var sameRevision: Bool
}

public struct PlanNotify: Codable, Sendable, Hashable {
    public var url: String
    /// `success`, `failure`, or both.
    public var on: [String]
}

public struct PlanRunbook: Codable, Sendable, Hashable {
    public var name: String
    public var description: String?
    public var steps: [PlanStep]
    public var next: [String]
}
