@testable import DeployKit
import Foundation
import Testing
import TestSupport

/// One behaviour suite, run against every store: the embedded SQLite store and a real
/// PostgreSQL 15 (each test on its own schema). A store that passes it can hold a team's truth.
@Suite struct StoreBehaviourTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// Opens the same store again each call: another connection, as another process would.
    struct Place {
        let open: () throws -> any JournalStore
    }

    static func place(_ kind: Kind) throws -> Place {
        switch kind {
        case .sqlite:
            let dir = try TemporaryDirectory.make(prefix: "store").path
            return Place { try SQLiteStore(directory: dir) }
        case .postgres:
            let server = try PostgresFixture.shared.get()
            let schema = "t_" + UUID().uuidString.prefix(8).lowercased()
            let url = try PostgresURL("postgres://postgres:\(server.password)@127.0.0.1:\(server.port)/postgres?schema=\(schema)", environment: [:])
            return Place { try PostgresStore(url: url) }
        }
    }

    static func run(_ id: String, target: String = "app/prod", at seconds: Double, status: RunStatus = .succeeded,
                    host: String = ProcessIdentity.hostName, pid: Int32 = getpid()) -> RunRecord {
        RunRecord(id: id, kind: .up, stack: "app", environment: "prod", target: target, revision: String(repeating: "a", count: 40),
                  revisionSubject: "subject ✓ 'quoted'", descriptorBlob: String(repeating: "b", count: 40), inputs: ["region": "eu", "n": "1"],
                  operatorName: "ada@\(host)", host: host, pid: pid, pidStart: ProcessIdentity.start(of: pid),
                  startedAt: Date(timeIntervalSince1970: 1_700_000_000 + seconds), endedAt: nil, status: status,
                  message: nil, relatedRun: nil)
    }

    /// A process id that is gone (a child that ran and was reaped).
    static func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test(arguments: Kind.allCases) func runsRoundTripPageAndResolve(kind: Kind) throws {
        let store = try Self.place(kind).open()
        let runs = (0..<7).map { Self.run("2023111\($0)-000000-abc\($0)", target: $0 % 2 == 0 ? "app/prod" : "app/stage", at: Double($0)) }
        for run in runs { try store.createRun(run) }
        #expect(try store.run(runs[3].id) == runs[3], "every field comes back as written")
        #expect(try store.runs(RunQuery(limit: 3)).map(\.id) == runs.reversed().prefix(3).map(\.id))
        #expect(try store.runs(RunQuery(before: runs[4], limit: 3)).map(\.id) == [runs[3].id, runs[2].id, runs[1].id])
        #expect(try store.runs(RunQuery(target: "app/prod", limit: 10)).map(\.id) == [runs[6].id, runs[4].id, runs[2].id, runs[0].id])
        #expect(try store.targets() == ["app/prod", "app/stage"])
        #expect(try store.runs(idPrefix: "20231113", limit: 5).map(\.id) == [runs[3].id])
        #expect(try store.runs(idPrefix: "2023111_", limit: 5).isEmpty, "a prefix is text, not a pattern")
        try store.finishRun(runs[6].id, status: .failed, message: "verify failed")
        let finished = try #require(try store.run(runs[6].id))
        #expect(finished.status == .failed && finished.message == "verify failed" && finished.endedAt != nil)
        #expect(try store.runs(RunQuery(status: .failed, limit: 10)).map(\.id) == [runs[6].id])
        var check = Self.run("20231119-000000-cccc", at: 9)
        check.kind = .check
        try store.createRun(check)
        #expect(try store.runs(RunQuery(target: "app/prod", kinds: [.check, .rollback], limit: 10)).map(\.id) == [check.id])
        #expect(try store.runs(RunQuery(target: "app/prod", kinds: [.up], status: .succeeded, limit: 2)).map(\.id) == [runs[4].id, runs[2].id])
        try store.reopenRun(runs[6].id, host: "elsewhere", pid: 42, pidStart: 7)
        let reopened = try #require(try store.run(runs[6].id))
        #expect(reopened.status == .running && reopened.host == "elsewhere" && reopened.pid == 42 && reopened.endedAt == nil)
    }

    @Test(arguments: Kind.allCases) func stepsKeepTheirOutcomeAndTheWholeLog(kind: Kind) throws {
        let store = try Self.place(kind).open()
        let run = Self.run("20231120-000000-0001", at: 0, status: .running)
        try store.createRun(run)
        let first = try store.stepStarted(runID: run.id, phase: "deploy", name: "push", attempt: 1, argv: ["echo", "a b"], logPath: "/x/1.log")
        try store.stepSpawned(first, pid: 4242, start: 99)
        let text = Data((0..<20_000).map { "line \($0) of the deploy\n" }.joined().utf8)
        let log = try #require(StoredLog(text: text))
        #expect(log.compressed.count < text.count / 5, "logs are kept compressed")
        try store.stepFinished(first, StepOutcome(status: .failed, exitCode: 3, durationMs: 12, outputTail: "tail", message: "exit 3", log: log))
        let second = try store.stepStarted(runID: run.id, phase: "deploy", name: "push", attempt: 2, argv: ["echo"], logPath: nil)
        try store.stepSkipped(runID: run.id, phase: "postdeploy", name: "announce", argv: ["x"], reason: "when: false")
        try store.stepSkipped(runID: run.id, phase: "postdeploy", name: "announce", argv: ["x"], reason: "when: false")

        let steps = try store.steps(runID: run.id)
        #expect(steps.map(\.id) == steps.map(\.id).sorted() && steps.count == 3, "in the order they started; a skip is recorded once")
        #expect(steps[0].status == .failed && steps[0].exitCode == 3 && steps[0].pid == 4242 && steps[0].argv == ["echo", "a b"]
                && steps[0].outputTail == "tail" && steps[0].logPath == "/x/1.log")
        #expect(steps[2].status == .skipped && steps[2].attempt == 0)
        #expect(try store.log(stepID: first)?.text == text)
        #expect(try store.log(stepID: second) == nil)
        let silent = try store.stepStarted(runID: run.id, phase: "deploy", name: "quiet", attempt: 1, argv: ["true"], logPath: "/x/quiet.log")
        try store.stepFinished(silent, StepOutcome(status: .succeeded, exitCode: 0, durationMs: 1, outputTail: "", log: .empty))
        #expect(try store.log(stepID: silent)?.text == Data(), "a step that printed nothing has an empty log, not a missing one")
        #expect(try store.hostSteps(runID: run.id).isEmpty)
        let onHost = try store.stepStarted(runID: run.id, phase: "deploy", name: "release@web-1", attempt: 1, argv: ["true"], logPath: nil)
        #expect(try store.hostSteps(runID: run.id).map(\.id) == [onHost], "only the steps that ran on a host (NAME@HOST)")

        try store.markInterrupted(runID: run.id)
        #expect(try store.steps(runID: run.id).first { $0.id == second }?.status == .interrupted)
        #expect(try store.run(run.id)?.status == .interrupted)
    }

    @Test(arguments: Kind.allCases) func aBatchOfStepRecordsCommitsWholeOrNotAtAll(kind: Kind) throws {
        let store = try Self.place(kind).open()
        let run = Self.run("20231120-000000-0002", at: 0, status: .running)
        try store.createRun(run)
        let first = try store.stepStarted(runID: run.id, phase: "deploy", name: "noop@h1", attempt: 1, argv: ["true"], logPath: nil)
        // Two hosts end and two start in one commit, as a wave's do: ids in the order given.
        let ids = try store.commit([
            .finished(id: first, StepOutcome(status: .succeeded, exitCode: 0, durationMs: 5)),
            .started(runID: run.id, phase: "deploy", name: "noop@h2", attempt: 1, argv: ["true"], logPath: "/x/h2.log"),
            .started(runID: run.id, phase: "deploy", name: "noop@h3", attempt: 1, argv: ["true"], logPath: nil),
        ])
        #expect(ids.count == 3 && ids[0] == nil)
        let h2 = try #require(ids[1]), h3 = try #require(ids[2])
        #expect(h2 < h3 && first < h2)
        var steps = try store.steps(runID: run.id)
        #expect(steps.map(\.name) == ["noop@h1", "noop@h2", "noop@h3"] && steps[0].status == .succeeded && steps[1].logPath == "/x/h2.log")
        // One record the store refuses (the same attempt twice) takes the whole batch with it.
        #expect(throws: (any Error).self) {
            try store.commit([
                .finished(id: h2, StepOutcome(status: .failed, exitCode: 1, durationMs: 7)),
                .started(runID: run.id, phase: "deploy", name: "noop@h4", attempt: 1, argv: ["true"], logPath: nil),
                .started(runID: run.id, phase: "deploy", name: "noop@h3", attempt: 1, argv: ["true"], logPath: nil),
            ])
        }
        steps = try store.steps(runID: run.id)
        #expect(steps.count == 3 && steps[1].status == .started, "nothing of a refused batch is recorded")
    }

    @Test func aLogFileIsKeptWholeUpToTheCapCompressedAsItIsRead() throws {
        let dir = try TemporaryDirectory.make(prefix: "log")
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = dir.appendingPathComponent("small.log"), large = dir.appendingPathComponent("large.log")
        try Data("one line\n".utf8).write(to: small)
        let text = Data((0..<(StoredLog.cap / 8 + 1000)).map { String(format: "%07d\n", $0) }.joined().utf8)
        try text.write(to: large)
        let kept = try #require(StoredLog.reading(file: small.path))
        #expect(kept.text == Data("one line\n".utf8) && !kept.truncated)
        let capped = try #require(StoredLog.reading(file: large.path))
        #expect(capped.truncated && capped.size == StoredLog.cap)
        #expect(capped.text == text.prefix(StoredLog.cap))
        #expect(StoredLog.reading(file: dir.appendingPathComponent("missing").path) == nil)
        #expect(StoredLog.empty == StoredLog(text: Data()), "the empty log is the stream zlib makes of no bytes")
        #expect(StoredLog.empty.text == Data())
    }

    @Test(arguments: Kind.allCases) func eventsByRunTargetAndKind(kind: Kind) throws {
        let store = try Self.place(kind).open()
        let run = Self.run("20231121-000000-0001", at: 0)
        try store.createRun(run)
        try store.event(.backupTaken, target: run.target, runID: run.id, data: ["path": .string("/b"), "size": .int(12)])
        try store.event(.revisionMarkedBad, target: run.target, runID: run.id, data: ["revision": .string(run.revision)])
        try store.event(.inboundSettled, target: run.target, runID: nil, data: ["by": .string("ada")])
        #expect(try store.events(runID: run.id).map(\.kind) == [.backupTaken, .revisionMarkedBad])
        #expect(try store.events(runID: run.id).first?.data == ["path": .string("/b"), "size": .int(12)])
        #expect(try store.events(target: run.target, kind: .revisionMarkedBad).map { $0.data["revision"]?.string } == [run.revision])
        #expect(try store.events(target: run.target, kind: nil).count == 3)
        #expect(try store.environmentEvents().map(\.kind) == [.inboundSettled])
    }

    @Test(arguments: Kind.allCases) func reviewsRoundTripInOrder(kind: Kind) throws {
        let place = try Self.place(kind)
        let store = try place.open()
        let run = Self.run("20231121-000000-0002", at: 0)
        try store.createRun(run)
        let at = Date(timeIntervalSince1970: 1_700_000_100.25)
        let tick = try store.addReview(ReviewRecord(runID: run.id, target: run.target, kind: .tick, subject: "CORS ✓ 'quoted'",
                                                    reviewer: "ada@a", host: "a", at: at))
        let score = try store.addReview(ReviewRecord(runID: run.id, target: run.target, kind: .score, subject: "Security", score: 4,
                                                     reviewer: "bob@b", host: "b", at: at.addingTimeInterval(1)))
        _ = try store.addReview(ReviewRecord(runID: run.id, target: run.target, kind: .note, text: "line one\nline two", reviewer: "ada@a", host: "a", at: at.addingTimeInterval(2)))
        #expect(tick.id > 0 && score.id > tick.id)
        let back = try place.open().reviews(runID: run.id)
        try #require(back.map(\.kind) == [.tick, .score, .note])
        #expect(back[0] == tick && back[1] == score, "every field comes back as written")
        #expect(back[2].text == "line one\nline two" && back[2].score == nil && back[2].subject == nil)
        #expect(try store.reviews(runID: "20231121-000000-9999").isEmpty)
    }

    @Test(arguments: Kind.allCases) func oneLockHolderAtATimeAndAGoneHolderIsTakenOver(kind: Kind) throws {
        let place = try Self.place(kind)
        var holderStore: (any JournalStore)? = try place.open()
        let other = try place.open()
        let dead = try Self.deadPID()
        let mine = LockRecord(target: "app/prod", runID: "R1", operatorName: "ada@h", host: ProcessIdentity.hostName, pid: getpid(),
                              pidStart: ProcessIdentity.start(of: getpid()), since: Date(), command: "up")
        guard case .acquired = try holderStore!.acquireLock(mine) else { Issue.record("the first take gets the lock"); return }
        #expect(holderStore!.lost == nil && other.lost == nil, "a store that answers is not lost")
        var theirs = mine
        theirs.runID = "R2"
        theirs.operatorName = "bob@h"
        guard case .held(let holder) = try other.acquireLock(theirs) else { Issue.record("a live holder keeps it"); return }
        #expect(holder.runID == "R1" && holder.operatorName == "ada@h" && holder.command == "up", "the holder is named, not the requester")
        #expect(try other.isAlive(holder))

        try holderStore!.handOverLock(target: "app/prod", from: "R1", to: "R1b")
        #expect(throws: JournalError.self) { try holderStore!.handOverLock(target: "app/prod", from: "R1", to: "R1c") }
        try other.releaseLock(target: "app/prod", runID: "R2")
        #expect(try other.lock(target: "app/prod")?.runID == "R1b", "only the holder releases")

        // The holder goes away: its process (this machine) and its connection (a server store).
        try holderStore!.handOverLock(target: "app/prod", from: "R1b", to: "R1c")
        if kind == .sqlite {
            try Self.rewriteHolderPID(place: place, kind: kind, to: dead)
        }
        holderStore = nil
        guard case .tookOverStale(let previous) = try Self.eventually({ try other.acquireLock(theirs) }, until: {
            if case .held = $0 { return false } else { return true }
        }) else { Issue.record("a gone holder's lock is taken over"); return }
        #expect(previous.runID == "R1c")
        #expect(try other.lock(target: "app/prod")?.runID == "R2")
        #expect(try other.breakLock(target: "app/prod", runID: "R1", by: "carol", reason: "x") == nil, "breaks only the lock it looked at")
        #expect(try other.breakLock(target: "app/prod", runID: "R2", by: "carol", reason: "holder gone")?.runID == "R2")
        #expect(try other.lock(target: "app/prod") == nil)
        #expect(try other.events(target: "app/prod", kind: nil).map(\.kind)
                == [.lockAcquired, .lockHandedOver, .lockHandedOver, .lockStaleTakenOver, .lockAcquired, .lockBroken])
    }

    /// SQLite knows a holder by its process: make the recorded one a process that is gone.
    static func rewriteHolderPID(place: Place, kind: Kind, to pid: Int32) throws {
        let store = try place.open() as! SQLiteStore
        try Shell.run("sqlite3", [store.path, "UPDATE locks SET pid = \(pid), pid_start = 0"])
    }

    static func eventually<T>(_ body: () throws -> T, until done: (T) -> Bool, seconds: Double = 10) throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        var value = try body()
        while !done(value), Date() < deadline {
            usleep(100_000)
            value = try body()
        }
        return value
    }

    @Test(arguments: Kind.allCases) func inboundOwedUntilSettled(kind: Kind) throws {
        let store = try Self.place(kind).open()
        try store.oweInbound(target: "app/prod", runID: "R1", reason: "rollback")
        try store.oweInbound(target: "app/prod", runID: "R2", reason: "rollback again")
        #expect(try store.inboundOwed(target: "app/prod")?.runID == "R2")
        #expect(try store.inboundOwed().map(\.target) == ["app/prod"])
        try store.settleInbound(target: "app/prod", runID: "R2", by: "ada")
        #expect(try store.inboundOwed(target: "app/prod") == nil)
        #expect(try store.events(target: "app/prod", kind: nil).map(\.kind) == [.inboundOwed, .inboundOwed, .inboundSettled])
    }

    @Test(arguments: Kind.allCases) func importIsIdempotentAndRefusesAnotherRunUnderTheSameID(kind: Kind) throws {
        let store = try Self.place(kind).open()
        let run = Self.run("20231122-000000-0001", at: 0)
        let step = StepRecord(id: 77, runID: run.id, phase: "deploy", name: "push", attempt: 1, argv: ["true"], startedAt: run.startedAt,
                              endedAt: run.startedAt, exitCode: 0, signal: nil, status: .succeeded, durationMs: 1, outputTail: "ok",
                              logPath: nil, message: nil, pid: 9, measurements: nil)
        let event = EventRecord(id: 5, runID: run.id, target: run.target, at: run.startedAt, kind: .backupTaken, data: ["path": .string("/b")])
        let log = try #require(StoredLog(text: Data("ok\n".utf8)))
        let bundle = RunBundle(run: run, steps: [step], events: [event], logs: [77: log])
        #expect(try store.importRun(bundle) == .imported)
        #expect(try store.importRun(bundle) == .alreadyThere)
        #expect(try store.steps(runID: run.id).count == 1 && store.events(runID: run.id).count == 1)
        let copied = try #require(try store.steps(runID: run.id).first)
        #expect(try store.log(stepID: copied.id)?.text == Data("ok\n".utf8))
        // Reviews recorded elsewhere after the first import come along with the next one, once.
        let review = ReviewRecord(id: 3, runID: run.id, target: run.target, kind: .sign, subject: "QA", reviewer: "rita@r", host: "r", at: run.startedAt)
        var reviewed = bundle
        reviewed.reviews = [review]
        #expect(try store.importRun(reviewed) == .alreadyThere)
        #expect(try store.importRun(reviewed) == .alreadyThere)
        #expect(try store.reviews(runID: run.id).map(\.subject) == ["QA"])
        var other = run
        other.revision = String(repeating: "c", count: 40)
        #expect(throws: JournalError.self) { try store.importRun(RunBundle(run: other, steps: [], events: [], logs: [:])) }
    }

    @Test(arguments: Kind.allCases) func aRunIsAliveWhileItsProcessIs(kind: Kind) throws {
        let store = try Self.place(kind).open()
        let live = Self.run("20231123-000000-0001", at: 0, status: .running)
        try store.createRun(live)
        #expect(try store.isAlive(live))
        let gone = Self.run("20231123-000000-0002", at: 1, status: .running, pid: try Self.deadPID())
        #expect(try !store.isAlive(gone))
    }

    /// On a server store, another machine's run is alive while its connection is: a holder
    /// whose process cannot be asked (another host) is judged by the server.
    @Test func aRunOnAnotherMachineIsAliveWhileItsConnectionIs() throws {
        let place = try Self.place(.postgres)
        var theirs: (any JournalStore)? = try place.open()
        let mine = try place.open()
        let run = Self.run("20231124-000000-0001", at: 0, status: .running, host: "elsewhere", pid: 1)
        try theirs!.createRun(run)
        #expect(try mine.isAlive(run))
        let lock = LockRecord(target: run.target, runID: run.id, operatorName: "bob@elsewhere", host: "elsewhere", pid: 1, pidStart: 0, since: Date())
        guard case .acquired = try theirs!.acquireLock(lock) else { Issue.record("lock"); return }
        #expect(try mine.isAlive(lock))
        theirs = nil
        #expect(try Self.eventually({ try mine.isAlive(run) || mine.isAlive(lock) }, until: { !$0 }) == false)
    }

    @Test func aNewerSchemaIsRefusedAndAReaderCannotWrite() throws {
        let server = try PostgresFixture.shared.get()
        let schema = "t_" + UUID().uuidString.prefix(8).lowercased()
        let url = try PostgresURL("postgres://postgres:\(server.password)@127.0.0.1:\(server.port)/postgres?schema=\(schema)", environment: [:])
        _ = try PostgresStore(url: url)
        let reader = "r_" + schema
        try server.psql("CREATE ROLE \(reader) LOGIN PASSWORD 'rpw'; GRANT USAGE ON SCHEMA \(schema) TO \(reader); GRANT SELECT ON ALL TABLES IN SCHEMA \(schema) TO \(reader)")
        let readOnly = try PostgresStore(url: try PostgresURL("postgres://\(reader):rpw@127.0.0.1:\(server.port)/postgres?schema=\(schema)", environment: [:]))
        #expect(!readOnly.canWrite)
        #expect(try readOnly.runs(RunQuery(limit: 5)).isEmpty)
        #expect(throws: (any Error).self) { try readOnly.createRun(Self.run("20231125-000000-0001", at: 0)) }
        try server.psql("UPDATE \(schema).meta SET value = '99' WHERE key = 'version'")
        #expect(throws: PostgresStore.OpenError.self) { try PostgresStore(url: url) }
    }
}

/// One record committed on its own, as the behaviour suite and the crash tests write them
/// (a run writes through `Journal`, which groups them).
extension JournalStore {
    func stepStarted(runID: String, phase: String, name: String, attempt: Int, argv: [String], logPath: String?) throws -> Int64 {
        try #require(try commit([.started(runID: runID, phase: phase, name: name, attempt: attempt, argv: argv, logPath: logPath)]).first ?? nil)
    }

    func stepFinished(_ id: Int64, _ outcome: StepOutcome) throws {
        _ = try commit([.finished(id: id, outcome)])
    }
}
