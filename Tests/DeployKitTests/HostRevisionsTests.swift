import Foundation
import Testing
@testable import DeployKit

/// Which revision each host runs, from the journal's steps.
@Suite struct HostRevisionsTests {
    func run(_ id: String, _ revision: String, _ kind: RunKind = .up) -> RunRecord {
        RunRecord(id: id, kind: kind, stack: "x", environment: "prod", target: "x/prod", revision: revision, revisionSubject: "s",
                  descriptorBlob: "", inputs: [:], operatorName: "ada", host: "deploy-1", pid: 1, pidStart: 1,
                  startedAt: Date(), endedAt: Date(), status: .failed, message: nil, relatedRun: nil)
    }

    func step(_ run: RunRecord, _ name: String, _ status: StepStatus, phase: String = "deploy") -> StepRecord {
        StepRecord(id: 1, runID: run.id, phase: phase, name: name, attempt: 1, argv: ["true"], startedAt: Date(), endedAt: Date(),
                   exitCode: status == .succeeded ? 0 : 1, signal: nil, status: status, durationMs: 1, outputTail: nil, logPath: nil,
                   message: nil, pid: nil, measurements: nil)
    }

    /// With kept releases, an upload into `releases/<sha>` changes nothing a host runs: only
    /// `release.activate` moves `current`. Without them, any deploy step that succeeded there.
    @Test func aHostMovesWithItsActivationWhereThereIsOne() {
        let old = run("r1", "aaa"), new = run("r2", "bbb")
        let steps = [
            old.id: [step(old, "upload@app1", .succeeded), step(old, "release.activate@app1", .succeeded),
                     step(old, "upload@app2", .succeeded), step(old, "release.activate@app2", .succeeded),
                     step(old, "restart@web1", .succeeded)],
            // app1's upload reached it but its activation failed, app2's upload failed; web1 has no release layout.
            new.id: [step(new, "upload@app1", .succeeded), step(new, "upload@app2", .failed),
                     step(new, "release.activate@app1", .failed), step(new, "restart@web1", .succeeded)],
        ]
        let found = HostRevisions.derive(runs: [new, old], hostSteps: { steps[$0] ?? [] }, releaseHosts: { _ in [] })
        #expect(found.map { "\($0.host)=\($0.revision)" } == ["app1=aaa", "app2=aaa", "web1=bbb"])
    }

    /// A run that stopped before activating anywhere (its upload failed on one host, so no
    /// host reached `release.activate`): the hosts its `release_planned` names stay where they
    /// were, though their upload succeeded. Before, the upload counted.
    @Test func aHostTheRunKeepsReleasesOnMovesOnlyWithItsActivationEvenWhenNoneWasReached() {
        let old = run("r1", "aaa"), new = run("r2", "bbb")
        let steps = [
            old.id: [step(old, "upload@app1", .succeeded), step(old, "release.activate@app1", .succeeded),
                     step(old, "upload@app2", .succeeded), step(old, "release.activate@app2", .succeeded)],
            new.id: [step(new, "upload@app1", .succeeded), step(new, "upload@app2", .failed)],
        ]
        let planned = [old.id: Set(["app1", "app2"]), new.id: Set(["app1", "app2"])]
        let found = HostRevisions.derive(runs: [new, old], hostSteps: { steps[$0] ?? [] }, releaseHosts: { planned[$0] ?? [] })
        #expect(found.map { "\($0.host)=\($0.revision)" } == ["app1=aaa", "app2=aaa"])
        let without = HostRevisions.derive(runs: [new, old], hostSteps: { steps[$0] ?? [] }, releaseHosts: { _ in [] })
        #expect(without.map { "\($0.host)=\($0.revision)" } == ["app1=bbb", "app2=aaa"], "the gap the event closes")
    }

    @Test func aRollbacksSwitchMovesTheHostBack() {
        let up = run("r1", "bbb"), back = run("r2", "aaa", .rollback)
        let steps = [
            up.id: [step(up, "upload@app1", .succeeded), step(up, "release.activate@app1", .succeeded)],
            back.id: [step(back, "release.switch@app1", .succeeded, phase: StepRef.Section.rollback),
                      step(back, "undo.migrate@app1", .succeeded, phase: StepRef.Section.rollback)],
        ]
        #expect(HostRevisions.derive(runs: [back, up], hostSteps: { steps[$0] ?? [] }, releaseHosts: { _ in [] }).map(\.revision) == ["aaa"])
        let failedSwitch = [back.id: [step(back, "release.switch@app1", .failed, phase: StepRef.Section.rollback),
                                      step(back, "undo.migrate@app1", .succeeded, phase: StepRef.Section.rollback)], up.id: steps[up.id]!]
        #expect(HostRevisions.derive(runs: [back, up], hostSteps: { failedSwitch[$0] ?? [] }, releaseHosts: { _ in [] }).map(\.revision) == ["bbb"])
    }
}
