/// The programs a shell script starts, as far as its text says without running it: the first
/// word of each simple command (after `;`, `&&`, `||`, `|`, `&`, newlines), skipping variable
/// assignments, redirections and their files, here-document bodies, shell keywords and
/// builtins. Words made at run time (`$VAR`, `$(…)`, `` `…` ``) are left alone: they are only
/// known when the script runs. For doctor and the rollback preflight; a heuristic, not a parser.
enum ShellWords {
    static let builtins: Set<String> = [
        "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "in", "function",
        "{", "}", "!", "[[", "]]", "[", "test", "echo", "printf", "cd", "set", "unset", "export", "read", "exit",
        "return", "true", "false", ":", ".", "source", "eval", "exec", "trap", "wait", "shift", "local", "readonly", "umask",
        "ulimit", "command", "type", "hash", "alias", "times", "kill", "pwd", "getopts", "break", "continue",
    ]

    private enum Token: Equatable {
        case word(String)
        /// `;`, `&&`, `||`, `|`, `&`, a newline, `(`, `)`: a new command may follow.
        case separator
        /// `>`, `2>&1`, `<`, …: the next word is a file (or nothing, after `>&N`).
        case redirection(takesWord: Bool)
    }

    static func commands(in script: String) -> [String] {
        var programs: [String] = []
        var expectCommand = true, skipNextWord = false
        for token in tokens(script) {
            switch token {
            case .separator:
                expectCommand = true
                skipNextWord = false
            case .redirection(let takesWord):
                skipNextWord = takesWord
            case .word(let word):
                if skipNextWord { skipNextWord = false; continue }
                guard expectCommand else { continue }
                if isAssignment(word) { continue }  // VAR=value before a command
                // Words after which a command follows.
                if ["if", "while", "until", "then", "do", "else", "elif", "!", "{", "exec", "command", "time"].contains(word) { continue }
                expectCommand = false
                if builtins.contains(word) || word.contains("$") || word.contains("`") || word.hasPrefix("-") { continue }
                programs.append(word)
            }
        }
        return programs
    }

    private static func isAssignment(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        let name = word[..<equals]
        return name.first.map { $0 == "_" || $0.isLetter } == true && name.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
    }

    /// Words (quotes removed, `$(…)` and `` `…` `` kept inside them), separators, redirections;
    /// comments and here-document bodies dropped.
    private static func tokens(_ script: String) -> [Token] {
        var tokens: [Token] = [], word = "", inWord = false
        var pendingHereDocs: [(delimiter: String, stripTabs: Bool)] = []
        let c = Array(script)
        var i = 0
        func flush() { if inWord { tokens.append(.word(word)); word = ""; inWord = false } }
        func peek(_ offset: Int = 1) -> Character? { i + offset < c.count ? c[i + offset] : nil }
        while i < c.count {
            let ch = c[i]
            switch ch {
            case "'", "\"":
                inWord = true
                i += 1
                while i < c.count, c[i] != ch {
                    if ch == "\"", c[i] == "\\", i + 1 < c.count { i += 1 }
                    word.append(c[i]); i += 1
                }
            case "\\":
                if peek() == "\n" { i += 1 } else if let next = peek() { word.append(next); inWord = true; i += 1 }
            case "`":
                // Command substitution: part of the word, and known only at run time.
                inWord = true
                word.append(ch)
                i += 1
                while i < c.count, c[i] != "`" { word.append(c[i]); i += 1 }
                word.append("`")
            case "$" where peek() == "(":
                inWord = true
                var depth = 0
                while i < c.count {
                    if c[i] == "(" { depth += 1 } else if c[i] == ")" { depth -= 1 }
                    word.append(c[i])
                    if depth == 0, c[i] == ")" { break }
                    i += 1
                }
            case "#" where !inWord:
                while i < c.count, c[i] != "\n" { i += 1 }
                continue
            case " ", "\t":
                flush()
            case "\n":
                flush()
                tokens.append(.separator)
                // Here-document bodies follow the line that opened them.
                for doc in pendingHereDocs {
                    while i + 1 < c.count {
                        var end = i + 1
                        while end < c.count, c[end] != "\n" { end += 1 }
                        var line = String(c[(i + 1)..<end])
                        if doc.stripTabs { line = String(line.drop { $0 == "\t" }) }
                        i = end
                        if line == doc.delimiter { break }
                    }
                }
                pendingHereDocs = []
            case ";", "(", ")":
                flush()
                tokens.append(.separator)
            case "|":
                flush()
                if peek() == "|" { i += 1 }
                tokens.append(.separator)
            case "&":
                flush()
                if peek() == "&" { i += 1; tokens.append(.separator) }
                else if peek() == ">" { i += 1; if peek() == ">" { i += 1 }; tokens.append(.redirection(takesWord: true)) }
                else { tokens.append(.separator) }
            case ">", "<":
                // A file-descriptor number right before it (`2>`) belongs to the redirection.
                if inWord, word.allSatisfy(\.isNumber) { word = ""; inWord = false } else { flush() }
                if ch == "<", peek() == "<" {
                    i += 1
                    var stripTabs = false
                    if peek() == "-" { i += 1; stripTabs = true }
                    while peek() == " " || peek() == "\t" { i += 1 }
                    var delimiter = ""
                    while let next = peek(), !" \t\n;|&<>".contains(next) {
                        i += 1
                        if next != "'" && next != "\"" && next != "\\" { delimiter.append(next) }
                    }
                    pendingHereDocs.append((delimiter, stripTabs))
                    tokens.append(.redirection(takesWord: false))
                } else {
                    if peek() == ch || peek() == "|" { i += 1 }
                    if peek() == "&" {
                        i += 1
                        while let next = peek(), next.isNumber || next == "-" { i += 1 }
                        tokens.append(.redirection(takesWord: false))
                    } else {
                        tokens.append(.redirection(takesWord: true))
                    }
                }
            default:
                word.append(ch)
                inWord = true
            }
            i += 1
        }
        flush()
        return tokens
    }
}
