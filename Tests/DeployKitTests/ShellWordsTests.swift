import Testing
@testable import DeployKit
import TestSupport

/// What doctor and the rollback preflight take for the programs of a `shell:` script.
@Suite struct ShellWordsTests {
    @Test(arguments: [
        ("set -e\nPGAPPNAME=doctor psql -c 'select 1' | grep -q 1 && no-such-tool --check", ["psql", "grep", "no-such-tool"]),
        ("alembic upgrade head 2>&1 | tee log", ["alembic", "tee"]),
        ("echo x >&2; DATABASE_URL=postgresql://u@h/db alembic current", ["alembic"]),
        ("psql <<SQL\nCREATE TABLE x ();\nSQL\ncurl -fsS http://x", ["psql", "curl"]),
        ("cat <<-'EOF'\n\tbody text\n\tEOF\nmake deploy", ["cat", "make"]),
        ("v=$(git rev-parse HEAD) && deploy --rev \"$v\"", ["deploy"]),
        ("for f in *.sql; do psql -f \"$f\"; done", ["psql"]),
        ("test -f x || exit 1", []),
        ("exec gunicorn app:app > /var/log/app.log 2>&1 &", ["gunicorn"]),
        ("(cd db && alembic upgrade head) # a comment: rm -rf /", ["alembic"]),
        ("PYTHONPATH=./src ./scripts/migrate.sh `date`", ["./scripts/migrate.sh"]),
        ("if curl -fsS \"$URL\" > /dev/null; then echo up; else systemctl restart app; fi", ["curl", "systemctl"]),
    ])
    func programsOfAScript(script: String, programs: [String]) {
        #expect(ShellWords.commands(in: script) == programs, "\(script)")
    }
}

/// What `plan` and the reports print for a step's argv, for a person to paste into a shell.
@Suite struct ShellQuoteTests {
    /// Each word, quoted and read back by a real `sh`, is the word again: a `'` is escaped even
    /// when a combining mark follows it (Foundation's replacingOccurrences left that one alone,
    /// and the pasted line ended its quote there).
    @Test(arguments: ["it's", "a'\u{301}b", "'", "''", "", "two words", "$HOME", "`id`", "é'x", "tab\tnew\nline", "x;exit 7", "=ls", "A=b", "•'•"])
    func aShellReadsTheWordBack(_ word: String) throws {
        let quoted = ShellQuote.quote(word)
        #expect(try Shell.run("sh", ["-c", "printf %s \(quoted)"]) == word, "\(quoted)")
    }

    @Test(arguments: ["deploy", "--rev=abc123", "a/b.c:d,e@f%g+h", "step•1", "0-9_Z"])
    func aPlainWordStaysBare(_ word: String) {
        #expect(ShellQuote.quote(word) == word)
    }

    /// zsh expands a word that starts with `=` to a path (`=ls`), and a first word with `=` in it
    /// pastes as a variable assignment, not a command.
    @Test func wordsAShellWouldReadOtherwiseAreQuoted() {
        #expect(ShellQuote.quote("=ls") == "'=ls'")
        #expect(ShellQuote.join(["A=b", "--x=y"]) == "'A=b' --x=y")
    }
}
