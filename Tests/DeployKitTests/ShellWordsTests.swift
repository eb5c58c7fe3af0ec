import Testing
@testable import DeployKit

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
