import Arguments
import Testing

/// The command-line grammar on a small tree of its own: what each word becomes, what is a
/// usage mistake, what help and completion say.
@Suite struct ArgumentsTests {
    enum Format: String, CaseIterable, ArgumentValue { case text, json }

    struct Place: ParameterGroup {
        var repo: String?
        var state: String?
        static var parameters: [Parameter<Self>] {
            [
                .option(\.repo, "--repo", help: Help("Where.", valueName: "path"), completion: .files),
                .option(\.state, "--state", help: "State.", completion: .files),
            ]
        }
        func validate() throws {
            if repo == "", state == "" { throw ValidationError("give --repo or --state a value") }
        }
    }

    struct Deploy: Command {
        static let configuration = CommandConfiguration(commandName: "deploy", abstract: "Deploy a target.")
        var place = Place()
        var format = Format.text
        var input: [String] = []
        var parallel: Int?
        var yes = false
        var hidden = false
        var target = ""
        var extra: [String] = []
        static var parameters: [Parameter<Self>] {
            [
                .group(\.place),
                .option(\.format, "--format", help: "text or json"),
                .option(\.input, "--input", short: "-i", help: "An input."),
                .option(\.parallel, "--parallel", help: "At most n."),
                .flag(\.yes, "--yes", help: "Answer yes."),
                .flag(\.hidden, "--secret-flag", help: .hidden),
                .argument(\.target, "target", help: "The target.", completion: .custom { _, prefix in ["prod", "staging"].filter { $0.hasPrefix(prefix) } }),
                .argument(\.extra, "extra", help: "More words."),
            ]
        }
        func run() async throws {}
    }

    struct Show: Command {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a run.")
        var place = Place()
        var run = ""
        static var parameters: [Parameter<Self>] {
            [.group(\.place), .argument(\.run, "run", help: "A run.", completion: .custom { _, _ in ["r1", "r2"] })]
        }
        func run() async throws {}
    }

    struct Move: Command {
        static let configuration = CommandConfiguration(commandName: "move", abstract: "Move.")
        var from = ""
        static var parameters: [Parameter<Self>] { [.option(\.from, "--from", required: true, help: "From where.")] }
        func run() async throws {}
    }

    struct Review: CommandGroup {
        static let configuration = CommandConfiguration(commandName: "review", abstract: "Review.", subcommands: [Show.self, Move.self],
                                                        defaultSubcommand: Show.self)
    }

    struct Tool: CommandGroup {
        static let configuration = CommandConfiguration(commandName: "tool", abstract: "A tool.", discussion: "First paragraph.\nSecond paragraph.",
                                                        version: "1.2.3", subcommands: [Deploy.self, Review.self])
    }

    func parse<C: Command>(_ words: String..., as type: C.Type) throws -> C {
        try #require(try Parser.parse(Tool.self, words) as? C)
    }

    func usageError(_ words: String...) -> UsageError? {
        do {
            _ = try Parser.parse(Tool.self, words)
            return nil
        } catch {
            return error as? UsageError
        }
    }

    @Test func optionsFlagsGroupsAndArgumentsInAnyOrder() throws {
        let deploy = try parse("deploy", "--yes", "prod", "--repo", "/r", "--format=json", "-i", "a=1", "--input", "b=2", "x", "--parallel", "4", as: Deploy.self)
        #expect(deploy.yes && deploy.target == "prod" && deploy.place.repo == "/r" && deploy.format == .json)
        #expect(deploy.input == ["a=1", "b=2"] && deploy.extra == ["x"] && deploy.parallel == 4)
        #expect(deploy.place.state == nil && !deploy.hidden)
        // After `--` every word is an argument; a negative number and `-` are arguments too.
        let dashed = try parse("deploy", "prod", "--", "--yes", "-5", "-", as: Deploy.self)
        #expect(!dashed.yes && dashed.extra == ["--yes", "-5", "-"])
        // A value that begins with '-' is given with '='.
        #expect(try parse("deploy", "prod", "--repo=-odd", as: Deploy.self).place.repo == "-odd")
        #expect(try parse("deploy", "prod", "--secret-flag", as: Deploy.self).hidden, "hidden is still accepted")
    }

