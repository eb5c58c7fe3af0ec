import Foundation

/// Where a command runs: the stacks repository, the state directory, the process environment
/// and the operator. Built once per command by the CLI and handed to the actions.
public struct Workspace {
    public let stacks: StackRepository
    public let stateDirectory: String
    public var state: StateDirectory { StateDirectory(path: stateDirectory) }
    public let environment: [String: String]
    public let operatorName: String

    /// `--repo` / `DEPLOYCTL_REPO` / discovery; `--state` / `DEPLOYCTL_STATE` / `.deployctl` at
    /// the repository root (inside the git directory for a bare repository).
    public static func open(repo: String?, state: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                            directory: String = FileManager.default.currentDirectoryPath) throws -> Workspace {
        let stacks = try StackRepository.open(explicit: repo, environment: environment, directory: directory)
        let stateDirectory: String
        if let explicit = state ?? environment["DEPLOYCTL_STATE"], !explicit.isEmpty {
            stateDirectory = explicit
        } else if stacks.repository.isBare {
            stateDirectory = stacks.root + "/deployctl"
        } else {
            stateDirectory = stacks.root + "/.deployctl"
        }
        return Workspace(stacks: stacks, stateDirectory: stateDirectory, environment: environment,
                         operatorName: Self.operatorName(environment))
    }

    /// `user@host`, as journals and lock messages show who did something.
    public static func operatorName(_ environment: [String: String]) -> String {
        let user = environment["USER"] ?? environment["LOGNAME"]
            ?? getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid\(getuid())"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }

    /// Reads a descriptor at a pinned revision; invalid descriptors throw with every diagnostic.
    public func load(_ entry: StackCatalog.Entry, at revision: PinnedRevision) throws -> StackDescriptor {
        try load(entry, at: .commit(revision))
    }

    public func load(_ entry: StackCatalog.Entry, at source: DescriptorSource) throws -> StackDescriptor {
        let result = stacks.loader(at: source).load(stack: entry.stack, environment: entry.environment)
        guard let descriptor = result.descriptor, !result.diagnostics.hasErrors else {
            let count = result.diagnostics.errors.count
            throw DeployError(.usage, "\(entry.path) at \(source.label) is invalid (\(count) error\(count == 1 ? "" : "s")); nothing was run",
                              diagnostics: result.diagnostics,
                              next: [source.isWorktree ? "fix the descriptor, then: deployctl validate \(entry.target) --worktree"
                                                       : "fix the descriptor (check it uncommitted: deployctl validate \(entry.target) --worktree), commit, then: deployctl validate \(entry.target)"])
        }
        return descriptor
    }
}
