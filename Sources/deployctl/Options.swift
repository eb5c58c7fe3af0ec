import ArgumentParser
import DeployKit
import Foundation

/// Where the stacks and the state live.
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The stacks repository (default: $DEPLOYCTL_REPO, else the repository around the current directory).", valueName: "path"))
    var repo: String?

    @Option(name: .long, help: ArgumentHelp("The state directory (default: $DEPLOYCTL_STATE, else .deployctl/ at the repository root).", valueName: "dir"))
    var state: String?

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

struct RevisionOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The revision to read descriptors at: branch, tag, SHA, HEAD~N, …", valueName: "rev"))
    var rev: String = "HEAD"
}

struct InputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Set an input (repeatable).", valueName: "KEY=VALUE"))
    var input: [String] = []

    @Option(name: .customLong("input-file"), help: ArgumentHelp("Read inputs from a file of KEY=VALUE lines.", valueName: "file"))
    var inputFile: String?

    var given: Bool { !input.isEmpty || inputFile != nil }

    func supply(environment: [String: String]) throws -> InputSupply {
        var file: InputFile? = nil
        if let path = inputFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw DeployError(.usage, "cannot read --input-file \(path)", next: ["check the path; the file holds KEY=VALUE lines"])
            }
            switch InputFile.parse(text, path: path) {
            case .success(let parsed): file = parsed
            case .failure(let diagnostic):
                throw DeployError(.usage, "--input-file \(path) is not KEY=VALUE lines", diagnostics: [diagnostic])
            }
        }
        return InputSupply(flags: try InputSupply.parseFlags(input), file: file, environment: environment)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
