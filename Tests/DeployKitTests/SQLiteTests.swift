import Foundation
import SQLite
import Testing
import TestSupport

/// The small API the journal reads SQLite through: values that come back as they went in,
/// statements that refuse what SQLite would pass over, migrations that run once and whole.
@Suite struct SQLiteTests {
    static func connection() throws -> (SQLiteConnection, URL) {
        let dir = try TemporaryDirectory.make(prefix: "sqlite")
        return (try SQLiteConnection(path: dir.path + "/db.sqlite3", busyTimeoutMilliseconds: 1_000), dir)
    }

    @Test func valuesComeBackAsTheyWentIn() throws {
        let (db, dir) = try Self.connection()
        defer { try? FileManager.default.removeItem(at: dir) }
        try db.write { try $0.execute("CREATE TABLE t (a, b, c, d, e, f, g, h)") }
        let text = "nul \u{0} inside, ✓ and 'quotes'"
        let blob = Data([0, 1, 2, 255])
        try db.write {
            try $0.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           ["", text, Data(), blob, Int32.min, Int64(bitPattern: UInt64.max - 1), true, String?.none])
        }
        let row = try #require(try db.read {
            try $0.fetchOne("SELECT a, b, c, d, e, f, g, h FROM t") { column -> (String, String, Data, Data, Int32, UInt64, Bool, String?) in
                (column.next(), column.next(), column.next(), column.next(), column.next(), UInt64(bitPattern: column.next()),
                 column.next(), column.next())
            }
        })
        #expect(row.0 == "" && row.1 == text && row.2 == Data() && row.3 == blob)
        #expect(row.4 == Int32.min && row.5 == UInt64.max - 1 && row.6 && row.7 == nil)
    }

    @Test func aStatementRefusesWhatSQLiteWouldPassOver() throws {
        let (db, dir) = try Self.connection()
        defer { try? FileManager.default.removeItem(at: dir) }
        try db.write { try $0.execute("CREATE TABLE t (a, b)") }
        #expect(throws: SQLiteError.self) { try db.write { try $0.execute("INSERT INTO t VALUES (?, ?)", [1]) } }
        #expect(throws: SQLiteError.self) { try db.write { try $0.execute("INSERT INTO t VALUES (?, 1); DELETE FROM t", [1]) } }
        #expect(try db.read { try $0.fetchOne("SELECT count(*) FROM t") { $0.next() as Int } } == 0, "nothing was written")
    }

    /// `close` (the CLI's way out runs no deinit) copies the log back and empties it; the
    /// connection refuses anything after, and a second close does nothing.
    @Test func closeCopiesTheLogBackAndRefusesLaterUse() throws {
        let (db, dir) = try Self.connection()
        defer { try? FileManager.default.removeItem(at: dir) }
        try db.withoutTransaction { try $0.execute("PRAGMA journal_mode = WAL; PRAGMA journal_size_limit = 4194304") }
        db.keepWriteAheadLog()
        try db.write { try $0.execute("CREATE TABLE t (a); INSERT INTO t VALUES (1)") }
        let wal = dir.path + "/db.sqlite3-wal"
        func walSize() throws -> Int? { try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int }
        #expect(try walSize() ?? 0 > 0, "the write is in the log before the close")
        db.close()
        #expect(try walSize() == 0)
        db.close()
        #expect(throws: SQLiteError.self) { try db.read { try $0.fetchOne("SELECT count(*) FROM t") { $0.next() as Int } } }
        let again = try SQLiteConnection(path: dir.path + "/db.sqlite3", busyTimeoutMilliseconds: 1_000)
        #expect(try again.read { try $0.fetchOne("SELECT count(*) FROM t") { $0.next() as Int } } == 1)
    }

    @Test func aFailedTransactionLeavesNothing() throws {
        let (db, dir) = try Self.connection()
        defer { try? FileManager.default.removeItem(at: dir) }
        struct Stop: Error {}
        try db.write { try $0.execute("CREATE TABLE t (a)") }
        #expect(throws: Stop.self) {
            try db.write { database in
                try database.execute("INSERT INTO t VALUES (?)", [1])
                throw Stop()
            }
        }
        #expect(try db.read { try $0.fetchOne("SELECT count(*) FROM t") { $0.next() as Int } } == 0)
    }

    /// Migrations run with foreign keys off (a referenced table can be rebuilt), are checked
    /// before they commit, and each runs once.
    @Test func migrationsRunOnceWholeAndCheckedForDanglingReferences() throws {
        let (db, dir) = try Self.connection()
        defer { try? FileManager.default.removeItem(at: dir) }
        try db.withoutTransaction { try $0.execute("PRAGMA foreign_keys = ON") }
        var migrator = SQLiteMigrator()
        migrator.register("v1") { try $0.execute("CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p(id)); INSERT INTO p VALUES (1); INSERT INTO c VALUES (1)") }
        migrator.register("v2: p rebuilt") { try $0.execute("CREATE TABLE p2 (id INTEGER PRIMARY KEY, n); INSERT INTO p2 (id) SELECT id FROM p; DROP TABLE p; ALTER TABLE p2 RENAME TO p") }
        try migrator.migrate(db)
        try migrator.migrate(db)
        let count = { (sql: String) in try db.read { try $0.fetchOne(sql) { $0.next() as Int } } }
        #expect(try count("SELECT count(*) FROM c") == 1, "the referencing row survived the rebuild")
        #expect(try count("SELECT count(*) FROM grdb_migrations") == 2)
        #expect(try count("PRAGMA foreign_keys") == 1, "foreign keys are on again")

        migrator.register("v3: dangling") { try $0.execute("INSERT INTO c VALUES (2)") }
        #expect(throws: SQLiteError.self) { try migrator.migrate(db) }
        #expect(try count("SELECT count(*) FROM c") == 1, "the failed migration left nothing")
        #expect(try count("SELECT count(*) FROM grdb_migrations") == 2)
    }
}
