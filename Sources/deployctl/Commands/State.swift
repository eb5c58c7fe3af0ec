import Arguments
import DeployKit
import Foundation

struct StateCommand: CommandGroup {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Where the journal lives; moving it between stores.",
        discussion: "The store is --state, else $DEPLOYCTL_STATE, else deployctl-store.yml at HEAD, else .deployctl/. README: \"A shared store (PostgreSQL)\".",
        subcommands: [StateShowCommand.self, StateImportCommand.self, StateExportCommand.self], defaultSubcommand: StateShowCommand.self)
}

struct StateShowCommand: Command {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Which store this command line uses, and what this role may do there.")

    var workspace = WorkspaceOptions()

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
        ]
    }

    func run() throws {
        let ws = try workspace.open()
        let journal = try ws.openJournal()
        Terminal.table(header: ["store", journal.path], rows: [["this machine's files", ws.stateDirectory], ["host recorded", ProcessIdentity.hostName],
                                                ["role", journal.store.canWrite ? "writer" : "read-only (status, runs, show, logs, report)"]])
    }
}

struct StateImportCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Copy a local journal (a state directory) into this store.",
        discussion: "Runs already there are left alone, so it can run again; a different run under an existing id refuses the whole import (exit 4). Inbound mail still owed comes along.")

    var workspace = WorkspaceOptions()
    var from = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .option(\.from, "--from", required: true, help: Help("The state directory holding journal.sqlite3.", valueName: "dir"), completion: .files),
        ]
    }

    func run() throws {
        let summary = try StateTransferAction(workspace: try workspace.open()).importing(from: from)
        StateTransferOutput.print(summary)
    }
}

struct StateExportCommand: Command {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Copy this store into a local journal (a state directory).")

    var workspace = WorkspaceOptions()
    var to = ""

    static var parameters: [Parameter<Self>] {
        [
            .group(\.workspace),
            .option(\.to, "--to", required: true, help: Help("The state directory to write journal.sqlite3 in (created when missing).", valueName: "dir"), completion: .files),
        ]
    }

    func run() throws {
        let summary = try StateTransferAction(workspace: try workspace.open()).exporting(to: to)
        StateTransferOutput.print(summary)
    }
}

enum StateTransferOutput {
    static func print(_ summary: StateTransferAction.Summary) {
        Terminal.line("copied \(summary.copied) run\(summary.copied == 1 ? "" : "s") from \(summary.from) to \(summary.to); \(summary.alreadyThere) already there")
        if summary.inboundOwed > 0 { Terminal.line("inbound mail still owed: \(summary.inboundOwed) record\(summary.inboundOwed == 1 ? "" : "s") copied; deployctl status shows them") }
        if summary.eventsLeft > 0 { Terminal.line("\(summary.eventsLeft) event\(summary.eventsLeft == 1 ? "" : "s") that belong to no run (locks broken, inbound settled by hand) stayed in \(summary.from)") }
    }
}