    @Test func usageMistakesSayWhatIsWrong() throws {
        #expect(usageError("deploy")?.message == "Missing expected argument '<target>'")
        #expect(usageError("deploy", "prod", "--format", "yaml")?.message == "The value 'yaml' is invalid for '--format <format>'; one of: text, json")
        #expect(usageError("deploy", "prod", "--parallel", "four")?.message == "The value 'four' is invalid for '--parallel <parallel>'")
        #expect(usageError("deploy", "prod", "--repo")?.message == "Missing value for '--repo <path>'")
        #expect(usageError("deploy", "prod", "--repo", "--yes")?.message
                == "Missing value for '--repo <path>' (a value that begins with '-' is written --repo=VALUE)")
        #expect(usageError("deploy", "prod", "--yes=no")?.message == "'--yes' takes no value")
        #expect(usageError("deploy", "prod", "-x")?.note == "an argument that begins with '-' goes after '--'")
        #expect(usageError("--verison")?.misspelled?.candidates == ["--help", "--version"])
        #expect(try parse("deploy", "prod", "--", "-inf", as: Deploy.self).extra == ["-inf"])
        #expect(usageError("deploy", "prod", "-inf")?.message == "Unknown option '-inf'", "a number, not a word that reads as one")
        let unknown = try #require(usageError("deploy", "prod", "--yse"))
        #expect(unknown.message == "Unknown option '--yse'")
        #expect(unknown.misspelled?.word == "--yse" && unknown.misspelled?.candidates.contains("--yes") == true)
        #expect(unknown.misspelled?.candidates.contains("--secret-flag") == false, "hidden options are never suggested")
        #expect(Parser.commandLine(unknown.path) == "tool deploy")
        let command = try #require(usageError("deplyo"))
        #expect(command.message == "Unexpected argument 'deplyo'" && command.misspelled?.candidates == ["deploy", "review"])
        #expect(command.note == "the commands of tool: deploy, review")
        #expect(usageError("help", "deploy", "extra")?.message == "Unexpected argument 'extra' after help deploy")
        #expect(usageError("help", "revue")?.misspelled?.word == "revue")
        #expect(usageError("review", "move")?.message == "Missing expected argument '--from <from>'")
        #expect(usageError("deploy", "prod", "--repo", "", "--state", "")?.message == "give --repo or --state a value", "a group's validate()")
    }

    @Test func subcommandsHelpAndVersion() throws {
        #expect(try parse("review", "r1", as: Show.self).run == "r1", "a word that names no subcommand goes to the default one")
        #expect(try parse("review", "move", "--from", "a", as: Move.self).from == "a")
        #expect(throws: HelpRequest.self) { try Parser.parse(Tool.self, []) }
        #expect(throws: HelpRequest.self) { try Parser.parse(Tool.self, ["deploy", "prod", "--help"]) }
        #expect(throws: HelpRequest.self) { try Parser.parse(Tool.self, ["help", "review", "move"]) }
        // --help wins over a mistake anywhere before `--`, and after `--` it is a word.
        #expect(throws: HelpRequest.self) { try Parser.parse(Tool.self, ["deploy", "--bogus", "--help"]) }
        #expect(throws: HelpRequest.self) { try Parser.parse(Tool.self, ["deploy", "--repo", "--help"]) }
        #expect(try parse("deploy", "prod", "--", "--help", as: Deploy.self).extra == ["--help"])
        do {
            _ = try Parser.parse(Tool.self, ["--version"])
            Issue.record("--version parsed as a command")
        } catch let version as VersionRequest {
            #expect(version.version == "1.2.3")
        }
    }

    @Test func helpShowsUsageDefaultsAndWrapsToTheWidth() throws {
        let help = HelpText.render([Tool.self, Deploy.self], width: 50)
        #expect(help.contains("USAGE: tool deploy [--repo <path>]\n  [--state <state>] [--format <format>]\n"), "wrapped between items: \(help)")
        #expect(help.contains("  -i, --input <input> ...\n"), "a label too long for its column has a line of its own")
        #expect(help.contains("<target> [<extra> ...]"))
        #expect(HelpText.render([Tool.self, Deploy.self], width: 100).contains("text or json (values: text, json; default: text)"))
        #expect(!help.contains("secret-flag"))
        #expect(help.split(separator: "\n").allSatisfy { $0.count <= 50 }, "\(help)")
        #expect(HelpText.usage([Tool.self, Review.self, Move.self]) == "tool review move --from <from>", "a required option has no brackets")
        let root = HelpText.render([Tool.self], width: 80)
        #expect(root.contains("First paragraph.\n\nSecond paragraph."))
        #expect(root.contains("  deploy                  Deploy a target.") && root.contains("--version"))
        #expect(root.contains("show (default)") == false && HelpText.render([Tool.self, Review.self], width: 80).contains("show (default)"))
    }

    @Test func completionKnowsCommandsOptionsValuesAndArguments() {
        func complete(_ words: String...) -> [String] { ShellCompletion.candidates(Tool.self, words) }
        #expect(complete("") == ["deploy", "review"])
        #expect(complete("-") == ["--help", "--version"])
        #expect(complete("deploy", "--f") == ["--format"])
        #expect(complete("deploy", "--format", "") == ["text", "json"])
        #expect(complete("deploy", "--format=j") == ["--format=json"])
        #expect(complete("deploy", "--format", "=", "j") == ["json"], "as bash splits it")
        #expect(complete("deploy", "--format", "=") == ["text", "json"], "bash: Tab right after the '='")
        #expect(complete("deploy", "--input", "tag", "=", "v1", "") == ["prod", "staging"], "bash splits KEY=VALUE too")
        #expect(complete("deploy", "--input", "tag", "=") == [], "a value still being typed is not the target")
        #expect(complete("deploy", "--input", "tag", "=", "v") == [])
        #expect(complete("deploy", "--repo=") == [ShellCompletion.filesDirective])
        #expect(complete("review", "--repo", "") == [ShellCompletion.filesDirective], "the default subcommand's options, files included")
        #expect(complete("review", "move", "--from", "") == [])
        #expect(Place.recognized(in: ["deploy", "--yes", "--repo", "/r", "--bogus", "prod", "--state=/s"]).repo == "/r")
        #expect(Place.recognized(in: ["deploy", "--state=/s"]).state == "/s")
        #expect(complete("deploy", "--repo", "") == [ShellCompletion.filesDirective])
        #expect(complete("deploy", "") == ["prod", "staging"])
        #expect(complete("deploy", "--repo", "/r", "st") == ["staging"], "an option's value is not an argument")
        #expect(complete("deploy", "prod", "") == [], "the second argument has no completion")
        #expect(complete("review", "") == ["show", "move", "r1", "r2"], "subcommands, then what the default one takes")
        #expect(complete("help", "re") == ["review"])
        #expect(complete("deploy", "--secret") == [], "hidden options are not offered")
    }
}
