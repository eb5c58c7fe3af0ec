import GitKit

/// The five phases, always in this order. A run never reorders or skips a phase boundary.
public enum Phase: String, CaseIterable, Sendable, Codable {
    case preflight, migrate, deploy, verify, postdeploy
}

/// A validated stack descriptor (`stacks/<stack>/<environment>.yaml`, v1) with its `extends`
/// chain already merged. Everything here came from YAML that passed validation.
public struct StackDescriptor: Sendable {
    public var stack: String
    public var environment: String
    public var description: String?
    /// The environment file, then each file it extends, in order.
    public var files: [String]
    public var inputs: [InputSpec]
    public var secrets: [SecretSpec]
    public var defaults: StepDefaults
    public var phases: [Phase: [Step]]
    public var backup: BackupSpec?
    public var inbound: InboundSpec?
    /// Stack-level rollback steps, run after the per-step rollbacks.
    public var rollback: [Step]
    /// `rollback_prepare:` what a rollback *to* this revision runs before inbound mail goes off
    /// (building artifacts, fetching, previews): slow work outside the window the guard keeps short.
    public var rollbackPrepare: [Step] = []
    /// The phases whose failure in `up` rolls back by itself: deploy and verify unless
    /// `auto_rollback:` says otherwise (`false`: none; a list: those, postdeploy allowed).
    public var autoRollback: Set<Phase>
    public var manual: [ManualItem]
    public var signoff: [String]
    public var readiness: Readiness?
    /// `bake:` after postdeploy, some checks repeated for a while before the run counts as done.
    public var bake: BakeSpec? = nil
    /// `up` needs another environment's last up accepted first (staging → prod).
    public var promotion: Promotion? = nil
    /// `hosts:` the environment's servers, and `ssh:` how to reach them.
    public var hosts: [HostSpec] = []
    public var ssh: SSHSpec? = nil
    /// `release:` the kept-releases layout on hosts (see `ReleaseLayout`).
    public var release: ReleaseSpec? = nil
    /// `track:` the remote branch this environment follows (else the remote's default branch).
    public var track: TrackSpec? = nil
    /// `signatures:` deployed commits must be signed by a key this trust root names.
    public var signatures: SignaturePolicy? = nil
    /// Webhooks told how each run ended (Slack-compatible JSON).
    public var notify: [NotifySpec] = []
    /// Named read-only procedures (`deployctl runbook TARGET NAME`), in declared order.
    public var runbooks: [Runbook] = []
    /// What else of the repository the steps use (migrations, scripts, site files): `revisions`
    /// and `plan --against` look at these besides the descriptor files.
    public var paths: [PathPattern] = []
    /// What validation warned about (a secret in an argv, …): `plan` shows them.
    public var warnings: [Diagnostic] = []

    public var file: String { files[0] }
    public var target: String { "\(stack)/\(environment)" }

    public func steps(in phase: Phase) -> [Step] { phases[phase] ?? [] }

    /// Where a failure can be undone by rolling back: preflight changed nothing and a failed
    /// migration restores its backup instead.
    public static let rollbackPhases: [Phase] = [.deploy, .verify, .postdeploy]
    /// `auto_rollback:` when the descriptor does not say (or says `true`).
    public static let defaultAutoRollback: Set<Phase> = [.deploy, .verify]

    /// The phase whose `auto_rollback` rule a failed step follows: its own, or verify for a
    /// bake round (a failed verify that came late).
    public static func governingPhase(_ step: StepRef) -> Phase? {
        step.phase == StepRef.Section.bake ? .verify : Phase(rawValue: step.phase)
    }

    /// Whether a failure of this step in `up` rolls back by itself.
    public func failureRollsBack(_ step: StepRef) -> Bool {
        guard let phase = Self.governingPhase(step) else { return false }
        return autoRollback.contains(phase) || steps(in: phase).contains { $0.name == step.name && $0.rollsBack && phase.rawValue == step.phase }
    }

    /// Every step of every phase in run order, then the rollback steps.
    public var allSteps: [Step] { Phase.allCases.flatMap { steps(in: $0) } + rollback + rollbackPrepare }

    /// Every `${…}` template the descriptor holds, with whether `${backup.path}` may appear in it.
    public func forEachTemplate(_ body: (Template, _ allowBackup: Bool) -> Void) {
        func block(_ block: CommandBlock) { command(block.command, env: block.env, dir: block.dir) }
        func command(_ command: CommandSpec, env: [EnvEntry], dir: Template?) {
            command.templates.forEach { body($0, true) }
            env.forEach { body($0.value, true) }
            if let dir { body(dir, true) }
        }
        for entry in defaults.env { body(entry.value, true) }
        if let dir = defaults.dir { body(dir, true) }
        for step in allSteps + runbooks.flatMap(\.steps) {
            if let spec = step.command { command(spec, env: step.env, dir: step.dir) }
            if let stdin = step.stdin { body(stdin, true) }
            step.probe?.templates.values.forEach { body($0, false) }
            if let rollback = step.rollback { block(rollback) }
        }
        for hook in notify { body(hook.url, false) }
        if let backup {
            if let path = backup.path { body(path, false) }
            ([backup.take, backup.verify, backup.restore] + [backup.check, backup.push, backup.fetch].compactMap { $0 }).forEach(block)
        }
        if let inbound {
            [inbound.disable, inbound.enable, inbound.status.block].forEach(block)
            if let drain = inbound.drain { block(drain.block) }
        }
    }

