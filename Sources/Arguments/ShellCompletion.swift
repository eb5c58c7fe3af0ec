/// Completion on Tab: each shell's script passes the words typed so far back to the program
/// (`PROGRAM __complete WORD… CURRENT`), which answers one candidate a line. All the knowledge
/// stays in the program: the scripts are the same for every command.
public enum ShellCompletion {
    public enum Shell: String, CaseIterable, ArgumentValue, Sendable {
        case bash, zsh, fish
    }

    /// The hidden word the scripts call the program back with.
    public static let request = "__complete"
    /// The one line that asks the shell for its own file name completion.
    public static let filesDirective = ":files"

    /// `words`: what follows the program name, the last one being the word under completion
    /// (empty when Tab follows a space).
    public static func candidates(_ root: any Command.Type, _ words: [String]) -> [String] {
        // bash splits a word at `=` and `:` (`--format=j` arrives as `--format` `=` `j`) and
        // replaces only what follows the last break: candidates are computed for the whole
        // word, then given back without the part bash keeps.
        var earlier = words.dropLast()
        var current = words.last ?? ""
        var kept = ""
        if !current.isEmpty {
            while let previous = earlier.last, isWordBreak(previous) || isWordBreak(String(current.prefix(1))) {
                current = previous + current
                earlier = earlier.dropLast()
            }
            if let lastBreak = current.lastIndex(where: { $0 == "=" || $0 == ":" }), words.count - earlier.count > 1 {
                kept = String(current[...lastBreak])
            }
        }
        let typed = joiningWordBreaks(Array(earlier))
        return unsplit(candidates(root, typed: typed, current: current), kept: kept)
    }

    /// A lone `=` or `:`: where bash split a word.
    private static func isWordBreak(_ word: String) -> Bool { word == "=" || word == ":" }

    /// The candidates bash can use: those that go on from what it keeps, without it.
    private static func unsplit(_ candidates: [String], kept: String) -> [String] {
        guard !kept.isEmpty else { return candidates }
        return candidates.compactMap { $0 == filesDirective ? $0 : $0.hasPrefix(kept) ? String($0.dropFirst(kept.count)) : nil }
    }

    private static func candidates(_ root: any Command.Type, typed: [String], current: String) -> [String] {
        // `help COMMAND…`: commands only.
        if typed.first == "help" {
            let (path, rest) = Parser.walk(root, typed.dropFirst())
            return rest.isEmpty ? subcommandNames(path.last!, prefix: current) : []
        }
        let (path, rest) = Parser.walk(root, typed[...])
        let configuration = path.last!.configuration
        guard !configuration.subcommands.isEmpty else { return path.last!.candidates(rest, current: current, line: typed) }
        let fallback = configuration.defaultSubcommand.map { $0.candidates(rest, current: current, line: typed) } ?? []
        guard rest.isEmpty else { return fallback }
        let names = current.hasPrefix("-") ? (path.count == 1 ? ["--help", "--version"] : ["--help"]).filter { $0.hasPrefix(current) }
            : subcommandNames(path.last!, prefix: current)
        // The default subcommand's answers too (`review <Tab>`: run ids), unless it asks for files.
        return names + fallback.filter { !names.contains($0) && $0 != filesDirective }
    }

    private static func subcommandNames(_ command: any Command.Type, prefix: String) -> [String] {
        command.configuration.subcommands.map { $0.configuration.name }.filter { $0.hasPrefix(prefix) }
    }

    /// `typed`: the command's words before the one being completed; `line`: every word typed.
    static func candidates<C: Command>(_ type: C.Type, _ typed: ArraySlice<String>, current: String, line: [String]) -> [String] {
        let parameters = C.parameters.flatMap(\.flattened).filter { !$0.help.isHidden }
        let scanner = Scanner(named: parameters.filter { $0.kind == .option || $0.kind == .flag })
        func option(_ name: String) -> Parameter<C>? {
            scanner.index(of: name).map { scanner.named[$0] }.flatMap { $0.kind == .option ? $0 : nil }
        }
        // `--format=j` (zsh, fish), or `--format` `=` `j` as bash splits it.
        if current.hasPrefix("--"), let equals = current.firstIndex(of: "=") {
            guard let option = option(String(current[..<equals])) else { return [] }
            let prefix = String(current[...equals])
            return values(option, String(current[current.index(after: equals)...]), line).map { $0 == filesDirective ? $0 : prefix + $0 }
        }
        guard let scanned = try? scanner.scan(typed, path: nil) else { return [] }
        if let waiting = scanned.awaitingValue { return values(scanner.named[waiting], current, line) }
        if current.hasPrefix("-") {
            return (scanner.named.flatMap(\.names) + ["--help"]).filter { $0.hasPrefix(current) }
        }
        let arguments = parameters.filter { $0.kind == .argument }
        let position = scanned.positional.count
        guard let argument = position < arguments.count ? arguments[position] : arguments.last(where: \.repeats) else { return [] }
        return values(argument, current, line)
    }

