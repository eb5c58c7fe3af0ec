import ArgumentParser
import DeployKit

/// "Did you mean" for a mistyped command or option, added under ArgumentParser's own message.
enum UsageHint {
    static func didYouMean(_ arguments: [String], error message: String) -> String {
        var command: ParsableCommand.Type = DeployCtl.self
        var rest = arguments[...]
        // Walk down the subcommands the line names.
        while let word = rest.first, !word.hasPrefix("-") {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty else { break }
            guard let next = subcommands.first(where: { name(of: $0) == word }) else {
                let names = subcommands.map(name(of:))
                guard word != "help" else { return "" }
                let hint = Suggestion.closest(to: word, in: names).map { " Did you mean '\($0)'?" } ?? ""
                return "\nhint: '\(word)' is not a command of \(name(of: command)).\(hint) Commands: \(names.joined(separator: ", "))."
            }
            command = next
            rest = rest.dropFirst()
        }
        guard let range = message.range(of: #"Unknown option '[^']+'"#, options: .regularExpression) else { return "" }
        let option = message[range].dropFirst("Unknown option '".count).dropLast()
        let known = Set(options(in: DeployCtl.helpMessage(for: command)))
        guard let suggestion = Suggestion.closest(to: String(option.split(separator: "=").first ?? ""), in: known) else { return "" }
        return "\nhint: did you mean '\(suggestion)'? (deployctl \(command == DeployCtl.self ? "" : name(of: command) + " ")--help lists the options)"
    }

    private static func name(of command: ParsableCommand.Type) -> String {
        command.configuration.commandName ?? String(describing: command).lowercased()
    }

    /// Every `--long-option` a help text mentions.
    private static func options(in help: String) -> [String] {
        var found: [String] = []
        var rest = help[...]
        while let range = rest.range(of: #"--[a-z][a-z0-9-]*"#, options: .regularExpression) {
            found.append(String(rest[range]))
            rest = rest[range.upperBound...]
        }
        return found
    }
}
