import Foundation
import GitKit

/// Where a command runs: the stacks repository, the state directory, the process environment
/// and the operator. Built once per command by the CLI and handed to the actions.
public struct Workspace {
    public let stacks: StackRepository
    /// This machine's files: exported trees, step logs, backups, reports, caches.
    public let stateDirectory: String
    /// Where the journal, the locks and the inbound record live (see `StoreLocation`).
    public let store: StoreLocation
    public var state: StateDirectory { StateDirectory(path: stateDirectory) }
    public let environment: [String: String]
    public let operatorName: String
    /// The journal once opened: one connection per command, however many parts ask.
    private let opened = OpenedJournal()
    /// Descriptors read at a commit: `up` reads its own to run it and again for its report.
    private let loaded = LoadedDescriptors()

    public init(stacks: StackRepository, stateDirectory: String, store: StoreLocation? = nil, environment: [String: String], operatorName: String) {
        self.stacks = stacks
        self.stateDirectory = stateDirectory
        self.store = store ?? .sqlite(directory: stateDirectory)
        self.environment = environment
        self.operatorName = operatorName
    }

    /// `--repo` / `DEPLOYCTL_REPO` / discovery. `--state` / `DEPLOYCTL_STATE` name a state
    /// directory or a `postgres://` store; else `deployctl-store.yml` at HEAD names the team's
    /// store; else the embedded store in `.deployctl` at the repository root (inside the git
    /// directory for a bare repository). With a shared store, this machine's files still go to
    /// that default directory.
    public static func open(repo: String?, state: String?, environment: [String: String] = ProcessEnvironment.current,
                            directory: String = FileManager.default.currentDirectoryPath) throws -> Workspace {
        let stacks = try StackRepository.open(explicit: repo, environment: environment, directory: directory)
        let local = stacks.root + (stacks.repository.isBare ? "/deployctl" : "/.deployctl")
        let named = state ?? environment["DEPLOYCTL_STATE"]
        var stateDirectory = local, store: StoreLocation
        do {
            if let named, !named.isEmpty {
                if StoreLocation.isPostgres(named) {
                    store = .postgres(try PostgresURL(named, environment: environment))
                } else {
                    // Absolute: steps (and ssh, for a tree's known_hosts) run in other directories.
                    stateDirectory = named.hasPrefix("/") ? named
                        : URL(fileURLWithPath: named, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
                    store = .sqlite(directory: stateDirectory)
                }
            } else if let text = try stacks.committedFile(StoreLocation.fileName) {
                store = .postgres(try StoreLocation.parseFile(text, environment: environment))
            } else {
                store = .sqlite(directory: local)
            }
        } catch let error as StoreConfigError {
            throw DeployError(.usage, error.description, next: ["README: \"A shared store (PostgreSQL)\""])
        }
        return Workspace(stacks: stacks, stateDirectory: stateDirectory, store: store, environment: environment,
                         operatorName: Self.operatorName(environment))
    }

    /// Opens the store this workspace names (see `StoreLocation`), once per command.
    public func openJournal() throws -> Journal {
        try opened.get { try openStore() }
    }

    private func openStore() throws -> Journal {
        switch store {
        case .sqlite(let directory):
            do {
                return try Journal(directory: directory)
            } catch {
                throw DeployError(.failed, "cannot open the journal in \(directory): \(error)",
                                  next: ["check the state directory is writable, or pass --state DIR"])
            }
        case .postgres(let url):
            do {
                return Journal(store: try PostgresStore(url: url))
            } catch let error as PostgresStore.OpenError {
                throw DeployError(error.exitStatus, error.description, next: error.next)
            } catch {
                throw DeployError(.failed, "\(error)",
                                  next: ["check the store is up and reachable: psql '\(url.shownForPsql)'",
                                         "the password comes from PGPASSWORD, ~/.pgpass, PGSERVICE or the store file's password_env"])
            }
        }
    }

    /// As the command ends (before `exit`, which runs no deinit): lets the store leave itself as
    /// the next command wants it (`JournalStore.close`). Only for the command's last lines.
    public func close() {
        opened.take()?.close()
    }

    /// The journal when one exists already (a command that only reads must not create one).
    public func existingJournal() -> Journal? {
        switch store {
        case .sqlite(let directory):
            guard FileManager.default.fileExists(atPath: directory + "/" + SQLiteStore.fileName) else { return nil }
            return try? openJournal()
        case .postgres:
            return try? openJournal()
        }
    }

    /// `user@host`, as journals and lock messages show who did something.
    public static func operatorName(_ environment: [String: String]) -> String {
        let user = environment["USER"] ?? environment["LOGNAME"]
            ?? getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid\(getuid())"
        return "\(user)@\(ProcessIdentity.hostName)"
    }

    /// The stacks at a revision for what is only shown (`stacks`, `status`, completion): when its
    /// `stacks/` tree is the one listed last, from the state directory's cache (`CatalogCache`).
    /// Never for `validate` or `sync`, which decide: a file in a state directory inside the work
    /// tree is no trust root (a pull request could commit one).
    public func shownCatalog(at revision: PinnedRevision) throws -> StackCatalog {
        guard let tree = try stacks.stacksTree(at: revision) else { return StackCatalog(entries: []) }
        let cache = CatalogCache(state: state)
        if let cached = cache.load(tree: tree.hex) { return cached }
        let catalog = try stacks.catalog(tree: tree, at: revision.short)
        cache.save(catalog, tree: tree.hex)
        return catalog
    }

    /// A target resolved for what is only shown (`status`): a bare ENV through `shownCatalog`.
    public func shownEntry(for target: String, at revision: PinnedRevision) throws -> StackCatalog.Entry {
        try stacks.entry(for: target, at: .commit(revision), listing: { try shownCatalog(at: revision) })
    }

    /// Reads a descriptor at a pinned revision; invalid descriptors throw with every diagnostic.
    public func load(_ entry: StackCatalog.Entry, at revision: PinnedRevision) throws -> StackDescriptor {
        try load(entry, at: .commit(revision))
    }

    public func load(_ entry: StackCatalog.Entry, at source: DescriptorSource) throws -> StackDescriptor {
        // A commit's files never change; the work tree's may, so those are read every time.
        let key = source.isWorktree ? nil : "\(source.sha) \(entry.stack)/\(entry.environment)"
        if let key, let descriptor = loaded[key] { return descriptor }
        let result = stacks.loader(at: source).load(stack: entry.stack, environment: entry.environment)
        guard let descriptor = result.descriptor, !result.diagnostics.hasErrors else {
            let count = result.diagnostics.errors.count
            throw DeployError(.usage, "\(entry.path) at \(source.label) is invalid (\(count) error\(count == 1 ? "" : "s")); nothing was run",
                              diagnostics: result.diagnostics,
                              next: [source.isWorktree ? "fix the descriptor, then: deployctl validate \(entry.target) --worktree"
                                                       : "fix the descriptor (check it uncommitted: deployctl validate \(entry.target) --worktree), commit, then: deployctl validate \(entry.target)"])
        }
        if let key { loaded.keep(descriptor, as: key) }
        return descriptor
    }
}

/// Valid descriptors read at a commit, by commit and target. A command reads a few; `sync
/// --interval` keeps one workspace for days, so past `limit` the oldest reads are dropped.
private final class LoadedDescriptors: @unchecked Sendable {
    static let limit = 16
    private let lock = NSLock()
    private var descriptors: [String: StackDescriptor] = [:]
    private var order: [String] = []

    subscript(key: String) -> StackDescriptor? {
        lock.withLock { descriptors[key] }
    }

    func keep(_ descriptor: StackDescriptor, as key: String) {
        lock.withLock {
            if descriptors.updateValue(descriptor, forKey: key) == nil { order.append(key) }
            while order.count > Self.limit { descriptors[order.removeFirst()] = nil }
        }
    }
}

/// Holds the outcome of the workspace's first open: the journal, or why it cannot be opened
/// (a store that does not answer is waited for once per command, not by every part that asks).
private final class OpenedJournal: @unchecked Sendable {
    private let lock = NSLock()
    private var opened: Result<Journal, Error>?

    func get(_ open: () throws -> Journal) throws -> Journal {
        try lock.withLock {
            if let opened { return try opened.get() }
            let fresh = Result { try open() }
            opened = fresh
            return try fresh.get()
        }
    }

    /// The journal if one was opened, and never again after: for `Workspace.close`.
    func take() -> Journal? {
        lock.withLock {
            defer { opened = .failure(JournalClosed()) }
            return try? opened?.get()
        }
    }

    struct JournalClosed: Error, CustomStringConvertible {
        var description: String { "the journal was already closed: the command is ending" }
    }
}