    private static func values<Root>(_ parameter: Parameter<Root>, _ prefix: String, _ words: [String]) -> [String] {
        if !parameter.choices.isEmpty { return parameter.choices.filter { $0.hasPrefix(prefix) } }
        switch parameter.completion {
        case .none: return []
        case .files: return [filesDirective]
        case .custom(let compute): return compute(words, prefix)
        }
    }

    /// bash splits words at `=` and `:` (`--state=DIR`, `KEY=VALUE`, `postgres://h:5432/db`);
    /// the parser's view of the words before the current one is one word each.
    private static func joiningWordBreaks(_ words: [String]) -> [String] {
        var joined: [String] = []
        var index = 0
        while index < words.count {
            if words[index] == "=" || words[index] == ":", let previous = joined.last {
                joined[joined.count - 1] = previous + words[index] + (index + 1 < words.count ? words[index + 1] : "")
                index += 2
            } else {
                joined.append(words[index])
                index += 1
            }
        }
        return joined
    }

    /// The script `PROGRAM completion SHELL` prints.
    public static func script(for shell: Shell, program: String) -> String {
        let function = "_" + program.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
        switch shell {
        case .bash:
            // Readline replaces only what follows the last `=` or `:`, the word bash hands over.
            return """
                # bash completion for \(program): source <(\(program) completion bash)
                \(function)() {
                    local cur="${COMP_WORDS[COMP_CWORD]}"
                    [[ $cur == "=" || $cur == ":" ]] && cur=""
                    local -a candidates
                    mapfile -t candidates < <(\(program) \(request) "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
                    if [[ ${#candidates[@]} -eq 1 && ${candidates[0]} == "\(filesDirective)" ]]; then
                        compopt -o filenames 2>/dev/null
                        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                    else
                        COMPREPLY=("${candidates[@]}")
                    fi
                }
                complete -F \(function) \(program)

                """
        case .zsh:
            return """
                #compdef \(program)
                # zsh completion for \(program): \(program) completion zsh > "${fpath[1]}/_\(program)"
                \(function)() {
                    setopt localoptions extendedglob
                    local -a candidates
                    candidates=("${(@f)$(\(program) \(request) "${(@)words[2,CURRENT]}" 2>/dev/null)}")
                    if [[ "${candidates[1]}" == "\(filesDirective)" ]]; then
                        compset -P '--[^=]##='
                        _files
                    else
                        compadd -- "${(@)candidates:#}"
                    fi
                }
                if [[ "${funcstack[1]}" == "\(function)" ]]; then
                    \(function) "$@"
                elif (( $+functions[compdef] )); then
                    compdef \(function) \(program)
                fi

                """
        case .fish:
            return """
                # fish completion for \(program): \(program) completion fish > ~/.config/fish/completions/\(program).fish
                function \(function)
                    set -l words (commandline -opc)
                    set -e words[1]
                    set -l current (commandline -ct)
                    set -l candidates (\(program) \(request) $words $current 2>/dev/null)
                    if test "$candidates[1]" = "\(filesDirective)"
                        # `--state=DIR`: file names after the option's `=`.
                        set -l option (string match -r -- '^--[^=]*=' $current)
                        for path in (__fish_complete_path (string replace -r -- '^--[^=]*=' '' $current))
                            echo "$option$path"
                        end
                    else
                        printf '%s\\n' $candidates
                    end
                end
                complete -c \(program) -f -a '(\(function))'

                """
        }
    }
}

extension Command {
    static func candidates(_ typed: ArraySlice<String>, current: String, line: [String]) -> [String] {
        ShellCompletion.candidates(Self.self, typed, current: current, line: line)
    }
}
