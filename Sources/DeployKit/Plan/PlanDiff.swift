import Foundation
import GitKit

/// How the plan at one revision differs from the plan at another, step by step: what a
/// reviewer needs before approving `up` of a new revision.
public struct PlanDiff: Codable, Sendable {
    public var against: String
    public var againstSubject: String
    public var changes: [PlanChange]
    /// The files under the descriptor's `paths:` (and the descriptor files) that changed since
    /// `against`: what the steps will run that the step diff cannot show.
    public var files: [FileChange] = []

    public static func between(old: Plan, new: Plan) -> PlanDiff {
        var changes: [PlanChange] = []
        let sections = zip(old.phases, new.phases).map { ($1.name, $0.steps, $1.steps) } + [("rollback", old.rollback, new.rollback), ("rollback_prepare", old.rollbackPrepare, new.rollbackPrepare)]
        for (section, before, after) in sections {
            let beforeNames = Set(before.map(\.name)), afterNames = Set(after.map(\.name))
            for step in after where !beforeNames.contains(step.name) {
                changes.append(PlanChange(change: .added, section: section, name: step.name, fields: [
                    FieldChange(field: "argv", before: nil, after: render(step.shownCommand))]))
            }
            for step in before where !afterNames.contains(step.name) {
                changes.append(PlanChange(change: .removed, section: section, name: step.name, fields: [
                    FieldChange(field: "argv", before: render(step.shownCommand), after: nil)]))
            }
            for step in after {
                guard let previous = before.first(where: { $0.name == step.name }) else { continue }
                let fields = compare(previous, step, sameRevision: { Self.renamingRevision($0, from: old.revision, to: new.revision) })
                if !fields.isEmpty { changes.append(PlanChange(change: .changed, section: section, name: step.name, fields: fields)) }
            }
        }
        let oldInputs = Set(old.inputs.map(\.name)), newInputs = Set(new.inputs.map(\.name))
        for name in newInputs.subtracting(oldInputs).sorted() {
            changes.append(PlanChange(change: .added, section: "inputs", name: name, fields: []))
        }
        for name in oldInputs.subtracting(newInputs).sorted() {
            changes.append(PlanChange(change: .removed, section: "inputs", name: name, fields: []))
        }
        let oldBackup = old.phases.compactMap(\.backup).first, newBackup = new.phases.compactMap(\.backup).first
        if oldBackup != newBackup {
            changes.append(PlanChange(change: .changed, section: "backup", name: "backup", fields: [
                FieldChange(field: "commands", before: oldBackup.map(describe), after: newBackup.map(describe))]))
        }
        if old.inbound != new.inbound {
            changes.append(PlanChange(change: .changed, section: "inbound", name: "inbound", fields: [
                FieldChange(field: "commands", before: old.inbound.map(describe), after: new.inbound.map(describe))]))
        }
        return PlanDiff(against: old.revision, againstSubject: old.revisionSubject, changes: changes)
    }

    /// The old plan's text as if it had been planned at the new revision: `${run.revision}`
    /// and `${run.short_revision}` differ between any two revisions and are not a change.
    static func renamingRevision(_ text: String, from old: String, to new: String) -> String {
        guard old != new, old.count >= 7, new.count >= 7 else { return text }
        return text.replacingOccurrences(of: old, with: new)
            .replacingOccurrences(of: String(old.prefix(7)), with: String(new.prefix(7)))
    }

    private static func compare(_ a: PlanStep, _ b: PlanStep, sameRevision: (String) -> String) -> [FieldChange] {
        var fields: [FieldChange] = []
        func field(_ name: String, _ x: String?, _ y: String?) {
            if x.map(sameRevision) != y { fields.append(FieldChange(field: name, before: x, after: y)) }
        }
        field("argv", render(a.shownCommand), render(b.shownCommand))
        field("env", renderEnv(a.env), renderEnv(b.env))
        field("dir", a.dir, b.dir)
        field("timeout", DurationValue.format(milliseconds: a.timeoutMs), DurationValue.format(milliseconds: b.timeoutMs))
        field("retries", "\(a.retries)", "\(b.retries)")
        field("backoff", DurationValue.format(milliseconds: a.backoffMs), DurationValue.format(milliseconds: b.backoffMs))
        field("after", a.after.joined(separator: ", "), b.after.joined(separator: ", "))
        field("when", a.when, b.when)
        field("confirm", a.confirm, b.confirm)
        field("rollback", a.rollbackArgv.map(render), b.rollbackArgv.map(render))
        field("continue_on_error", "\(a.continueOnError)", "\(b.continueOnError)")
        field("idempotent", "\(a.idempotent)", "\(b.idempotent)")
        field("expect", a.expect.joined(separator: "; "), b.expect.joined(separator: "; "))
        return fields
    }

    static func render(_ argv: [String]) -> String { ShellQuote.join(argv) }

    private static func renderEnv(_ env: [String: String]) -> String {
        env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    private static func describe(_ b: PlanBackup) -> String {
        "take: \(render(b.take.argv)); verify: \(render(b.verify.argv)); restore: \(render(b.restore.argv)); on failure: \(b.onFailure)"
    }

    private static func describe(_ i: PlanInbound) -> String {
        "disable: \(render(i.disable.argv)); status: \(render(i.status.argv)); enable: \(render(i.enable.argv))"
            + (i.drain.map { "; drain: \(render($0.argv))" } ?? "")
    }
}

public struct PlanChange: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable { case added, removed, changed }
    public var change: Kind
    /// A phase name, `rollback`, `inputs`, `backup` or `inbound`.
    public var section: String
    public var name: String
    public var fields: [FieldChange]
}

public struct FieldChange: Codable, Sendable, Hashable {
    public var field: String
    public var before: String?
    public var after: String?
}

/// Quotes argv for display so a person can paste it into a shell.
public enum ShellQuote {
    public static func quote(_ word: String) -> String {
        let safe = word.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2022: true  // digits, ASCII letters, •
            default: scalar.isASCII && "_@%+=:,./-".utf8.contains(UInt8(scalar.value))
            }
        }
        // A leading `=` is zsh's path expansion (`=ls`).
        if safe && !word.isEmpty && !word.hasPrefix("=") { return word }
        return quoted(word)
    }

    /// `word` in single quotes, whatever it holds.
    private static func quoted(_ word: String) -> String {
        // Every `'` byte closes, escapes and reopens, whatever follows it: a shell reads bytes.
        var bytes: [UInt8] = [UInt8(ascii: "'")]
        bytes.reserveCapacity(word.utf8.count + 2)
        for byte in word.utf8 {
            if byte == UInt8(ascii: "'") { bytes += "'\\''".utf8 } else { bytes.append(byte) }
        }
        bytes.append(UInt8(ascii: "'"))
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func join(_ argv: [String]) -> String {
        // A first word with `=` in it would paste as a variable assignment.
        argv.enumerated().map { index, word in index == 0 && word.contains("=") ? quoted(word) : quote(word) }.joined(separator: " ")
    }
}
