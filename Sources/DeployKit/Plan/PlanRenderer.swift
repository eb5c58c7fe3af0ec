import Foundation

/// Plans for people (text) and for machines (JSON).
public enum PlanRenderer {
    public static func json(_ plan: Plan) throws -> String {
        try JSONOutput.encode(plan)
    }

    public static func text(_ plan: Plan) -> String {
        var out: [String] = []
        if plan.uncommitted {
            out.append("Plan for \(plan.target) from \(plan.revisionSubject): not a commit, so up would not run it as shown")
        } else {
            out.append("Plan for \(plan.target) at \(plan.revision.prefix(10)) \"\(plan.revisionSubject)\" (\(plan.revisionAuthor))")
        }
        let extends = plan.descriptorFiles.dropFirst()
        out.append("descriptor: \(plan.descriptorFiles[0])" + (extends.isEmpty ? "" : " (extends \(extends.joined(separator: ", ")))")
                   + ", blob \(plan.descriptorBlob.prefix(10))")
        if !plan.paths.isEmpty { out.append("paths its steps use: \(plan.paths.joined(separator: ", "))") }
        if !plan.inputs.isEmpty {
            out.append("inputs:")
            for input in plan.inputs { out.append("  \(input.name) = \(input.value)  (\(input.source))") }
        }
        if !plan.secrets.isEmpty {
            out.append("secrets (values never shown):")
            for secret in plan.secrets { out.append("  \(secret.name) from \(secret.source): \(secret.status.rawValue)") }
        }
        let d = plan.defaults
        var every = ["timeout \(DurationValue.format(milliseconds: d.timeoutMs))"]
        if d.retries > 0 { every.append("retries \(d.retries) (backoff \(DurationValue.format(milliseconds: d.backoffMs)))") }
        if let dir = d.dir { every.append("in \(dir)") }
        out.append("every step: " + every.joined(separator: "; "))
        out.append("a failure rolls back by itself in: " + (plan.autoRollback.isEmpty ? "no phase (auto_rollback: false)" : plan.autoRollback.joined(separator: ", "))
                   + " (--no-rollback stops it for one run)")
        if !d.env.isEmpty {
            out.append("every step's env: " + d.env.sorted { $0.key < $1.key }.map { "\($0.key)=\(ShellQuote.quote($0.value))" }.joined(separator: " "))
        }
        var number = 0
        for phase in plan.phases {
            out.append("")
            out.append(phase.steps.isEmpty ? "\(phase.name): no steps" : "\(phase.name)")
            if let backup = phase.backup {
                out.append("      backup take    \(ShellQuote.join(backup.take.argv))\(allowance(backup.take))")
                out.append("      backup verify  \(ShellQuote.join(backup.verify.argv))\(allowance(backup.verify))")
                if let check = backup.check { out.append("      backup check   \(ShellQuote.join(check.argv))\(allowance(check))   (again after any restore: must print the same)") }
                if let push = backup.push { out.append("      backup push    \(ShellQuote.join(push.argv))\(allowance(push))   (to shared storage)") }
                if let fetch = backup.fetch { out.append("      backup fetch   \(ShellQuote.join(fetch.argv))\(allowance(fetch))   (a rollback on a machine without it)") }
                out.append("      (restore if a migration fails: \(backup.onFailure == "restore" ? "yes" : "no, stop"); on rollback: \(RestoreDecision.describe(declared: backup.onRollback, flag: nil)); restore command: \(ShellQuote.join(backup.restore.argv))\(allowance(backup.restore)))")
            }
            let parallelWaves = Dictionary(grouping: phase.steps.filter { !$0.skipped }, by: \.wave).filter { $0.value.count > 1 }
            for step in phase.steps {
                number += 1
                out += stepLines(step, defaults: d, number: number, parallel: parallelWaves[step.wave] != nil && !step.skipped)
            }
        }
        if let bake = plan.bake {
            out.append("")
            out.append("bake: \(bake.checks.joined(separator: ", ")) again every \(DurationValue.format(milliseconds: bake.intervalMs)) for \(DurationValue.format(milliseconds: bake.durationMs)) (\(bake.rounds) round\(bake.rounds == 1 ? "" : "s")); a failed round \(plan.autoRollback.contains(Phase.verify.rawValue) ? "rolls back like a failed verify" : "fails the run (auto_rollback leaves verify out)")")
        }
        if !plan.rollback.isEmpty {
            out.append("")
            out.append("rollback (stack-level, after each step's own rollback)")
            for step in plan.rollback { out += stepLines(step, defaults: d, number: nil, parallel: false) }
        }
        if !plan.rollbackPrepare.isEmpty {
            out.append("")
            out.append("rollback prepare (a rollback to this revision runs these first, before inbound mail goes off)")
            for step in plan.rollbackPrepare { out += stepLines(step, defaults: d, number: nil, parallel: false) }
        }
        if let inbound = plan.inbound {
            out.append("")
            out.append("inbound mail guard (around every rollback)")
            out.append("  disable  \(ShellQuote.join(inbound.disable.argv))\(allowance(inbound.disable))")
            out.append("  status   \(ShellQuote.join(inbound.status.argv))\(allowance(inbound.status))")
            if let drain = inbound.drain { out.append("  drain    \(ShellQuote.join(drain.argv))\(allowance(drain))") }
            out.append("  enable   \(ShellQuote.join(inbound.enable.argv))\(allowance(inbound.enable))")
        }
        if !plan.manual.isEmpty {
            out.append("")
            out.append("manual checks (a person confirms these in the report)")
            for item in plan.manual { out.append("  [ ] " + (item.section.map { "\($0): " } ?? "") + item.item) }
        }
        if !plan.signoff.isEmpty {
            out.append("")
            out.append("sign-off: \(plan.signoff.joined(separator: ", "))")
        }
        if let promotion = plan.promotion {
            out.append("promotion: up needs the last up of \(promotion.from) accepted (deployctl review)\(promotion.sameRevision ? ", at the same revision" : "")")
        }
        if let readiness = plan.readiness {
            out.append("readiness: \(readiness.categories.joined(separator: ", ")), each 1–\(readiness.scale); passes at \(readiness.pass)/\(readiness.maximum)")
        }
        if let diff = plan.diff {
            out.append("")
            out += diffLines(diff)
        }
        for warning in plan.warnings {
            out.append("warning: \(warning)")
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// A block's `secret_in_argv:` reason, after its command.
    private static func allowance(_ command: PlanCommand) -> String {
        command.secretInArgv.map { "   (secret in argv, allowed: \($0))" } ?? ""
    }

    /// A step in three to six lines: what runs, then only what differs from `defaults`.
    private static func stepLines(_ step: PlanStep, defaults: PlanDefaults, number: Int?, parallel: Bool) -> [String] {
        let label = number.map { $0.leftPadded(to: 3) } ?? "  -"
        let marker = step.skipped ? " skip" : parallel ? " ∥\(step.wave)" : "    "
        var lines = ["\(label)\(marker)  \(step.name)"]
        let indent = "          "
        lines.append(indent + (step.shell ? "shell: \(step.argv.last ?? "")" : step.probe != nil ? step.shownCommand.joined(separator: " ") : ShellQuote.join(step.argv)))
        var notes: [String] = []
        if let when = step.when { notes.append("when \(when)" + (step.skipped ? " → false, skipped" : "")) }
        if step.retries != defaults.retries || step.backoffMs != defaults.backoffMs, step.retries > 0 {
            notes.append("retries \(step.retries) (backoff \(DurationValue.format(milliseconds: step.backoffMs)))")
        }
        if step.timeoutMs != defaults.timeoutMs { notes.append("timeout \(DurationValue.format(milliseconds: step.timeoutMs))") }
        if step.expect != ["exit 0"] { notes.append("expect " + step.expect.joined(separator: ", ")) }
        if let dir = step.dir, dir != defaults.dir { notes.append("in \(dir)") }
        if step.idempotent { notes.append("idempotent") }
        if step.continueOnError { notes.append("continues on error") }
        if !notes.isEmpty { lines.append(indent + notes.joined(separator: "; ")) }
        let ownEnv = step.env.filter { defaults.env[$0.key] != $0.value }
        if !ownEnv.isEmpty {
            lines.append(indent + "env " + ownEnv.sorted { $0.key < $1.key }.map { "\($0.key)=\(ShellQuote.quote($0.value))" }.joined(separator: " "))
        }
        if let stdin = step.stdin {
            let quoted = ShellQuote.quote(stdin)
            lines.append(indent + "stdin: " + (quoted.count > 80 ? quoted.prefix(79) + "…" : quoted))
        }
        if let reason = step.secretInArgv { lines.append(indent + "secret in argv, allowed: \(reason)") }
        if step.rollsBack == true { lines.append(indent + "a failure rolls back (rolls_back: true)") }
        if let rollout = step.rollout { lines.append(indent + rollout) }
        if let confirm = step.confirm { lines.append(indent + "asks: \(confirm)") }
        if let rollback = step.rollbackArgv { lines.append(indent + "undo: \(ShellQuote.join(rollback))") }
        return lines
    }

    static func diffLines(_ diff: PlanDiff) -> [String] {
        var out = ["changes since \(diff.against.prefix(10)) \"\(diff.againstSubject)\":"]
        if diff.changes.isEmpty { out.append("  none: the plans are the same") }

        for change in diff.changes {
            switch change.change {
            case .added: out.append("  + \(change.section)/\(change.name)" + (change.fields.first?.after.map { ": \($0)" } ?? ""))
            case .removed: out.append("  - \(change.section)/\(change.name)" + (change.fields.first?.before.map { ": \($0)" } ?? ""))
            case .changed:
                out.append("  ~ \(change.section)/\(change.name)")
                for field in change.fields {
                    out.append("      \(field.field): \(field.before ?? "(none)") → \(field.after ?? "(none)")")
                }
            }
        }
        out.append(diff.files.isEmpty ? "files under the descriptor and its paths: none changed"
                                       : "files under the descriptor and its paths: \(diff.files.count) changed")
        for file in diff.files {
            out.append("  \(file.change == .added ? "A" : file.change == .deleted ? "D" : "M") \(file.path)")
        }
        return out
    }
}
