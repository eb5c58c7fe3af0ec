import Arguments
import DeployKit
import Foundation

/// Where the stacks and the state live.
struct WorkspaceOptions: ParameterGroup {
    var repo: String?
    var state: String?

    static var parameters: [Parameter<Self>] {
        [
            .option(\.repo, "--repo", help: Help("The stacks repository (default: $DEPLOYCTL_REPO, else the repository around the current directory).", valueName: "path"), completion: .files),
            .option(\.state, "--state", help: Help("Where the journal, locks and inbound record live: a directory, or a shared PostgreSQL store postgres://USER@HOST:PORT/DB?sslmode=… (default: $DEPLOYCTL_STATE, else deployctl-store.yml at HEAD, else .deployctl/ at the repository root).", valueName: "dir|url"), completion: .files),
        ]
    }

    /// Opens the workspace and, on every command, says so if inbound mail was left disabled.
    func open() throws -> Workspace {
        let workspace = try Workspace.open(repo: repo, state: state)
        for owed in RecordActions(workspace: workspace).owedInbound() {
            Terminal.error("⚠ inbound mail processing for \(owed.target) is DISABLED, owed by run \(owed.runID) since \(Timestamp.human(owed.since)).\n"
                           + "  re-enable it: deployctl inbound enable \(owed.target)")
        }
        return workspace
    }
}

struct RevisionOption: ParameterGroup {
    var given: String?

    static var parameters: [Parameter<Self>] {
        [
            .option(\.given, "--rev", help: Help("The revision to read descriptors at: branch, tag, SHA, HEAD~N, … (default: HEAD; for up, plan and revisions in a repository with a remote, the head of the branch the target tracks; for runbook, the revision the target runs).", valueName: "rev")),
        ]
    }

    var rev: String { given ?? "HEAD" }
}

/// `--offline` for the commands that fetch the stacks repository's remote first.
struct FetchOptions: ParameterGroup {
    var offline = false

    static var parameters: [Parameter<Self>] {
        [
            .flag(\.offline, "--offline", help: "Do not fetch the remote: use what the last fetch left, and say how old it is."),
        ]
    }

    var mode: FetchMode { offline ? .offline : .fetch }
}

/// `--rev REV`, or `--worktree` for the commands that may read what is not committed yet
/// (validate, plan, doctor): never a run.
struct SourceOptions: ParameterGroup {
    var revision = RevisionOption()
    var worktree = false

    static var parameters: [Parameter<Self>] {
        [
            .group(\.revision),
            .flag(\.worktree, "--worktree", help: "Read the descriptors (and the files under their paths:) on disk instead of a commit, to check them before committing. Every line printed is labelled uncommitted; up, rollback and resume never read the work tree."),
        ]
    }

    func validate() throws {
        if worktree, revision.given != nil {
            throw ValidationError("--worktree reads the files on disk and --rev \(revision.rev) a commit: give one of them")
        }
    }

    /// The source, and for text output the label every line gets when it is the work tree.
    func source(_ workspace: Workspace, labelling: Bool, revision rev: String? = nil) throws -> DescriptorSource {
        let source = try workspace.stacks.source(revision: rev ?? revision.rev, worktree: worktree)
        if source.isWorktree, labelling { Terminal.label = "uncommitted" }
        return source
    }
}

struct InputOptions: ParameterGroup {
    var input: [String] = []
    var inputFile: String?

    static var parameters: [Parameter<Self>] {
        [
            .option(\.input, "--input", help: Help("Set an input (repeatable).", valueName: "KEY=VALUE")),
            .option(\.inputFile, "--input-file", help: Help("Read inputs from a file of KEY=VALUE lines.", valueName: "file"), completion: .files),
        ]
    }

    func supply(environment: [String: String]) throws -> InputSupply {
        InputSupply(flags: try InputSupply.parseFlags(input), file: try inputFile.map(InputFile.load), environment: environment)
    }
}

enum OutputFormat: String, ArgumentValue, CaseIterable {
    case text, json
}
