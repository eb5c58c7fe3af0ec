import Foundation
import Mustache
import Probes
import Testing
@testable import DeployKit

/// Fixture journal records → report, compared byte for byte with Tests/DeployKitTests/Golden.
/// After an intended change: `UPDATE_GOLDEN=1 swift test --filter ReportGoldenTests`, then
/// read the diff of the golden files before committing them.
@Suite struct ReportGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_795_000_000 + seconds) }

    static let descriptor = """
        inputs:
          host: { default: mail.example.test }
        secrets:
          token: { env: TOKEN }
        backup:
          take: [pg_dump, -Fc, -f, "${backup.path}"]
          verify: [pg_restore, --list, "${backup.path}"]
          restore: [pg_restore, --clean, -d, app, "${backup.path}"]
        phases:
          migrate:
            - name: alembic
              run: [alembic, upgrade, head]
          deploy:
            - name: release
              run: [fly, deploy, --image, "registry/app:${inputs.host}"]
          verify:
            - name: health
              http: { url: "https://${inputs.host}/health", json: { "$.status": ok }, samples: 20, latency_ms: { p95: 250 } }
            - name: smoke
              run: [psql, -Atc, "select 1"]
        manual:
          - { section: Monitoring, item: "Error rate < 1% for 30 minutes" }
          - "Test email delivered | end to end <both ways>"
        signoff: [Developer, Reviewer]
        readiness: { categories: [Security, Reliability, Performance, Operations, Documentation], scale: 5, pass: 20 }
        """

    static func input() throws -> ReportInput {
        let (plan, _) = try Fixtures.plan(descriptor, secrets: ["TOKEN": "s3cret-value"])
        var old = plan
        old.revision = String(repeating: "01", count: 20)
        old.revisionSubject = "Ship 1.4.1"
        old.phases[2].steps[0].argv = ["fly", "deploy", "--image", "registry/app:1.4.1"]
        var withDiff = plan
        withDiff.diff = PlanDiff.between(old: old, new: plan)
        let run = RunRecord(
            id: "20261118-093000-ab12", kind: .up, stack: "x", environment: "prod", target: "x/prod",
            revision: String(repeating: "ab", count: 20), revisionSubject: "Ship 1.5.0 <with> | pipes", descriptorBlob: "",
            inputs: ["host": "mail.example.test"], operatorName: "ada@deploy-1", host: "deploy-1", pid: 4242, pidStart: 1,
            startedAt: at(0), endedAt: at(312.5), status: .rolledBack, message: "verify/health failed", relatedRun: nil)
        let previous = RunRecord(
            id: "20261117-120000-cd34", kind: .up, stack: "x", environment: "prod", target: "x/prod",
            revision: old.revision, revisionSubject: "Ship 1.4.1", descriptorBlob: "", inputs: [:], operatorName: "ada@deploy-1",
            host: "deploy-1", pid: 1, pidStart: 1, startedAt: at(-80_000), endedAt: at(-79_000), status: .succeeded, message: nil, relatedRun: nil)
        let rollback = RunRecord(
            id: "20261118-093530-ef56", kind: .rollback, stack: "x", environment: "prod", target: "x/prod",
            revision: old.revision, revisionSubject: "Ship 1.4.1", descriptorBlob: "", inputs: [:], operatorName: "ada@deploy-1",
            host: "deploy-1", pid: 1, pidStart: 1, startedAt: at(330), endedAt: at(400), status: .succeeded, message: "rolled back", relatedRun: run.id)
        var id: Int64 = 0
        func step(_ phase: String, _ name: String, _ argv: [String], _ status: StepStatus, start: Double, ms: Int, attempt: Int = 1,
                  exit: Int32? = 0, message: String? = nil, tail: String? = nil, measurements: [ProbeMeasurement]? = nil) -> StepRecord {
            id += 1
            return StepRecord(id: id, runID: run.id, phase: phase, name: name, attempt: attempt, argv: argv, startedAt: at(start),
                              endedAt: at(start + Double(ms) / 1000), exitCode: exit, signal: nil, status: status, durationMs: ms,
                              outputTail: tail, logPath: nil, message: message, pid: nil, measurements: measurements)
        }
        let failing = [
            ProbeMeasurement("status", "200 ×20", expected: "200"),
            ProbeMeasurement("latency p95", "912.4", expected: "≤ 250.0", unit: "ms", ok: false),
            ProbeMeasurement("$.status", "degraded", expected: "ok", ok: false),
        ]
        let steps = [
            step("migrate", "backup.take", ["pg_dump", "-Fc", "-f", "/state/backups/R1.backup"], .succeeded, start: 1, ms: 2_300),
            step("migrate", "backup.verify", ["pg_restore", "--list", "/state/backups/R1.backup"], .succeeded, start: 4, ms: 120),
            step("migrate", "alembic", ["alembic", "upgrade", "head"], .succeeded, start: 5, ms: 1_840),
            step("deploy", "release", ["fly", "deploy", "--image", "registry/app:mail.example.test"], .succeeded, start: 8, ms: 241_000),
            step("verify", "health", ["http", "GET", "https://mail.example.test/health"], .failed, start: 250, ms: 30_000, exit: nil,
                 message: "latency p95 = 912.4 ms (expected ≤ 250.0 ms); $.status = degraded (expected ok)",
                 tail: "FAIL latency p95 = 912.4 ms (expected ≤ 250.0 ms)\nFAIL $.status = degraded (expected ok)", measurements: failing),
            step("verify", "health", ["http", "GET", "https://mail.example.test/health"], .failed, start: 281, ms: 29_000, attempt: 2, exit: nil,
                 message: "latency p95 = 880.0 ms (expected ≤ 250.0 ms); $.status = degraded (expected ok)", measurements: failing),
            step("verify", "smoke", ["sh", "-c", "psql -Atc 'select 1' | grep -qx 1 && echo ok"], .skipped, start: 310, ms: 0, attempt: 0, exit: nil, message: "a step it needs failed"),
        ]
        let events = [
            EventRecord(id: 1, runID: run.id, target: run.target, at: at(4.2), kind: .backupTaken,
                        data: ["path": "/state/backups/R1.backup", "size": 1_048_576, "sha256": .string(String(repeating: "9f", count: 32)),
                               "restore": "pg_restore --clean -d app /state/backups/R1.backup"]),
            EventRecord(id: 2, runID: run.id, target: run.target, at: at(312), kind: .notifySent, data: ["url": "••••", "status": 200]),
        ]
        let relatedEvents = [
            EventRecord(id: 3, runID: rollback.id, target: run.target, at: at(331), kind: .inboundDisabled, data: ["by": "ada@deploy-1", "confirmed": true]),
            EventRecord(id: 4, runID: rollback.id, target: run.target, at: at(360), kind: .backupRestored, data: ["path": "/state/backups/R1.backup"]),
            EventRecord(id: 5, runID: rollback.id, target: run.target, at: at(398.5), kind: .inboundEnabled,
                        data: ["by": "ada@deploy-1", "confirmed": true, "disabled_seconds": 67]),
        ]
        var input = ReportInput(run: run, steps: steps, events: events, rolledBackBy: rollback, relatedEvents: relatedEvents,
                                previous: previous, revisionAuthor: "Ada Lovelace", plan: withDiff)
        let reviewed = Date(timeIntervalSince1970: 1_763_459_000)
        input.reviews = [
            ReviewRecord(id: 1, runID: run.id, target: run.target, kind: .tick, subject: "Test email delivered | end to end <both ways>",
                         reviewer: "rita@laptop", host: "laptop", at: reviewed),
            ReviewRecord(id: 2, runID: run.id, target: run.target, kind: .note, text: "Rolled back within the hour; <b>no</b> data lost",
                         reviewer: "rita@laptop", host: "laptop", at: reviewed.addingTimeInterval(60)),
        ]
        return input
    }

    @Test(arguments: ReportRenderer.Format.allCases)
    func renderingMatchesTheGoldenFile(_ format: ReportRenderer.Format) throws {
        let text = ReportRenderer.render(ReportBuilder.build(try Self.input()), as: format)
        let file = Self.golden.appendingPathComponent("report.\(format.fileExtension)")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try Data(text.utf8).write(to: file)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(text == expected, "run UPDATE_GOLDEN=1 swift test --filter ReportGoldenTests and review the diff")
    }

    @Test func theReportSaysWhatAReviewerNeeds() throws {
        let report = ReportBuilder.build(try Self.input())
        #expect(report.header.previousRevision == String(repeating: "01", count: 20))
        #expect(report.header.rolledBackBy == "20261118-093530-ef56")
        #expect(report.phases.map(\.status) == ["not_run", "succeeded", "succeeded", "failed", "not_run"])
        #expect(report.steps.first { $0.name == "health" }?.attempts == 2)
        #expect(report.backup?.restored == "restored")
        #expect(report.inbound?.disabledSeconds == 67)
        #expect(report.inbound?.finalState == "enabled")
        #expect(report.issues.map(\.attempt) == [1, 2])
        #expect(report.diff?.changes.map(\.name) == ["release"])
        #expect(report.performance.slowest.first?.step == "deploy/release")
        #expect(report.review?.readiness?.maximum == 25)
        #expect(report.review?.accepted == false && report.review?.missing.first == "the run did not succeed (rolled_back)")
        #expect(report.review?.manual.first { $0.tickedBy != nil }?.tickedBy == "rita@laptop")
    }

    @Test func markdownCellsCannotBreakTheTableOrInjectHTML() throws {
        let md = ReportRenderer.render(ReportBuilder.build(try Self.input()), as: .md)
        #expect(md.contains("Ship 1.5.0 &lt;with> \\| pipes"))
        #expect(md.contains("- [x] Test email delivered \\| end to end &lt;both ways> — rita@laptop, 2025-11-18T09:43:20.000Z"))
        #expect(md.contains("&lt;b>no&lt;/b> data lost"))
        // Code spans keep `&&` and `<` as they are (entities are not decoded there); only `|` is escaped.
        #expect(md.contains("\\| grep -qx 1 && echo ok"))
        let html = ReportRenderer.render(ReportBuilder.build(try Self.input()), as: .html)
        #expect(html.contains("Ship 1.5.0 &lt;with&gt; | pipes"))
        #expect(!html.contains("<with>"))
    }

    /// The templates are parsed in chunks (ChunkedTemplate): cut only between whole top-level
    /// lines, nothing lost, and rendered they say byte for byte what the whole template says,
    /// in the chunks the renderer uses and cut at every line where a cut is allowed; with the
    /// fixture's data, and with every section shown, then every inverted one (the fixture has no
    /// hosts, bake window, runbook or signatures).
    @Test(arguments: [ReportRenderer.Format.md, .html, .junit])
    func aTemplateInChunksRendersAsTheWholeTemplate(_ format: ReportRenderer.Format) throws {
        let source = ReportRenderer.source(format)
        let chunks = ChunkedTemplate.chunks(source)
        #expect(chunks.count > 1)
        #expect(chunks.joined() == source)
        #expect(chunks.dropLast().allSatisfy { $0.hasSuffix("\n") && $0.utf8.count >= ChunkedTemplate.chunkSize })
        #expect(ChunkedTemplate.chunks(source, size: 1).count > chunks.count)

        let everyLine = ReportRenderer.template(format, chunkSize: 1)   // registers the Markdown content type too
        let whole = try MustacheTemplate(string: source)
        let report = ReportBuilder.build(try Self.input())
        #expect(ReportRenderer.render(report, as: format) == whole.render(ReportView.context(report)))
        let sections = Set(source.matches(of: #/\{\{[#^](\w+)\}\}/#).map { String($0.1) })
        #expect(sections.count > 5)
        for shown in [nil, true, false] {
            var context = ReportView.context(report)
            if let shown { for name in sections { context[name] = shown } }
            for template in [ReportRenderer.template(format), everyLine] {
                #expect(template.library.render(context, withTemplate: template.name) == whole.render(context), "sections shown: \(String(describing: shown))")
            }
        }
    }

    @Test func chunksAreCutOutsideSectionsAndNotAfterTheirTags() {
        let line = String(repeating: "x", count: ChunkedTemplate.chunkSize) + "\n"
        let text = "{{#a}}\n" + line + "{{/a}}\n" + line + "{{#b}}{{{c}}}{{/b}}\n" + line + "{{^d}}\n" + line + "{{/d}}"
        #expect(ChunkedTemplate.chunks(text) == ["{{#a}}\n" + line + "{{/a}}\n" + line, "{{#b}}{{{c}}}{{/b}}\n" + line, "{{^d}}\n" + line + "{{/d}}"])
        #expect(ChunkedTemplate.chunks("") == [""])
        // swift-mustache carries an inline opening tag's state past its standalone closing tag:
        // `b` below keeps its first newline in the whole template, so no cut may fall between.
        let inline = "{{#a}}x\n{{/a}}\n{{#b}}\ny\n{{/b}}\n"
        #expect(ChunkedTemplate.chunks(inline, size: 1) == ["{{#a}}x\n{{/a}}\n{{#b}}\ny\n{{/b}}\n"])
    }
}
