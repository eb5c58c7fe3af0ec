import Foundation
import Testing
import TestSupport

/// Migrate with backup against a real PostgreSQL 15, pg_dump/pg_restore and alembic.
@Suite(.serialized) struct BackupTests {
    static func descriptor(smokeExpect: String) -> String {
        """
        \(PostgresFixture.stackPreamble)
        phases:
          migrate:
            - name: alembic-upgrade
              dir: db
              run: ["${inputs.alembic}", upgrade, head]
            - name: smoke-query
              run: [/usr/lib/postgresql/15/bin/psql, -X, -v, ON_ERROR_STOP=1, -Atc, "select count(*) from accounts"]
              expect: {stdout_matches: '\(smokeExpect)'}
        """
    }

    func files(_ versions: [String]) throws -> [String: String] {
        try AlembicFiles.files(versions)
    }

    @Test func aFailedMigrationRestoresTheBackupAndAGoodOneJournalsIt() throws {
        let pg = try PostgresFixture()
        let alembic = try TestVenv.tool("alembic")
        let stack = try StackFixture(Self.descriptor(smokeExpect: "^3$"), files: try files(["0001_accounts.py"]))
        stack.environment["TEST_PGPASSWORD"] = pg.password
        let inputs = ["--input", "pg_port=\(pg.port)", "--input", "alembic=\(alembic)"]

        let first = try stack.run(["up", "prod"] + inputs)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let before = try pg.snapshot()
        #expect(try pg.psql("select version_num from alembic_version", database: "app") == "0001")

        // Revision 2: migration 0002 lands, then the smoke query fails: restore the backup.
        let migration = try files(["0001_accounts.py", "0002_emails.py"]).filter { $0.key.hasSuffix("0002_emails.py") }
        try stack.git.commit("Add emails; smoke query too strict", files: migration.merging(
            ["stacks/x/prod.yaml": Self.descriptor(smokeExpect: "^99$")]) { a, _ in a })
        let failed = try stack.run(["up", "prod"] + inputs)
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("✓ migrate/alembic-upgrade"))
        #expect(failed.stdout.contains("✗ migrate/smoke-query"))
        #expect(failed.stdout.contains("▶ migrate/backup.restore"))
        #expect(failed.stdout.contains("the backup taken before the migration was restored"))
        #expect(try pg.snapshot() == before, "schema and rows must be exactly as before the run")
        #expect(try pg.psql("select version_num from alembic_version", database: "app") == "0001")
        let failedRun = try stack.requireLastRunID()
        let events = try Shell.run("sqlite3", [stack.journal, "SELECT kind FROM events WHERE run_id = '\(failedRun)' ORDER BY id"])
        #expect(events.contains("backup_taken") && events.contains("backup_restored"))

        // Revision 3: the fixed check passes; the backup is journaled with size and checksum.
        try stack.git.commit("Fix the smoke query", files: ["stacks/x/prod.yaml": Self.descriptor(smokeExpect: "^3$")])
        let good = try stack.run(["up", "prod"] + inputs)
        #expect(good.status == 0, "\(good.stdout)")
        #expect(try pg.psql("select version_num from alembic_version", database: "app") == "0002")
        #expect(try pg.psql("select email from accounts order by id limit 1", database: "app") == "ada@example.test")
        let runID = try stack.requireLastRunID()
        let data = try Shell.run("sqlite3", [stack.journal, "SELECT data FROM events WHERE run_id = '\(runID)' AND kind = 'backup_taken'"])
        let taken = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: String])
        let path = try #require(taken["path"])
        #expect(taken["size"] == "\((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1)")
        #expect(taken["sha256"] == (try Shell.run("sha256sum", [path])).split(separator: " ").first.map(String.init))
        #expect(taken["restore"]?.contains("pg_restore --clean --if-exists") == true)
        #expect(try Shell.run(PostgresFixture.bin + "/pg_restore", ["--list", path]).contains("TABLE public accounts"))

        #expect(try stack.stateFiles(containing: pg.password).isEmpty, "the database password leaked into the state directory")
        for output in [first, failed, good] { #expect(!output.stdout.contains(pg.password)) }
    }

    @Test func aBackupThatDoesNotVerifyStopsBeforeAnyMigration() throws {
        let stack = try StackFixture("""
            backup:
              take: [sh, -c, "echo data > $1", sh, "${backup.path}"]
              verify: [sh, -c, "echo corrupt >&2; exit 1"]
              restore: [\"true\"]
            phases:
              migrate:
                - name: migrate
                  run: [touch, /tmp/deployctl-must-not-exist-\(UUID().uuidString)]
            """)
        let result = try stack.run(["up", "prod"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("backup.verify failed; no migration ran"))
        #expect(!result.stdout.contains("▶ migrate/migrate"))
    }
}
