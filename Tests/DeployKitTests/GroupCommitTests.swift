@testable import DeployKit
import Foundation
import Testing
import TestSupport

/// Steps that start or end together share a commit, and each still learns its own outcome.
// Generous: the cooperative pool is shared with every test of the process, which may hold it.
@Suite(.timeLimit(.minutes(5))) struct GroupCommitTests {
    struct Refused: Error {}

    /// A store that holds its first commit until `release`, and keeps the size of each batch.
    final class HeldStore: @unchecked Sendable {
        let lock = NSLock()
        var batches: [[StepWrite]] = []
        let release = DispatchSemaphore(value: 0)
        var nextID: Int64 = 0

        func commit(_ writes: [StepWrite]) throws -> [Int64?] {
            let first = lock.withLock { batches.append(writes); return batches.count == 1 }
            if first { release.wait() }
            if writes.contains(where: { if case .started(_, _, let name, _, _, _) = $0 { name == "refused" } else { false } }) {
                throw Refused()
            }
            return lock.withLock {
                writes.map { write in
                    guard case .started = write else { return nil }
                    nextID += 1
                    return nextID
                }
            }
        }
    }

    /// Runs its jobs on a thread of its own: the commit held on purpose (an idle store commits
    /// on its caller's thread) must not hold a thread of the cooperative pool, which is as wide
    /// as the machine has cores and is shared with the tests running beside this one. Its thread
    /// keeps it alive for the rest of the test process.
    final class OwnThread: TaskExecutor, @unchecked Sendable {
        private let condition = NSCondition()
        private var jobs: [UnownedJob] = []

        init() {
            let thread = Thread { [self] in
                while true {
                    condition.lock()
                    while jobs.isEmpty { condition.wait() }
                    let job = jobs.removeFirst()
                    condition.unlock()
                    job.runSynchronously(on: asUnownedTaskExecutor())
                }
            }
            thread.start()
        }

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            condition.lock()
            jobs.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    static func start(_ name: String) -> StepWrite {
        .started(runID: "r", phase: "deploy", name: name, attempt: 1, argv: ["true"], logPath: nil)
    }

    /// Waits until `done` (the suite's time limit turns a hang into a failure).
    static func until(_ done: () -> Bool) async throws {
        while !done() { try await Task.sleep(nanoseconds: 1_000_000) }
    }

    @Test func recordsThatArriveDuringACommitShareTheNextAndEachGetsItsOwnOutcome() async throws {
        let store = HeldStore()
        let commits = GroupCommit { try store.commit($0) }
        let executor = OwnThread()
        let first = Task(executorPreference: executor) { try await commits.commit(Self.start("h0")) }
        try await Self.until { store.lock.withLock { store.batches.count } == 1 }
        // While the first commit is held, 19 hosts start and one record the store refuses arrives.
        let names = (1...19).map { "h\($0)" } + ["refused"]
        let others = Task {
            await withTaskGroup(of: (String, Result<Int64?, Error>).self) { group in
                for name in names {
                    group.addTask {
                        do { return (name, .success(try await commits.commit(Self.start(name)))) } catch { return (name, .failure(error)) }
                    }
                }
                return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
        }
        try await Self.until { commits.waiting == names.count }
        store.release.signal()
        let firstID = try await first.value
        let outcomes = await others.value
        #expect(firstID == 1)
        let batches = store.lock.withLock { store.batches.map(\.count) }
        #expect(batches.prefix(2) == [1, 20], "the twenty records that waited went to the store as one batch: \(batches)")
        #expect(batches.dropFirst(2).allSatisfy { $0 == 1 } && batches.count == 22, "refused whole, then each on its own: \(batches)")
        #expect(throws: Refused.self) { try outcomes["refused"]!.get() }
        let ids = try names.dropLast().map { try #require(try outcomes[$0]!.get()) }
        #expect(Set(ids).count == 19 && !ids.contains(1), "every other record committed, with an id of its own")
    }

    /// The same through the embedded store, as a wave of hosts writes: every start gets its own
    /// id and every finish reaches its own step, whichever batch they went in.
    @Test func concurrentStepsOnTheEmbeddedStoreAreAllRecorded() async throws {
        let dir = try TemporaryDirectory.make(prefix: "group-commit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = try Journal(directory: dir.path)
        let run = RunRecord(id: "20231120-000000-0003", kind: .up, stack: "fleet", environment: "prod", target: "fleet/prod",
                            revision: String(repeating: "a", count: 40), revisionSubject: "s", descriptorBlob: String(repeating: "b", count: 40),
                            inputs: [:], operatorName: "ada", host: ProcessIdentity.hostName, pid: getpid(), pidStart: ProcessIdentity.start(of: getpid()),
                            startedAt: Date(), endedAt: nil, status: .running, message: nil, relatedRun: nil)
        try journal.createRun(run)
        let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
            for host in 1...20 {
                group.addTask {
                    let id = try await journal.stepStarted(runID: run.id, phase: "deploy", name: "noop@h\(host)", attempt: 1, argv: ["true"], logPath: nil)
                    try await journal.stepFinished(id, StepOutcome(status: .succeeded, exitCode: 0, durationMs: host))
                    return id
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let steps = try SQLiteStore(directory: dir.path).steps(runID: run.id)
        #expect(Set(ids).count == 20 && steps.count == 20 && steps.allSatisfy { $0.status == .succeeded })
        #expect(Set(steps.map(\.durationMs)) == Set((1...20).map { Optional($0) }), "each finish reached its own step")
    }
}