    /// The environment variables `${env.NAME}` reads, sorted.
    public var environmentReferences: [String] {
        var names = Set<String>()
        forEachTemplate { template, _ in
            for reference in template.references where reference.namespace == "env" { names.insert(reference.name) }
        }
        return names.sorted()
    }
}

/// A named input (seed 002's "Required Inputs"): `--input`, `--input-file`, the environment.
public struct InputSpec: Sendable, Hashable {
    public var name: String
    public var description: String?
    public var required: Bool
    public var defaultValue: String?
    /// Source text of a regular expression the whole value must match.
    public var pattern: String?
    /// An environment variable to read it from (besides `DEPLOYCTL_INPUT_<NAME>`).
    public var env: String?
    public var location: FileLocation
}

/// A secret: read from the environment or a file, never printed, never a known default.
public struct SecretSpec: Sendable, Hashable {
    public var name: String
    public var description: String?
    /// The environment variable holding it (defaults to the secret's name).
    public var env: String?
    /// A file holding it (trailing newline dropped), instead of the environment.
    public var file: String?
    /// Values that must not be used (`changeme`, `secret`, …).
    public var reject: [String]
    public var minLength: Int?
    public var optional: Bool
    public var location: FileLocation
}

/// `defaults:` applied to every step that does not say otherwise.
public struct StepDefaults: Sendable, Hashable {
    public var timeoutMs: Int = 10 * 60 * 1000
    public var retries: Int = 0
    public var backoffMs: Int = 2000
    public var env: [EnvEntry] = []
    public var dir: Template?

    public init() {}
}

public struct EnvEntry: Sendable, Hashable {
    public var name: String
    public var value: Template
}

/// What a step runs: an argv list (no shell), or a shell script the descriptor asked for.
public enum CommandSpec: Sendable, Hashable {
    case argv([Template])
    case shell(Template)

    public var templates: [Template] {
        switch self {
        case .argv(let items): return items
        case .shell(let script): return [script]
        }
    }
}

/// A command with its own environment, directory and timeout (backup, inbound, rollback).
public struct CommandBlock: Sendable, Hashable {
    public var command: CommandSpec
    public var env: [EnvEntry]
    public var dir: Template?
    public var timeoutMs: Int?
    public var expect: Expectation
    /// Why a secret may stand in this command's argv after all (`secret_in_argv:`).
    public var secretInArgv: String?
    public var location: FileLocation
}

/// What counts as success: allowed exit codes and checks on the output.
public struct Expectation: Sendable, Hashable {
    public var exitCodes: [Int32] = [0]
    public var stdoutContains: [String] = []
    public var stderrContains: [String] = []
    public var stdoutMatches: [String] = []
    public var stderrMatches: [String] = []
    public var json: [JSONCheck] = []

    public init() {}

    public var isDefault: Bool { self == Expectation() }
}

/// `$.path` in the step's JSON stdout must equal a value (compared as text).
public struct JSONCheck: Sendable, Hashable {
    public var path: JSONPath
    public var equals: String
}

public struct Step: Sendable, Hashable {
    public var name: String
    public var phase: Phase?
    public var description: String?
    /// Exactly one of `command` and `probe` is set.
    public var command: CommandSpec?
    public var probe: ProbeSpec?
    public var env: [EnvEntry]
    /// What the process reads on standard input (otherwise /dev/null): how a secret reaches a
    /// program without standing in its argv.
    public var stdin: Template?
    /// Why a secret may stand in this step's argv after all (`secret_in_argv:`).
    public var secretInArgv: String?
    public var dir: Template?
    public var timeoutMs: Int?
    public var retries: Int?
    public var backoffMs: Int?
    public var expect: Expectation
    public var needs: [String]
    public var needsLocation: FileLocation?
    public var when: StepCondition?
    /// The question a person must answer yes to before this step runs.
    public var confirm: String?
    public var rollback: CommandBlock?
    public var continueOnError: Bool
    /// Safe to run again if a crash left it unclear whether it ran.
    public var idempotent: Bool
    /// A postdeploy step whose failure rolls back like a failed verify (`rolls_back: true`).
    public var rollsBack: Bool = false
    /// `on:` the hosts it runs on over ssh, and how it rolls out (`max_parallel:`, `canary:`).
    public var on: HostPlacement? = nil
    /// `upload:` the step copies files to its hosts (its command is the local `tar` that packs them).
    public var upload: UploadSpec? = nil
    public var location: FileLocation
}

