import Foundation
import Postgres

/// The store's schema: created on first use, migrated in order under an advisory lock (two
/// first commands at once: one creates, the other waits), never read or written when newer.
extension PostgresStore {
    public enum OpenError: Error, CustomStringConvertible {
        case newerSchema(found: Int, shown: String, schema: String)
        case cannotCreate(String, shown: String, schema: String)

        public var description: String {
            switch self {
            case let .newerSchema(found, shown, schema):
                return "the store \(shown) has schema \(schema) at version \(found); this deployctl knows versions up to \(PostgresStore.schemaVersion) and will not read or write a newer one"
            case let .cannotCreate(why, shown, schema):
                return "the store \(shown) has no deployctl schema \(schema) at version \(PostgresStore.schemaVersion), and this role cannot create it: \(why)"
            }
        }

        var exitStatus: ExitStatus { .refused }

        var next: [String] {
            switch self {
            case .newerSchema: return ["upgrade deployctl to the version that wrote it (deployctl --version)"]
            case .cannotCreate: return ["run any deployctl command once with the writer role (README: \"A shared store (PostgreSQL)\", Roles)"]
            }
        }
    }

    static func prepareSchema(_ connection: Connection, schema: String, shown: String) throws {
        let found = try version(connection, schema: schema)
        if found > schemaVersion { throw OpenError.newerSchema(found: found, shown: shown, schema: schema) }
        if found == schemaVersion { return }
        do {
            try connection.transaction { tx in
                // A migration may rewrite a large journal, and waits for another's: the session's
                // bounds (`connectionString`) are widened for this transaction only.
                try tx.query("SET LOCAL statement_timeout = '30min'")
                try tx.query("SET LOCAL lock_timeout = '10min'")
                // Two first commands at once: one creates, the other waits and finds it done.
                try tx.query("SELECT pg_advisory_xact_lock($1)", [String(advisoryKey("\(schema)/migrate"))])
                try tx.query("CREATE SCHEMA IF NOT EXISTS \(schema)")
                try tx.query("CREATE TABLE IF NOT EXISTS \(schema).meta (key text PRIMARY KEY, value text NOT NULL)")
                let now = Int(try tx.query("SELECT value FROM \(schema).meta WHERE key = 'version'").first?["value"] ?? "0") ?? 0
                if now > schemaVersion { throw OpenError.newerSchema(found: now, shown: shown, schema: schema) }
                for (index, migration) in migrations(schema).enumerated() where index + 1 > now {
                    // One statement per call (the extended protocol takes no more).
                    for statement in migration.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        try tx.query(statement)
                    }
                }
                try tx.query("INSERT INTO \(schema).meta (key, value) VALUES ('version', $1) ON CONFLICT (key) DO UPDATE SET value = $1",
                             [String(schemaVersion)])
            }
        } catch let error as PostgresError where error.sqlState == "42501" {
            throw OpenError.cannotCreate(error.description, shown: shown, schema: schema)
        }
    }

    static func version(_ connection: Connection, schema: String) throws -> Int {
        do {
            let rows = try connection.query("SELECT value FROM \(schema).meta WHERE key = 'version'")
            return Int(rows.first?["value"] ?? "0") ?? 0
        } catch let error as PostgresError where error.sqlState == "42P01" || error.sqlState == "3F000" {
            return 0
        } catch let error as PostgresError where error.sqlState == "42501" {
            throw OpenError.cannotCreate(error.description, shown: connection.shown, schema: schema)
        }
    }

    /// One statement per version, applied in order; never edited once released.
    static func migrations(_ s: String) -> [String] {
        ["""
        CREATE TABLE \(s).runs (
            id text PRIMARY KEY, kind text NOT NULL, stack text NOT NULL, environment text NOT NULL, target text NOT NULL,
            revision text NOT NULL, revision_subject text NOT NULL, descriptor_blob text NOT NULL, inputs text NOT NULL,
            operator text NOT NULL, host text NOT NULL, pid integer NOT NULL, pid_start bigint NOT NULL,
            started_at double precision NOT NULL, ended_at double precision, status text NOT NULL, message text, related_run text);
        CREATE INDEX runs_by_target ON \(s).runs (target, started_at DESC, id DESC);
        CREATE INDEX runs_by_start ON \(s).runs (started_at DESC, id DESC);
        CREATE INDEX runs_by_target_kind ON \(s).runs (target, kind, started_at DESC, id DESC);
        CREATE INDEX runs_running ON \(s).runs (status) WHERE status = 'running';
        CREATE TABLE \(s).steps (
            id bigserial PRIMARY KEY, run_id text NOT NULL REFERENCES \(s).runs(id), phase text NOT NULL, name text NOT NULL,
            attempt integer NOT NULL, argv text NOT NULL, started_at double precision NOT NULL, ended_at double precision,
            exit_code integer, signal integer, status text NOT NULL, duration_ms integer, output_tail text, log_path text, message text,
            pid integer, pid_start bigint, measurements text, log bytea, log_size integer, log_truncated boolean,
            UNIQUE (run_id, phase, name, attempt));
        CREATE TABLE \(s).events (
            id bigserial PRIMARY KEY, run_id text, target text NOT NULL, at double precision NOT NULL, kind text NOT NULL, data text NOT NULL);
        CREATE INDEX events_by_run ON \(s).events (run_id, id);
        CREATE INDEX events_by_target ON \(s).events (target, kind, id);
        CREATE TABLE \(s).locks (
            target text PRIMARY KEY, run_id text NOT NULL, operator text NOT NULL, host text NOT NULL, pid integer NOT NULL,
            pid_start bigint NOT NULL, since double precision NOT NULL, command text NOT NULL, heartbeat double precision,
            backend_pid integer NOT NULL);
        CREATE TABLE \(s).inbound_owed (
            target text PRIMARY KEY, run_id text NOT NULL, since double precision NOT NULL, reason text NOT NULL);
        """,
        // 2: reviews, in a table of their own so a reviewer's role can be granted INSERT on it alone.
        """
        CREATE TABLE \(s).reviews (
            id bigserial PRIMARY KEY, run_id text NOT NULL REFERENCES \(s).runs(id), target text NOT NULL, kind text NOT NULL,
            subject text, score integer, text text, reviewer text NOT NULL, host text NOT NULL, at double precision NOT NULL);
        CREATE INDEX reviews_by_run ON \(s).reviews (run_id, id);
        """]
    }

}
