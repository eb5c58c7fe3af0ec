/// A usage mistake on the command line: what is wrong, and the command it was given to (for
/// "see deployctl up --help"). Exit status 2.
public struct UsageError: Error, CustomStringConvertible {
    public let message: String
    public let path: [any Command.Type]
    /// A word that names nothing, and the names it could have meant (for a did-you-mean).
    public let misspelled: (word: String, candidates: [String])?
    /// What to know next, after any did-you-mean (the commands there are).
    public let note: String?

    init(_ message: String, path: [any Command.Type], misspelled: (word: String, candidates: [String])? = nil, note: String? = nil) {
        self.message = message
        self.path = path
        self.misspelled = misspelled
        self.note = note
    }

    public var description: String { message }
}

/// `--version` given to the root command.
public struct VersionRequest: Error {
    public let version: String
}

/// Words → the command to run. Reads the names of the subcommands on the way and the
/// parameters of the one command it runs, nothing else.
public enum Parser {
    /// The command the words name, with every value set and validated. Throws `HelpRequest`,
    /// `VersionRequest` or `UsageError` instead when that is what the words ask for.
    public static func parse(_ root: any Command.Type, _ words: [String]) throws -> any Command {
        let (path, rest) = try resolve(root, words)
        return try path.last!.parsed(rest, path: path)
    }

    /// `deployctl review show`.
    public static func commandLine(_ path: [any Command.Type]) -> String {
        path.map { $0.configuration.name }.joined(separator: " ")
    }

    /// The command path the leading words name (`review show`), and the words left for it.
    static func resolve(_ root: any Command.Type, _ words: [String]) throws -> (path: [any Command.Type], rest: ArraySlice<String>) {
        if words.first == "help" { throw try helpRequest(root, words.dropFirst()) }
        let (path, rest) = walk(root, words[...])
        let current = path.last!.configuration
        guard !current.subcommands.isEmpty else { return (path, rest) }
        if asksForHelp(rest) { throw HelpRequest(path: path) }
        if path.count == 1, rest == ["--version"], let version = current.version { throw VersionRequest(version: version) }
        if let fallback = current.defaultSubcommand { return (path + [fallback], rest) }
        guard let word = rest.first else { throw HelpRequest(path: path) }
        if isOptionLike(word) {
            throw UsageError("Unknown option '\(word)'", path: path, misspelled: (word, path.count == 1 && current.version != nil ? ["--help", "--version"] : ["--help"]))
        }
        throw unknownCommand(word, path)
    }

    /// Follows the words that name subcommands.
    static func walk(_ root: any Command.Type, _ words: ArraySlice<String>) -> (path: [any Command.Type], rest: ArraySlice<String>) {
        var path = [root]
        var rest = words
        while let word = rest.first, let next = subcommand(word, of: path.last!) {
            path.append(next)
            rest = rest.dropFirst()
        }
        return (path, rest)
    }

    static func subcommand(_ word: String, of command: any Command.Type) -> (any Command.Type)? {
        command.configuration.subcommands.first { $0.configuration.name == word }
    }

    /// `help`, `help up`, `help review show`.
    private static func helpRequest(_ root: any Command.Type, _ words: ArraySlice<String>) throws -> HelpRequest {
        let (path, rest) = walk(root, words)
        guard let extra = rest.first, !asksForHelp(rest) else { return HelpRequest(path: path) }
        if path.last!.configuration.subcommands.isEmpty { throw UsageError("Unexpected argument '\(extra)' after help \(commandLine(Array(path.dropFirst())))", path: path) }
        throw unknownCommand(extra, path)
    }

    /// `-h` or `--help` among the words before any `--`.
    private static func asksForHelp(_ words: ArraySlice<String>) -> Bool {
        words.prefix { $0 != "--" }.contains { $0 == "--help" || $0 == "-h" }
    }

    private static func unknownCommand(_ word: String, _ path: [any Command.Type]) -> UsageError {
        let names = path.last!.configuration.subcommands.map { $0.configuration.name }
        return UsageError("Unexpected argument '\(word)'", path: path, misspelled: (word, names),
                          note: "the commands of \(commandLine(path)): \(names.joined(separator: ", "))")
    }

