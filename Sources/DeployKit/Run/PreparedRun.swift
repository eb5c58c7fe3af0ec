import Foundation

/// A new run of a target: the revision pinned, the descriptor resolved with the person's
/// inputs (`ResolvedRevision`), and its id chosen. What `up` and `runbook` start from.
struct PreparedRun {
    let pinned: PinnedRevision
    let entry: StackCatalog.Entry
    let resolved: ResolvedRevision
    let runID: String

    var descriptor: StackDescriptor { resolved.descriptor }
    var masked: Plan { resolved.masked }

    /// `check` sees the descriptor before inputs are resolved (a runbook that does not exist
    /// is the first thing to say).
    init(workspace: Workspace, target: String, revision: String, supply: InputSupply, kind: String,
         check: (StackDescriptor, StackCatalog.Entry) throws -> Void = { _, _ in }) throws {
        pinned = try workspace.stacks.pin(revision)
        entry = try workspace.stacks.entry(for: target, at: pinned)
        let descriptor = try workspace.load(entry, at: pinned)
        try check(descriptor, entry)
        runID = Journal.newRunID()
        resolved = try ResolvedRevision(workspace: workspace, entry: entry, revision: pinned, descriptor: descriptor,
                                        supply: supply, runID: runID, kind: kind)
    }

    /// The run's record as it starts: `running`, owned by this process.
    func record(kind: RunKind, workspace: Workspace) -> RunRecord {
        RunRecord.starting(id: runID, kind: kind, entry: entry, revision: pinned, descriptorBlob: masked.descriptorBlob,
                           inputs: Dictionary(resolved.inputs.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                           operatorName: workspace.operatorName)
    }
}
