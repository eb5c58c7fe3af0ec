/// Options and arguments that several commands share (`--repo`/`--state`, `--rev`, …),
/// declared once and included with `.group(\.name)`. Each is a property with an initial
/// value and a line in `parameters`; a required one's initial value is only a placeholder.
public protocol ParameterGroup {
    init()
    /// Every option, flag and argument, in the order help shows them. Read for the one command
    /// being parsed: nothing is found by reflection, so parsing costs what it reads.
    static var parameters: [Parameter<Self>] { get }
    /// After every value is set: a contradiction between them is a usage error (exit 2).
    func validate() throws
}

extension ParameterGroup {
    public static var parameters: [Parameter<Self>] { [] }
    public func validate() throws {}
}

/// A verb of the command line: its description, its parameters and what it does.
public protocol Command: ParameterGroup, Sendable {
    static var configuration: CommandConfiguration { get }
    /// Runs on the caller's thread (the main thread): a command that awaits nothing concurrent
    /// starts no thread (the pool's first two cost `status` ~0.14 of its time).
    nonisolated(nonsending) func run() async throws
}

/// A command that only names subcommands (`review`, `inbound`): the parser answers it with a
/// subcommand or with its help, so it has nothing to run.
public protocol CommandGroup: Command {}

extension CommandGroup {
    public nonisolated(nonsending) func run() async throws {
        preconditionFailure("\(Self.configuration.name) is a group of commands: the parser never runs it")
    }
}

public struct CommandConfiguration: Sendable {
    public let name: String
    public let abstract: String
    /// Paragraphs, one per line: help wraps them to the terminal's width.
    public let discussion: String
    public let subcommands: [any Command.Type]
    /// The subcommand a word that names none runs (`review RUN` is `review show RUN`).
    public let defaultSubcommand: (any Command.Type)?
    public let version: String?

    public init(commandName name: String, abstract: String, discussion: String = "", version: String? = nil,
                subcommands: [any Command.Type] = [], defaultSubcommand: (any Command.Type)? = nil) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.version = version
        self.subcommands = subcommands
        self.defaultSubcommand = defaultSubcommand
    }
}

/// A usage mistake found after parsing (`validate()`), or while parsing. Exit status 2.
public struct ValidationError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `--help`, `-h`, `help COMMAND`, or a group command given no subcommand: the command path
/// from the root to the command whose help to show.
public struct HelpRequest: Error {
    public let path: [any Command.Type]
}

extension ParameterGroup {
    /// The group's values among the words of a line still being typed (completion): what it
    /// does not know it passes over, and a value that does not convert is left unset.
    public static func recognized(in words: [String]) -> Self {
        var group = Self()
        let named = parameters.flatMap(\.flattened).filter { $0.kind == .option || $0.kind == .flag }
        guard let scanned = try? Scanner(named: named).scan(words[...], path: nil) else { return group }
        for (index, value) in scanned.values { _ = named[index].assign(&group, value) }
        return group
    }
}