/// What a rollback does with the database backup the undone run took (`backup.on_rollback`,
/// or `--db-restore` for one run).
public enum RestorePolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Restore it, unasked.
    case restore
    /// Leave the database as the migrations left it (migrations the old code tolerates).
    case keep
    /// Ask the person at the terminal; with nobody to ask, restore (README: "Unattended runs").
    case ask
}

/// `backup:`: taken and verified before any migrate step, restorable by rollback.
public struct BackupSpec: Sendable, Hashable {
    public enum OnFailure: String, Sendable, Hashable { case restore, stop }
    /// Where the artifact goes (`${backup.path}`); default `<state>/backups/<run id>.backup`.
    public var path: Template?
    public var take: CommandBlock
    public var verify: CommandBlock
    public var restore: CommandBlock
    /// Prints the database's state (its migration revision, say): run when the backup is taken
    /// and after every restore, which counts only when both print the same.
    public var check: CommandBlock?
    /// Copies the verified backup to shared storage (an S3 bucket, say), so a rollback on
    /// another machine can restore it; a failed push stops the run before any migration.
    public var push: CommandBlock?
    /// Brings the backup from shared storage to `${backup.path}` on this machine: a rollback
    /// runs it, before inbound mail goes off, when the file is not here (or not the same bytes).
    public var fetch: CommandBlock?
    public var onFailure: OnFailure
    public var onRollback: RestorePolicy
    public var location: FileLocation
}

/// `inbound:`: the switch for inbound mail processing, guarded around every rollback.
public struct InboundSpec: Sendable, Hashable {
    public var disable: CommandBlock
    public var enable: CommandBlock
    public var status: StatusCheck
    public var drain: DrainCheck?
    public var location: FileLocation
}

/// Runs a command; `enabled` / `disabled` expectations decide which state its output shows.
public struct StatusCheck: Sendable, Hashable {
    public var block: CommandBlock
    public var enabled: Expectation?
    public var disabled: Expectation?
    /// How long to keep asking until the wanted state shows.
    public var timeoutMs: Int
    public var intervalMs: Int
}

/// Runs a command until `until` holds (the queue is empty), bounded by `timeout`.
public struct DrainCheck: Sendable, Hashable {
    public var block: CommandBlock
    public var until: Expectation
    public var timeoutMs: Int
    public var intervalMs: Int
}

/// A step's `when:` as written, parsed, and where it stands.
public struct StepCondition: Sendable, Hashable {
    public var condition: Condition
    public var source: String
    public var location: FileLocation
}

/// A checklist item only a person can confirm; it lands in reports as an unchecked box.
public struct ManualItem: Sendable, Hashable {
    public var text: String
    public var section: String?
}

/// Seed 004's readiness score: each category rated 1…scale, passing at `pass`.
public struct Readiness: Sendable, Hashable {
    public var categories: [String]
    public var scale: Int
    public var pass: Int
}

/// `bake: {duration: 1h, interval: 5m, checks: [health, error-rate]}`: after postdeploy, the
/// named verify/postdeploy steps run again every `interval` until `duration` has passed (seed
/// 001's "monitor for the first hour"); a failed round fails the run like a failed verify.
public struct BakeSpec: Sendable, Hashable {
    public var durationMs: Int
    public var intervalMs: Int
    public var checks: [String]
    public var checkLocations: [FileLocation]
    public var location: FileLocation

    /// Rounds at interval, 2×interval, … up to the duration (at least one).
    public var rounds: Int { max(1, durationMs / max(intervalMs, 1)) }
}

/// `promotion:` the environment whose last `up` must be accepted (`deployctl review`) before
/// this one deploys, and whether it must have deployed the very revision this one deploys.
public struct Promotion: Sendable, Hashable {
    /// STACK/ENV.
    public var from: String
    public var sameRevision: Bool
    public var location: FileLocation
}

/// `notify:` a webhook URL (often a secret: `${secrets.slack_webhook}`) and which endings it hears.
public struct NotifySpec: Sendable, Hashable {
    public enum When: String, Sendable, Hashable, CaseIterable { case success, failure }
    public var url: Template
    public var on: Set<When>
    public var location: FileLocation
}

/// `runbooks: NAME:` a read-only triage procedure (seed 003): every step runs, each failed
/// check is a finding, `next` says what to do about them. No lock, nothing deployed changes.
public struct Runbook: Sendable, Hashable {
    public var name: String
    public var description: String?
    public var steps: [Step]
    public var next: [String]
    public var location: FileLocation
}