    static func parse<C: Command>(_ type: C.Type, _ words: ArraySlice<String>, path: [any Command.Type]) throws -> C {
        if asksForHelp(words) { throw HelpRequest(path: path) }
        var command = C()
        let declared = C.parameters
        let parameters = declared.flatMap(\.flattened)
        let named = parameters.filter { $0.kind == .option || $0.kind == .flag }
        let scanned = try Scanner(named: named).scan(words, path: path)
        for (index, value) in scanned.values where !named[index].assign(&command, value) {
            throw invalid(value, named[index], path)
        }
        if let missing = named.indices.first(where: { index in named[index].isRequired && !scanned.values.contains { $0.index == index } }) {
            throw UsageError("Missing expected argument '\(named[missing].label)'", path: path)
        }
        var remaining = scanned.positional[...]
        for argument in parameters where argument.kind == .argument {
            if argument.repeats {
                if remaining.isEmpty, argument.isRequired { throw UsageError("Missing expected argument '\(argument.label) ...'", path: path) }
                for word in remaining where !argument.assign(&command, word) { throw invalid(word, argument, path) }
                remaining = []
            } else if let word = remaining.popFirst() {
                guard argument.assign(&command, word) else { throw invalid(word, argument, path) }
            } else if argument.isRequired {
                throw UsageError("Missing expected argument '\(argument.label)'", path: path)
            }
        }
        if let extra = remaining.first { throw UsageError("Unexpected argument '\(extra)'", path: path) }
        do {
            for validate in declared.flatMap(\.validators) { try validate(command) }
            try command.validate()
        } catch let error as ValidationError {
            throw UsageError(error.message, path: path)
        }
        return command
    }

    /// `--name` or `-n`; not `-` (standard input, by convention) nor a negative number (`-5`,
    /// `-0.5`; `-inf` is an option).
    static func isOptionLike(_ word: String) -> Bool {
        guard word.hasPrefix("-"), word != "-" else { return false }
        let next = word.dropFirst().first!
        return !((next.isASCII && next.isNumber || next == ".") && Double(word) != nil)
    }

    private static func invalid<Root>(_ value: String, _ parameter: Parameter<Root>, _ path: [any Command.Type]) -> UsageError {
        let choices = parameter.choices.isEmpty ? "" : "; one of: \(parameter.choices.joined(separator: ", "))"
        return UsageError("The value '\(value)' is invalid for '\(parameter.label)'\(choices)", path: path,
                          misspelled: parameter.choices.isEmpty ? nil : (value, parameter.choices))
    }
}

/// One pass over a command's words: which option each names and with what value, and the
/// positional words. The parser and completion both read words through it.
struct Scanner<Root> {
    struct Result {
        /// Index into `named`, and the value ("" for a flag).
        var values: [(index: Int, value: String)] = []
        var positional: [String] = []
        /// An option that ends the words still waiting for its value (completion: being typed).
        var awaitingValue: Int?
    }

    let named: [Parameter<Root>]

    func index(of name: String) -> Int? {
        named.firstIndex { $0.names.contains(name) }
    }

    /// Strict with a `path` (a mistake throws `UsageError`); without one, what it does not
    /// know it passes over (completion of a line still being typed).
    func scan(_ words: ArraySlice<String>, path: [any Command.Type]?) throws -> Result {
        var result = Result()
        var words = words
        while let word = words.popFirst() {
            guard Parser.isOptionLike(word) else {
                result.positional.append(word)
                continue
            }
            if word == "--" {
                result.positional += words
                break
            }
            let (name, inline) = Self.split(word)
            guard let index = index(of: name) else {
                guard let path else { continue }
                let names = named.filter { !$0.help.isHidden }.flatMap(\.names) + ["--help"]
                // `-x…` is as likely a value meant as an argument (a note, a number) as a typo.
                throw UsageError("Unknown option '\(name)'", path: path, misspelled: (name, names),
                                 note: name.hasPrefix("--") ? nil : "an argument that begins with '-' goes after '--'")
            }
            if named[index].kind == .flag {
                if inline != nil, let path { throw UsageError("'\(name)' takes no value", path: path) }
                result.values.append((index, ""))
                continue
            }
            if let inline {
                result.values.append((index, inline))
            } else if let next = words.first, !Parser.isOptionLike(next) {
                result.values.append((index, next))
                words = words.dropFirst()
            } else if let path {
                let hint = words.first.map { _ in " (a value that begins with '-' is written \(name)=VALUE)" } ?? ""
                throw UsageError("Missing value for '\(named[index].label)'\(hint)", path: path)
            } else if words.isEmpty {
                result.awaitingValue = index
            }
        }
        return result
    }

    /// `--name=value` → (`--name`, `value`); `-n=value` likewise.
    static func split(_ word: String) -> (String, String?) {
        guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<equals]), String(word[word.index(after: equals)...]))
    }
}

// A static member of a protocol extension runs with the concrete type behind an existential
// metatype (`path.last!.parsed(…)`), so each command's parameters are read directly.
extension Command {
    static func parsed(_ words: ArraySlice<String>, path: [any Command.Type]) throws -> any Command {
        try Parser.parse(Self.self, words, path: path)
    }
}
