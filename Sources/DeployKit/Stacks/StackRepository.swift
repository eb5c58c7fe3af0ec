import Foundation
import GitKit

/// The git repository that holds the stacks, read through GitKit at pinned commits. This is
/// the impure edge the actions use; everything it returns is a value.
public final class StackRepository {
    public let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    /// `--repo PATH`, else `DEPLOYCTL_REPO`, else the repository containing `directory`.
    public static func open(explicit: String?, environment: [String: String], directory: String) throws -> StackRepository {
        do {
            if let path = explicit ?? environment["DEPLOYCTL_REPO"], !path.isEmpty {
                return StackRepository(repository: try Repository.open(at: path))
            }
            return StackRepository(repository: try Repository.discover(from: directory))
        } catch let error as GitError {
            throw DeployError(.usage, "\(error)",
                              next: ["run deployctl inside the stacks repository, or pass --repo PATH (or set DEPLOYCTL_REPO)"])
        }
    }

    /// The directory a person thinks of as the repository (the work tree, or the bare dir).
    public var root: String {
        let path = repository.workDirectory ?? repository.gitDirectory
        return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// A small file at the root of HEAD's tree as text (the committed store file), or nil when
    /// there is none; one over 64 KiB is refused unread (ignoring it would pick another store).
    func committedFile(_ path: String) throws -> String? {
        guard repository.hasCommits, let head = try? repository.resolve("HEAD"),
              (try? repository.exists(path, at: head)) == true else { return nil }
        do {
            return String(decoding: try repository.readFile(path, at: head, limit: 64 << 10).bytes, as: UTF8.self)
        } catch GitError.objectTooLarge(_, let size, let limit) {
            throw StoreConfigError("\(path) at HEAD is \(size) bytes, more than the \(ByteCount(limit)) a store file may be")
        } catch {
            throw StoreConfigError("\(path) at HEAD cannot be read: \(error)")
        }
    }

    /// Resolves `revision` to a full commit, once, so everything after reads the same commit.
    public func pin(_ revision: String) throws -> PinnedRevision {
        guard repository.hasCommits else {
            throw DeployError(.usage, "the stacks repository at \(root) has no commits yet, and deployctl reads descriptors only from commits (what ran is always a commit)",
                              next: ["check the files as they are on disk: deployctl validate --worktree",
                                     "then commit them: git add stacks && git commit -m \"Add the stacks\""])
        }
        do {
            let id = try repository.resolve(revision)
            return PinnedRevision(requested: revision, commit: try repository.commit(id))
        } catch let error as GitError {
            throw DeployError(.usage, "\(error)", next: ["list revisions with: git log --oneline"])
        }
    }

    /// Where `validate`, `plan` and `doctor` read: the commit `revision` names, or with
    /// `worktree` the files on disk (never for a run).
    public func source(revision: String, worktree: Bool) throws -> DescriptorSource {
        guard worktree else { return .commit(try pin(revision)) }
        guard let directory = repository.workDirectory else {
            throw DeployError(.usage, "--worktree reads the files on disk, but \(root) is a bare repository: it has none",
                              next: ["drop --worktree (descriptors are read from commits)"])
        }
        return .worktree(directory: directory.hasSuffix("/") ? String(directory.dropLast()) : directory,
                         base: repository.hasCommits ? try pin("HEAD") : nil)
    }

    public func catalog(at revision: PinnedRevision) throws -> StackCatalog {
        try catalog(at: .commit(revision))
    }

    public func catalog(at source: DescriptorSource) throws -> StackCatalog {
        guard case .commit(let revision) = source else {
            let stacksDirectory = source.directory + "/" + StackCatalog.directory
            let manager = FileManager.default
            var entries: [StackCatalog.Entry] = []
            let stacks = ((try? manager.contentsOfDirectory(atPath: stacksDirectory)) ?? []).filter { stack in
                var isDirectory: ObjCBool = false
                return manager.fileExists(atPath: stacksDirectory + "/" + stack, isDirectory: &isDirectory) && isDirectory.boolValue
            }
            if let refusal = StackCatalog.refusal(stacks: stacks.count, largest: nil, at: "the work tree") { throw refusal }
            for stack in stacks {
                let files = (try? manager.contentsOfDirectory(atPath: stacksDirectory + "/" + stack)) ?? []
                if let refusal = StackCatalog.refusal(stacks: 0, largest: (stack, files.count), at: "the work tree") { throw refusal }
                for file in files {
                    if let environment = StackCatalog.environment(fromFileName: file) { entries.append(.init(stack: stack, environment: environment)) }
                }
            }
            return StackCatalog(entries: entries)
        }
        guard let tree = try stacksTree(at: revision) else { return StackCatalog(entries: []) }
        return try catalog(tree: tree, at: revision.short)
    }

    /// The id of the commit's `stacks/` tree (nil when it has none): the catalog depends on
    /// nothing else, so a cache keyed by it is never stale (`CatalogCache`).
    public func stacksTree(at revision: PinnedRevision) throws -> ObjectID? {
        guard let entry = try repository.listDirectory("", at: revision.id).first(where: { $0.name == StackCatalog.directory }) else { return nil }
        guard entry.kind == .directory else {
            throw GitError.wrongObjectType(path: StackCatalog.directory, commit: revision.id, expected: "directory")
        }
        return entry.id
    }

    /// The catalog of a `stacks/` tree: one tree read per stack directory (`source` names the
    /// revision in a refusal: `StackCatalog.maxStacks`).
    public func catalog(tree: ObjectID, at source: String) throws -> StackCatalog {
        var blobs: [String: String] = [:]
        let stacks = try repository.listTree(tree).filter { $0.kind == .directory }
        if let refusal = StackCatalog.refusal(stacks: stacks.count, largest: nil, at: source) { throw refusal }
        for stack in stacks {
            // By the tree's id: no walk from the root for each of hundreds of stacks.
            let files = try repository.listTree(stack.id)
            if let refusal = StackCatalog.refusal(stacks: 0, largest: (stack.name, files.count), at: source) { throw refusal }
            for file in files where file.kind == .file {
                blobs["\(StackCatalog.directory)/\(stack.name)/\(file.name)"] = file.id.hex
            }
        }
        return StackCatalog(blobs: blobs)
    }

    /// Resolves a target against the catalog at `revision`, as a usage error when it fails.
    public func entry(for target: String, at revision: PinnedRevision) throws -> StackCatalog.Entry {
        try entry(for: target, at: .commit(revision))
    }

    /// `listing` gives the catalog when the target needs one (a bare ENV, a miss): the cached
    /// one for what is only shown (`Workspace.shownEntry`).
    public func entry(for target: String, at source: DescriptorSource, listing: (() throws -> StackCatalog)? = nil) throws -> StackCatalog.Entry {
        // STACK/ENV names one file: look it up rather than list every stack (the whole catalog
        // is only needed to resolve a bare ENV, or to suggest a name after a miss).
        if let entry = directEntry(target), exists(entry.path, in: source) { return entry }
        switch try (listing ?? { try self.catalog(at: source) })().resolve(target) {
        case .success(let entry): return entry
        case .failure(let error):
            throw DeployError(.usage, "\(error)", next: [source.isWorktree ? "deployctl stacks" : "deployctl stacks --rev \(source.revision?.requested ?? "HEAD")"])
        }
    }

    private func directEntry(_ target: String) -> StackCatalog.Entry? {
        let parts = target.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
              StackCatalog.environment(fromFileName: parts[1] + ".yaml") != nil else { return nil }
        return StackCatalog.Entry(stack: parts[0], environment: parts[1])
    }

    private func exists(_ path: String, in source: DescriptorSource) -> Bool {
        switch source {
        case .commit(let revision): return (try? repository.exists(path, at: revision.id)) == true
        case .worktree(let directory, _):
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    /// A loader that reads every file from the pinned commit, never the work tree.
    public func loader(at revision: PinnedRevision) -> DescriptorLoader {
        loader(at: .commit(revision))
    }

    /// A loader that reads from the source: a commit, or (`--worktree`) the files on disk.
    public func loader(at source: DescriptorSource) -> DescriptorLoader {
        DescriptorLoader { path in try self.descriptorFile(path, at: source).map { String(decoding: $0.bytes, as: UTF8.self) } }
    }

    /// A descriptor (or a file one extends) at the source, nil when there is none there. One
    /// larger than a descriptor may be is refused from its size (`YAMLReader.Limits`) before it
    /// is read: a blob by its header, a file on disk by `fstat` (a symlink or a device refused).
    /// `blob`: the id when the caller knows it (a catalog), which skips the path lookup.
    func descriptorFile(_ path: String, at source: DescriptorSource, blob: ObjectID? = nil) throws -> Blob? {
        let limits = YAMLReader.Limits.standard
        switch source {
        case .commit(let revision):
            do {
                // A catalog's id read by the path's lookup when it fails (a cache from elsewhere).
                if let blob, let read = try? repository.readBlob(blob, limit: limits.documentBytes) { return read }
                return try repository.readFile(path, at: revision.id, limit: limits.documentBytes)
            } catch GitError.pathNotFound, GitError.wrongObjectType {
                return nil
            } catch GitError.objectTooLarge(_, let size, _) {
                throw DescriptorTooLarge(why: limits.documentRefusal(size: size))
            }
        case .worktree(let directory, _):
            do {
                return try BoundedFile.read(directory + "/" + path, limit: limits.documentBytes, followLinks: false)
                    .map { Blob(id: .blob(of: $0), bytes: $0) }
            } catch let refusal as BoundedFile.Refusal {
                guard case .tooLarge(let size, _) = refusal.reason else { throw refusal }
                throw DescriptorTooLarge(why: limits.documentRefusal(size: size))
            }
        }
    }

    /// The blob id of a file at the revision (what a journal records as the descriptor read).
    public func blobID(_ path: String, at revision: PinnedRevision) throws -> String {
        try blobID(path, at: .commit(revision))
    }

    /// The blob id the file has (on disk: the one it would have once committed).
    public func blobID(_ path: String, at source: DescriptorSource) throws -> String {
        try descriptorFile(path, at: source)?.id.hex ?? ObjectID.blob(of: []).hex
    }

    /// The files the patterns match that differ between a commit and the source (a commit or the disk).
    public func changedFiles(from old: PinnedRevision, to source: DescriptorSource, matching patterns: [PathPattern]) throws -> [FileChange] {
        let before = try repository.files(at: old.id, matching: patterns)
        switch source {
        case .commit(let new): return FileChange.between(before, try repository.files(at: new.id, matching: patterns))
        case .worktree(let directory, _): return FileChange.between(before, WorktreeFiles.files(in: directory, matching: patterns, repository: repository))
        }
    }

    /// Commits that changed any of the files, newest first (`git log -- FILES`), remembering
    /// what it read in `cacheFile` when one is given.
    /// What belongs to a target at a revision: its descriptor files (with what it extends) and
    /// its `paths:`. A broken descriptor still has its own file.
    public func patterns(of entry: StackCatalog.Entry, at revision: PinnedRevision) -> [PathPattern] {
        let loaded = loader(at: revision).load(stack: entry.stack, environment: entry.environment)
        return (loaded.descriptor?.files ?? [entry.path]).compactMap(PathPattern.init) + (loaded.descriptor?.paths ?? [])
    }

    /// The commits reachable from `tip` but not from `since` that change anything `patterns`
    /// match (against their first parent), newest first, at most `limit` looked at.
    public func commitsTouching(_ patterns: [PathPattern], from tip: ObjectID, since: ObjectID?, limit: Int = 2_000) throws -> (looked: Int, touching: [CommitInfo]) {
        let ids = try repository.commits(from: tip, hiding: since, limit: limit)
        var touching: [CommitInfo] = []
        for id in ids {
            let info = try repository.commit(id)
            if !(try repository.changedFiles(from: info.parents.first, to: id, matching: patterns)).isEmpty { touching.append(info) }
        }
        return (ids.count, touching)
    }

    public func history(of patterns: [PathPattern], from revision: PinnedRevision, limit: Int?, cacheFile: String? = nil) throws -> [CommitInfo] {
        try repository.history(of: patterns, from: revision.id, limit: limit,
                               cache: cacheFile.map { HistoryCache(file: $0, paths: patterns.map(\.raw)) })
    }
}

/// Where descriptors are read from: a commit (what every run reads) or, for `validate`, `plan`
/// and `doctor` with `--worktree`, the files on disk, labelled uncommitted wherever they show.
public enum DescriptorSource: Sendable {
    case commit(PinnedRevision)
    /// The work tree; `base` is HEAD (nil in a repository with no commits yet).
    case worktree(directory: String, base: PinnedRevision?)

    public var isWorktree: Bool { if case .worktree = self { return true } else { return false } }

    /// The commit read, or the one the files on disk sit on.
    public var revision: PinnedRevision? {
        switch self {
        case .commit(let revision): return revision
        case .worktree(_, let base): return base
        }
    }

    /// The full SHA plans and reports name: the commit, HEAD under uncommitted files, or git's
    /// null id before the first commit.
    public var sha: String { revision?.sha ?? String(repeating: "0", count: 40) }

    /// `abc1234`, or `uncommitted files (on abc1234)` for people.
    public var label: String {
        switch self {
        case .commit(let revision): return revision.short
        case .worktree(_, let base): return "uncommitted files" + (base.map { " (on \($0.short))" } ?? " (no commits yet)")
        }
    }

    var directory: String {
        if case .worktree(let directory, _) = self { return directory }
        return ""
    }
}

/// A revision resolved to one commit at the start of a command.
public struct PinnedRevision: Sendable {
    /// What the person typed (`HEAD`, `v1.2`, `main~1`).
    public let requested: String
    public let commit: CommitInfo
    public var id: ObjectID { commit.id }
    public var sha: String { commit.id.hex }
    public var short: String { commit.id.short }
}
