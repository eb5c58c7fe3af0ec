import Foundation

/// Step records that arrive while the store is busy committing share the next commit: twenty
/// hosts of a wave starting (or ending) together cost one transaction and one sync, not twenty
/// queued one behind the other. Each caller still goes on only once its own record is durable.
/// A record that finds the store idle is committed at once on its caller's thread: steps run
/// one after another pay no hand-over (sending every record to another thread and back cost
/// 1,000 sequential steps ~0.8 ms each). Those that arrive meanwhile suspend, freeing the
/// cooperative pool's few threads to launch and watch the other steps, and are committed
/// together on a queue.
final class GroupCommit: @unchecked Sendable {
    private typealias Waiter = CheckedContinuation<Int64?, Error>

    private let store: @Sendable ([StepWrite]) throws -> [Int64?]
    private let queue = DispatchQueue(label: "deployctl.journal.commit")
    private let lock = NSLock()
    private var pending: [(write: StepWrite, waiter: Waiter)] = []
    private var committing = false

    /// `store`: commits a batch in one transaction (`JournalStore.commit`).
    init(store: @escaping @Sendable ([StepWrite]) throws -> [Int64?]) {
        self.store = store
    }

    /// Returns once `write` is committed: the attempt's id for a start, nil for a finish.
    func commit(_ write: StepWrite) async throws -> Int64? {
        let idle = lock.withLock {
            defer { committing = true }
            return !committing
        }
        guard idle else {
            return try await withCheckedThrowingContinuation { (waiter: Waiter) in
                let lead = lock.withLock {
                    pending.append((write, waiter))
                    defer { committing = true }
                    return !committing   // the commit in progress ended in between
                }
                if lead { queue.async { self.drain() } }
            }
        }
        defer {
            let more = lock.withLock {
                if pending.isEmpty { committing = false }
                return !pending.isEmpty
            }
            if more { queue.async { self.drain() } }
        }
        return try store([write]).first ?? nil
    }

    /// Records waiting for the commit after the one in progress (the tests watch it).
    var waiting: Int { lock.withLock { pending.count } }

    /// Commits whatever is waiting, batch after batch, until nothing is.
    private func drain() {
        while true {
            let batch = lock.withLock {
                let batch = pending
                pending = []
                if batch.isEmpty { committing = false }
                return batch
            }
            if batch.isEmpty { return }
            let results: [Result<Int64?, Error>]
            do {
                results = try store(batch.map(\.write)).map { .success($0) }
            } catch where batch.count > 1 {
                // The batch is rolled back whole: each record again on its own, so only the
                // caller whose record fails gets the error.
                results = batch.map { entry in Result { try store([entry.write]).first ?? nil } }
            } catch {
                results = [.failure(error)]
            }
            for (index, entry) in batch.enumerated() {
                entry.waiter.resume(with: index < results.count ? results[index] : .failure(JournalError.missingStepResult))
            }
        }
    }
}
