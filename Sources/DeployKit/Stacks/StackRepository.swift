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

    /// Resolves `revision` to a full commit, once, so everything after reads the same commit.
    public func pin(_ revision: String) throws -> PinnedRevision {
        do {
            let id = try repository.resolve(revision)
            return PinnedRevision(requested: revision, commit: try repository.commit(id))
        } catch let error as GitError {
            throw DeployError(.usage, "\(error)", next: ["list revisions with: git log --oneline", "or: deployctl revisions TARGET"])
        }
    }

    public func catalog(at revision: PinnedRevision) throws -> StackCatalog {
        let stacks: [TreeEntry]
        do {
            stacks = try repository.listDirectory(StackCatalog.directory, at: revision.id)
        } catch GitError.pathNotFound {
            return StackCatalog(entries: [])
        }
        var entries: [StackCatalog.Entry] = []
        for stack in stacks where stack.kind == .directory {
            for file in try repository.listDirectory("\(StackCatalog.directory)/\(stack.name)", at: revision.id) where file.kind == .file {
                if let environment = StackCatalog.environment(fromFileName: file.name) {
                    entries.append(.init(stack: stack.name, environment: environment))
                }
            }
        }
        return StackCatalog(entries: entries)
    }

    /// Resolves a target against the catalog at `revision`, as a usage error when it fails.
    public func entry(for target: String, at revision: PinnedRevision) throws -> StackCatalog.Entry {
        switch try catalog(at: revision).resolve(target) {
        case .success(let entry): return entry
        case .failure(let error):
            throw DeployError(.usage, "\(error)", next: ["deployctl stacks --rev \(revision.requested)"])
        }
    }

    /// A loader that reads every file from the pinned commit, never the work tree.
    public func loader(at revision: PinnedRevision) -> DescriptorLoader {
        let repository = self.repository
        return DescriptorLoader { path in
            do {
                let blob = try repository.readFile(path, at: revision.id)
                return String(decoding: blob.bytes, as: UTF8.self)
            } catch GitError.pathNotFound, GitError.wrongObjectType {
                return nil
            }
        }
    }

    /// The blob id of a file at the revision (what a journal records as the descriptor read).
    public func blobID(_ path: String, at revision: PinnedRevision) throws -> String {
        try repository.readFile(path, at: revision.id).id.hex
    }

    /// Commits that changed any of the files, newest first (`git log -- FILES`), remembering
    /// what it read in `cacheFile` when one is given.
    public func history(of paths: [String], from revision: PinnedRevision, limit: Int?, cacheFile: String? = nil) throws -> [CommitInfo] {
        try repository.history(of: paths, from: revision.id, limit: limit,
                               cache: cacheFile.map { HistoryCache(file: $0, paths: paths) })
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
