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
        let taken = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
        let path = try #require(taken["path"] as? String)
        #expect(taken["size"] as? Int == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue, "a number")
        #expect(taken["sha256"] as? String == (try Shell.run("sha256sum", [path])).split(separator: " ").first.map(String.init))
        #expect((taken["restore"] as? String)?.contains("psql") == true)
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

    /// The app's "release" is a file the deploy writes; verify reads the database.
    static func app(_ version: String, verify: String, onRollback: String? = nil) -> String {
        """
        \(PostgresFixture.stackPreamble)
        \(onRollback.map { "  on_rollback: \($0)" } ?? "")
        phases:
          migrate:
            - name: alembic-upgrade
              dir: db
              run: ["${inputs.alembic}", upgrade, head]
          deploy:
            - name: release
              run: [sh, -c, "echo \(version) > $DEPLOYCTL_STATE/release"]
              rollback: [sh, -c, "echo undone-\(version) > $DEPLOYCTL_STATE/release"]
          verify:
            - name: smoke
              run: [/usr/lib/postgresql/15/bin/psql, -X, -v, ON_ERROR_STOP=1, -Atc, "\(verify)"]
        rollback:
          - name: release-again
            run: [sh, -c, "echo \(version) > $DEPLOYCTL_STATE/release"]
        """
    }

    /// One failing revision (a migration adding a table with a foreign key, then a verify that
    /// fails), run from CI: stdin closed, no terminal, no --yes. Whatever the policy, the
    /// rollback runs and the environment ends good; only the database differs, as declared.
    @Test(arguments: ["restore", "keep", "ask"])
    func aFailedRevisionWithNobodyToAskEndsAsTheStackDeclares(policy: String) throws {
        let pg = try PostgresFixture()
        let alembic = try TestVenv.tool("alembic")
        var files = try AlembicFiles.files(["0001_accounts.py"])
        files["stacks/x/prod.yaml"] = Self.app("v1", verify: "select count(*) from accounts", onRollback: policy)
        let stack = try StackFixture(files["stacks/x/prod.yaml"]!, files: files)
        stack.environment["TEST_PGPASSWORD"] = pg.password
        let inputs = ["--input", "pg_port=\(pg.port)", "--input", "alembic=\(alembic)"]
        #expect(try stack.run(["up", "prod"] + inputs).status == 0)
        let before = try pg.snapshot()

        var next = try AlembicFiles.files(["0002_logins.py"])
        next["stacks/x/prod.yaml"] = Self.app("v2", verify: "select no_such_column from logins", onRollback: policy)
        try stack.git.commit("logins, and a verify that fails", files: next)
        let failed = try stack.run(["up", "prod"] + inputs)
        #expect(failed.status == 1, "the deploy failed: \(failed.stdout)\(failed.stderr)")
        #expect(failed.stdout.contains("✓ rollback x/prod at"), "the rollback ran to the end: \(failed.stdout)")
        #expect(try String(contentsOfFile: stack.state.path + "/release", encoding: .utf8) == "v1\n")
        let version = try pg.psql("select version_num from alembic_version", database: "app")
        if policy == "keep" {
            #expect(failed.stdout.contains("database: keep the database as the migrations left it (on_rollback: keep)"))
            #expect(version == "0002")
            #expect(try pg.psql("select count(*) from logins", database: "app") == "3", "kept: nothing written since is lost")
        } else {
            #expect(failed.stdout.contains(policy == "ask" ? "(on_rollback: ask with no terminal to ask restores)" : "(on_rollback: restore)"))
            #expect(failed.stdout.contains("✓ rollback/backup.check"))
            #expect(version == "0001")
            #expect(try pg.snapshot() == before, "restored exactly, the foreign-key table included")
        }
        let status = try #require(try JSONSerialization.jsonObject(with: Data(try stack.run(["status", "prod", "--format", "json"]).stdout.utf8)) as? [String: Any])
        #expect(status["state"] as? String == "deployed")
        #expect(try stack.stateFiles(containing: pg.password).isEmpty)
    }

    /// A restore that fails part-way (a role the dump needs was dropped) leaves the database
    /// exactly as it was before the restore began, and status says the environment is degraded.
    @Test func aFailedRestoreLeavesTheDatabaseAsItWasAndStatusSaysDegraded() throws {
        let pg = try PostgresFixture()
        let alembic = try TestVenv.tool("alembic")
        try pg.psql("CREATE ROLE app_owner")
        var files = try AlembicFiles.files(["0001_accounts.py"])
        files["stacks/x/prod.yaml"] = Self.app("v1", verify: "select count(*) from accounts", onRollback: "restore")
        let stack = try StackFixture(files["stacks/x/prod.yaml"]!, files: files)
        stack.environment["TEST_PGPASSWORD"] = pg.password
        let inputs = ["--input", "pg_port=\(pg.port)", "--input", "alembic=\(alembic)"]
        #expect(try stack.run(["up", "prod"] + inputs).status == 0)
        try pg.psql("ALTER TABLE accounts OWNER TO app_owner", database: "app")

        var next = try AlembicFiles.files(["0002_logins.py"])
        next["stacks/x/prod.yaml"] = Self.app("v2", verify: "select no_such_column from logins", onRollback: "restore")
        try stack.git.commit("logins, and a verify that fails", files: next)
        let failed = try stack.run(["up", "prod", "--no-rollback"] + inputs)
        #expect(failed.status == 1)
        let upRun = try stack.requireLastRunID()
        let degraded = try #require(try JSONSerialization.jsonObject(with: Data(try stack.run(["status", "prod", "--format", "json"]).stdout.utf8)) as? [String: Any])
        #expect(degraded["state"] as? String == "degraded")
        #expect(degraded["deployed_revision"] is NSNull, "never the previous revision as deployed")
        #expect((degraded["degraded"] as? [String: Any])?["database"] as? String == "migrated")
        #expect((degraded["degraded"] as? [String: Any])?["changed"] as? [String] == ["migrate/alembic-upgrade", "deploy/release"])

        // The role the dump gives the table to is gone: the restore stops at its first error.
        try pg.psql("REASSIGN OWNED BY app_owner TO postgres; DROP ROLE app_owner", database: "app")
        let beforeRestore = try pg.snapshot()
        let rollback = try stack.run(["rollback", "prod"])
        #expect(rollback.status == 1, "\(rollback.stdout)\(rollback.stderr)")
        #expect(rollback.stdout.contains("✗ rollback/backup.restore"))
        #expect(try pg.snapshot() == beforeRestore, "nothing of the restore stayed: one transaction")
        #expect(try pg.psql("select version_num from alembic_version", database: "app") == "0002")
        let status = try stack.run(["status", "prod"])
        #expect(status.stdout.contains("DEGRADED — rollback"), "\(status.stdout)")
        #expect(status.stdout.contains("database: restore failed"))
        #expect(status.stdout.contains("undone: rollback/undo.release, rollback/release-again"))
        #expect(status.stdout.contains("next: after fixing what stopped it: deployctl rollback x/prod --to"))

        // Fixed, the same rollback finishes.
        try pg.psql("CREATE ROLE app_owner")
        let again = try stack.run(["rollback", "prod"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(try pg.psql("select version_num from alembic_version", database: "app") == "0001")
        #expect(try stack.show(upRun)["status"] as? String == "rolled_back")
    }
}
