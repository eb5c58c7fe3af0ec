import ArgumentParser
import DeployKit

/// "Did you mean" for a mistyped command, under ArgumentParser's own message (which already
/// suggests options, but for a subcommand only says "Unexpected argument").
enum UsageHint {
    static func didYouMean(_ arguments: [String], error message: String) -> String {
        var command: ParsableCommand.Type = DeployCtl.self
        for word in arguments {
            guard !word.hasPrefix("-") else { break }
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty else { break }
            guard let next = subcommands.first(where: { name(of: $0) == word }) else {
                guard word != "help", message.contains("'\(word)'") else { return "" }
                let names = subcommands.map(name(of:))
                let hint = Suggestion.closest(to: word, in: names).map { " Did you mean '\($0)'?" } ?? ""
                return "\nhint: '\(word)' is not a command of \(name(of: command)).\(hint) Commands: \(names.joined(separator: ", "))."
            }
            command = next
        }
        return ""
    }

    private static func name(of command: ParsableCommand.Type) -> String {
        command.configuration.commandName ?? String(describing: command).lowercased()
    }
}
