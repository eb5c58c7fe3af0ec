import CSQLite

/// Schema changes applied once each, in the order registered, each in its own transaction with
/// the record that it ran. The record is the table GRDB's migrator kept (`grdb_migrations`, same
/// name and shape): a database written while deployctl used GRDB opens as it is.
public struct SQLiteMigrator {
    private var migrations: [(identifier: String, migrate: (SQLiteDatabase) throws -> Void)] = []

    public init() {}

    public mutating func register(_ identifier: String, _ migrate: @escaping (SQLiteDatabase) throws -> Void) {
        migrations.append((identifier, migrate))
    }

    public func migrate(_ connection: SQLiteConnection) throws {
        // Every open comes here: when all is applied, one read and no write (a read-only role).
        let applied = try connection.read { database in
            try database.fetchOne("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'") { $0.next() as Int } == 1
                ? Set(try database.fetchAll("SELECT identifier FROM grdb_migrations") { $0.next() as String })
                : []
        }
        let pending = migrations.filter { !applied.contains($0.identifier) }
        guard !pending.isEmpty else { return }
        // As GRDB did: foreign keys off while migrations run (a table rebuilt by DROP TABLE would
        // otherwise take the rows that reference it with it), checked before each commits.
        let keys = try connection.withoutTransaction { try $0.fetchOne("PRAGMA foreign_keys") { $0.next() as Int } } ?? 0
        try connection.withoutTransaction { try $0.execute("PRAGMA foreign_keys = OFF") }
        defer { _ = try? connection.withoutTransaction { try $0.execute("PRAGMA foreign_keys = \(keys)") } }
        for migration in pending {
            try connection.write { database in
                try database.execute("CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                // Another process may have applied it since the read: the write lock decides.
                let done = try database.fetchOne("SELECT 1 FROM grdb_migrations WHERE identifier = ?", [migration.identifier]) { $0.next() as Int }
                guard done == nil else { return }
                try migration.migrate(database)
                if let table = try database.fetchOne("PRAGMA foreign_key_check", [], { $0.next() as String }) {
                    throw SQLiteError(code: SQLITE_CONSTRAINT, message: "migration '\(migration.identifier)' left rows in \(table) that reference nothing", sql: nil)
                }
                try database.execute("INSERT INTO grdb_migrations (identifier) VALUES (?)", [migration.identifier])
            }
        }
    }
}
