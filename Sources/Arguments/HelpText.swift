import Glibc

/// `--help`: what a command does, its usage line, its arguments, options and subcommands,
/// wrapped to the terminal's width ($COLUMNS, else the terminal's, else 80).
public enum HelpText {
    public static func render(_ path: [any Command.Type], width: Int = terminalWidth()) -> String {
        path.last!.help(path: path, width: max(width, 40))
    }

    /// `deployctl up [--repo <path>] … <target>`: the line a usage error shows too.
    public static func usage(_ path: [any Command.Type]) -> String {
        path.last!.usage(path: path).breakingSpaces
    }

    static func usage<C: Command>(_ type: C.Type, path: [any Command.Type]) -> String {
        let command = Parser.commandLine(path)
        if !C.configuration.subcommands.isEmpty { return "\(command) <subcommand>" }
        let shown = C.parameters.flatMap(\.flattened).filter { !$0.help.isHidden }
        // Options (by their long name) first, then the arguments in order; what may be left
        // out in brackets.
        let words = (shown.filter { $0.kind != .argument } + shown.filter { $0.kind == .argument }).map { parameter in
            let name = parameter.kind == .argument ? parameter.label
                : parameter.names[0] + (parameter.kind == .option ? " <\(parameter.valueName)>" : "")
            let label = name + (parameter.repeats ? "\u{A0}..." : "")
            return parameter.isRequired ? label : "[\(label)]"
        }
        return ([command] + words).joined(separator: " ")
    }

    static func render<C: Command>(_ type: C.Type, path: [any Command.Type], width: Int) -> String {
        let configuration = C.configuration
        var sections: [String] = []
        sections.append(wrap("OVERVIEW: \(configuration.abstract)", width: width))
        let paragraphs = configuration.discussion.split(separator: "\n", omittingEmptySubsequences: true)
        if !paragraphs.isEmpty { sections.append(paragraphs.map { wrap(String($0), width: width) }.joined(separator: "\n\n")) }
        // Wrapped between items, never inside one (`[--rev <rev>]`).
        sections.append(wrap("USAGE: \(usage(type, path: path))".nonBreakingInside("[<", "]>"), width: width, indent: 2).breakingSpaces)

        let shown = C.parameters.flatMap(\.flattened).filter { !$0.help.isHidden }
        let defaults = C()
        let arguments = shown.filter { $0.kind == .argument }.map { ($0.label + ($0.repeats ? " ..." : ""), $0.help.text) }
        if !arguments.isEmpty { sections.append(table("ARGUMENTS:", arguments, width: width)) }
        var options = shown.filter { $0.kind != .argument }.map { option -> (String, String) in
            var notes: [String] = []
            if !option.choices.isEmpty { notes.append("values: " + option.choices.joined(separator: ", ")) }
            if option.kind == .option, let value = option.shownDefault(defaults), !value.isEmpty { notes.append("default: \(value)") }
            let text = option.help.text + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
            return (option.label + (option.repeats ? " ..." : ""), text)
        }
        if path.count == 1, configuration.version != nil { options.append(("--version", "Show the version.")) }
        options.append(("-h, --help", "Show help information."))
        sections.append(table("OPTIONS:", options, width: width))

        if !configuration.subcommands.isEmpty {
            let fallback = configuration.defaultSubcommand.map { $0.configuration.name }
            let rows = configuration.subcommands.map { sub in
                (sub.configuration.name + (sub.configuration.name == fallback ? " (default)" : ""), sub.configuration.abstract)
            }
            let helpLine = "See '\(Parser.commandLine([path[0]])) help \(path.dropFirst().map { $0.configuration.name + " " }.joined())<subcommand>' for detailed help."
            sections.append(table("SUBCOMMANDS:", rows, width: width) + "\n\n  " + wrap(helpLine, width: width - 2, indent: 2))
        }
        return sections.joined(separator: "\n\n") + "\n"
    }

    /// Labels in a column of 24 after a 2-space indent; a longer label gets a line of its own.
    private static func table(_ title: String, _ rows: [(String, String)], width: Int) -> String {
        let column = 26
        let lines = rows.map { label, text -> String in
            let body = wrap(text, width: width - column).split(separator: "\n", omittingEmptySubsequences: false)
                .map { String(repeating: " ", count: column) + $0 }
            let head = "  " + label
            guard !body.isEmpty, !text.isEmpty else { return head }
            if head.count <= column - 2 {
                let first = head + String(repeating: " ", count: column - head.count) + body[0].dropFirst(column)
                return ([first] + body.dropFirst()).joined(separator: "\n")
            }
            return ([head] + body).joined(separator: "\n")
        }
        return ([title] + lines).joined(separator: "\n")
    }

    /// Greedy word wrap; a word longer than the width stays whole. Lines after the first are
    /// indented by `indent`.
    static func wrap(_ text: String, width: Int, indent: Int = 0) -> String {
        let width = max(width, 20)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if line.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = String(repeating: " ", count: indent) + word
            }
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    /// $COLUMNS, else the width of the terminal on standard output, else 80.
    public static func terminalWidth() -> Int {
        if let text = getenv("COLUMNS"), let columns = Int(String(cString: text)), columns > 0 { return columns }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}

extension String {
    /// Spaces between an opening and its closing bracket made non-breaking (U+00A0).
    fileprivate func nonBreakingInside(_ openings: String, _ closings: String) -> String {
        var depth = 0
        return String(map { character -> Character in
            if openings.contains(character) { depth += 1 }
            if closings.contains(character) { depth -= 1 }
            return character == " " && depth > 0 ? "\u{A0}" : character
        })
    }

    fileprivate var breakingSpaces: String { String(map { $0 == "\u{A0}" ? " " : $0 }) }
}

extension Command {
    static func help(path: [any Command.Type], width: Int) -> String {
        HelpText.render(Self.self, path: path, width: width)
    }

    static func usage(path: [any Command.Type]) -> String {
        HelpText.usage(Self.self, path: path)
    }
}
