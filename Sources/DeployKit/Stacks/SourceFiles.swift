import Dispatch
import Foundation
import GitKit

/// The files of one source (a commit, or the disk), each read once, from any thread: loading
/// many targets shares their `_base.yaml` reads, and the one repository handle sits behind a
/// lock (libgit2 objects are not for concurrent use). A file the catalog lists is read by its
/// blob id: a path lookup would inflate `stacks/` again each time (libgit2 caches no tree over
/// 4 KiB).
final class SourceFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var read: [String: Result<(text: String, blob: String)?, Error>] = [:]
    private let stacks: StackRepository
    private let source: DescriptorSource
    private let blobs: [String: String]

    init(stacks: StackRepository, source: DescriptorSource, catalog: StackCatalog? = nil) {
        self.stacks = stacks
        self.source = source
        blobs = catalog?.blobs ?? [:]
    }

    /// The file's text, nil when there is none; a file refused (too large, a symlink on disk)
    /// throws, so its verdict says why rather than "does not exist".
    func text(_ path: String) throws -> String? { try file(path).get()?.text }

    /// The blob id of what `text` returned (on disk: the id it would have once committed).
    func blob(_ path: String) -> String? { try? file(path).get()?.blob }

    private func file(_ path: String) -> Result<(text: String, blob: String)?, Error> {
        lock.withLock {
            if let known = read[path] { return known }
            let loaded = Result<(text: String, blob: String)?, Error> {
                try stacks.descriptorFile(path, at: source, blob: blobs[path].flatMap { ObjectID(hex: $0) })
                    .map { (text: String(decoding: $0.bytes, as: UTF8.self), blob: $0.id.hex) }
            }
            read[path] = loaded
            return loaded
        }
    }

    /// Every entry loaded (read, parsed, decoded, validated) on every core, with the paths each
    /// one asked for (found or not: what its verdict depends on); results in entry order.
    func load(_ entries: [StackCatalog.Entry]) -> [(result: DescriptorLoader.Result, read: [String])] {
        Parallel.map(entries) { entry in
            var read: [String] = []
            let result = DescriptorLoader { [self] path in
                read.append(path)
                return try text(path)
            }.load(stack: entry.stack, environment: entry.environment)
            return (result, read)
        }
    }
}

enum Parallel {
    /// `transform` over `items` on every core (each worker takes every n-th item, so uneven
    /// items still spread), results in the items' order.
    static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @escaping @Sendable (T) -> R) -> [R] {
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, items.count)
        guard workers > 1 else { return items.map(transform) }
        let results = Slots<R>(count: items.count)
        // Each slot is written by one worker; concurrentPerform returns after all of them.
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < items.count {
                results.set(index, transform(items[index]))
                index += workers
            }
        }
        return results.values
    }

    /// Result slots written from several threads, one writer per slot, read after all are done.
    /// Raw memory, not an Array: a mutating access to a shared array from two threads at once
    /// is a race even on different elements.
    private final class Slots<R>: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<R?>
        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: nil)
        }
        deinit {
            _ = slots.deinitialize()
            slots.deallocate()
        }
        func set(_ index: Int, _ value: R) { slots[index] = value }
        var values: [R] { slots.map { $0! } }
    }
}
