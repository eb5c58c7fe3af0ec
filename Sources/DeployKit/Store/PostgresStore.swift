import Foundation
import Postgres
import Probes

/// The team's store: the journal, the locks and the inbound record in PostgreSQL, so every
/// machine sees the same truth. Liveness comes from the server, not from process ids: every
/// lock and every running run holds a session-level advisory lock, which ends with the
/// holder's connection (a `kill -9`, a dead machine, a network cut once the server notices).
/// A heartbeat keeps the session busy and notices a lost store; the run then stops itself.
public final class PostgresStore: JournalStore, @unchecked Sendable {
    /// The schema version this deployctl writes; a newer one is refused (it may mean anything).
    public static let schemaVersion = 1
    /// Without an answer for this long (a statement in flight, a heartbeat unanswered), the run
    /// holding a lock stops itself.
    static let leaseSeconds: Double = 10
    static let heartbeatSeconds: Double = 2
    /// How long the server keeps the session of a holder it no longer hears from (a network cut,
    /// a machine gone): idle timeout and TCP keepalives. Longer than the lease plus the default
    /// 30 s grace a stopped run gives its steps, so its locks free only after it has stopped.
    static let serverSilenceSeconds = 60

    public let url: PostgresURL
    public var location: String { url.shown }
    /// False for a reviewer's read-only role: commands that would write refuse up front.
    public let canWrite: Bool
    private let connection: Connection
    private let schema: String
    private let state = NSLock()
    private var heldTargets: Set<String> = []
    private var heldRuns: Set<String> = []
    private var onLost: (@Sendable (String) -> Void)?
    private var lostReason: String?

    public init(url: PostgresURL) throws {
        self.url = url
        schema = url.schema
        connection = try Connection(conninfo: url.connectionString(naming: ProcessName.current.text), shown: url.shown)
        try Self.prepareSchema(connection, schema: schema, shown: url.shown)
        canWrite = try connection.query("SELECT has_table_privilege($1, 'INSERT') AS w", ["\(url.schema).runs"]).first?.bool("w") ?? false
        startHeartbeat()
    }

    // MARK: - Schema

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

    private static func prepareSchema(_ connection: Connection, schema: String, shown: String) throws {
        let found = try version(connection, schema: schema)
        if found > schemaVersion { throw OpenError.newerSchema(found: found, shown: shown, schema: schema) }
        if found == schemaVersion { return }
        do {
            try connection.transaction { tx in
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

    private static func version(_ connection: Connection, schema: String) throws -> Int {
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
    private static func migrations(_ s: String) -> [String] {
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
        """]
    }

    // MARK: - Runs

    /// The run's advisory lock is taken before its row says `running`, so no machine ever sees
    /// a running run whose process is not holding it.
    public func createRun(_ run: RunRecord) throws {
        try holdRun(run.id)
        try connection.query(insertRun, Self.values(run))
    }

    public func finishRun(_ id: String, status: RunStatus, message: String?) throws {
        try connection.query("UPDATE \(schema).runs SET status = $1, message = $2, ended_at = $3 WHERE id = $4",
                             [status.rawValue, message, Self.now(), id])
        if state.withLock({ heldRuns.remove(id) }) != nil {
            try connection.query("SELECT pg_advisory_unlock($1)", [String(key(run: id))])
        }
    }

    public func reopenRun(_ id: String, host: String, pid: Int32, pidStart: UInt64) throws {
        try holdRun(id)
        try connection.query("UPDATE \(schema).runs SET status = 'running', message = NULL, ended_at = NULL, host = $1, pid = $2, pid_start = $3 WHERE id = $4",
                             [host, String(pid), String(Int64(bitPattern: pidStart)), id])
    }

    /// The run's advisory lock says to every machine that its process still runs.
    private func holdRun(_ id: String) throws {
        guard !state.withLock({ heldRuns.contains(id) }) else { return }
        guard try tryAdvisory(String(key(run: id))) else { throw JournalError.runHeldElsewhere(id) }
        state.withLock { _ = heldRuns.insert(id) }
    }

    public func run(_ id: String) throws -> RunRecord? {
        try connection.query("SELECT * FROM \(schema).runs WHERE id = $1", [id]).first.flatMap(Self.run)
    }

    public func runs(_ query: RunQuery) throws -> [RunRecord] {
        var clauses: [String] = [], values: [String?] = []
        func value(_ text: String) -> String { values.append(text); return "$\(values.count)" }
        if let target = query.target { clauses.append("target = \(value(target))") }
        if let kinds = query.kinds { clauses.append("kind = ANY(\(value("{" + kinds.map(\.rawValue).joined(separator: ",") + "}"))::text[])") }
        if let status = query.status { clauses.append("status = \(value(status.rawValue))") }
        if let before = query.before {
            clauses.append("(started_at, id) < (\(value(Self.text(before.startedAt)))::double precision, \(value(before.id)))")
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let limit = value(String(query.limit))
        return try connection.query("SELECT * FROM \(schema).runs \(filter) ORDER BY started_at DESC, id DESC LIMIT \(limit)", values)
            .compactMap(Self.run)
    }

    public func targets() throws -> [String] {
        try connection.query("SELECT DISTINCT target FROM \(schema).runs ORDER BY target").compactMap { $0["target"] }
    }

    public func runs(idPrefix: String, limit: Int) throws -> [RunRecord] {
        try connection.query("SELECT * FROM \(schema).runs WHERE left(id, length($1)) = $1 ORDER BY started_at DESC LIMIT $2",
                             [idPrefix, String(limit)]).compactMap(Self.run)
    }

    // MARK: - Steps

    public func stepStarted(runID: String, phase: String, name: String, attempt: Int, argv: [String], logPath: String?) throws -> Int64 {
        let rows = try connection.query("""
            INSERT INTO \(schema).steps (run_id, phase, name, attempt, argv, started_at, status, log_path)
            VALUES ($1, $2, $3, $4, $5, $6, 'started', $7) RETURNING id
            """, [runID, phase, name, String(attempt), JournalJSON.encode(argv), Self.now(), logPath])
        guard let id = rows.first?.int64("id") else { throw PostgresError.statement("no id returned for the step", sqlState: "") }
        return id
    }

    public func stepSpawned(_ id: Int64, pid: Int32, start: UInt64) throws {
        try connection.query("UPDATE \(schema).steps SET pid = $1, pid_start = $2 WHERE id = $3",
                             [String(pid), String(Int64(bitPattern: start)), String(id)])
    }

    public func stepFinished(_ id: Int64, _ outcome: StepOutcome) throws {
        try connection.query("""
            UPDATE \(schema).steps SET status = $1, exit_code = $2, signal = $3, duration_ms = $4, output_tail = $5, message = $6,
                                       ended_at = $7, measurements = $8, log = $9::bytea, log_size = $10, log_truncated = $11
            WHERE id = $12
            """, [outcome.status.rawValue, outcome.exitCode.map { String($0) }, outcome.signal.map { String($0) },
                  outcome.durationMs.map { String($0) }, outcome.outputTail, outcome.message, Self.now(),
                  outcome.measurements.map { JournalJSON.encode($0) }, outcome.log.map { Self.hex($0.compressed) },
                  outcome.log.map { String($0.size) }, outcome.log.map { $0.truncated ? "t" : "f" }, String(id)])
    }

    public func stepSkipped(runID: String, phase: String, name: String, argv: [String], reason: String) throws {
        let now = Self.now()
        try connection.query("""
            INSERT INTO \(schema).steps (run_id, phase, name, attempt, argv, started_at, ended_at, status, duration_ms, message)
            VALUES ($1, $2, $3, 0, $4, $5, $5, 'skipped', 0, $6) ON CONFLICT DO NOTHING
            """, [runID, phase, name, JournalJSON.encode(argv), now, reason])
    }

    public func steps(runID: String) throws -> [StepRecord] {
        try connection.query("""
            SELECT id, run_id, phase, name, attempt, argv, started_at, ended_at, exit_code, signal, status, duration_ms,
                   output_tail, log_path, message, pid, measurements
            FROM \(schema).steps WHERE run_id = $1 ORDER BY id
            """, [runID]).map(Self.step)
    }

    public func log(stepID: Int64) throws -> StoredLog? {
        try connection.query("SELECT log, log_size, log_truncated FROM \(schema).steps WHERE id = $1 AND log IS NOT NULL", [String(stepID)])
            .first.flatMap { row in
                guard let bytes = row.bytes("log"), let size = row.int("log_size") else { return nil }
                return StoredLog(compressed: Data(bytes), size: size, truncated: row.bool("log_truncated") ?? false)
            }
    }

    public func markInterrupted(runID: String) throws {
        try connection.transaction { tx in
            try tx.query("UPDATE \(schema).steps SET status = 'interrupted', message = 'deployctl stopped while this step ran' WHERE run_id = $1 AND status = 'started'",
                         [runID])
            try tx.query("UPDATE \(schema).runs SET status = 'interrupted', ended_at = COALESCE(ended_at, $1) WHERE id = $2 AND status = 'running'",
                         [Self.now(), runID])
        }
    }

    // MARK: - Events

    public func event(_ kind: EventKind, target: String, runID: String?, data: EventData) throws {
        try insertEvent(connection.query, kind, target: target, runID: runID, data: data)
    }

    private func insertEvent(_ query: (String, [String?]) throws -> Rows, _ kind: EventKind, target: String, runID: String?, data: EventData) throws {
        _ = try query("INSERT INTO \(schema).events (run_id, target, at, kind, data) VALUES ($1, $2, $3, $4, $5)",
                      [runID, target, Self.now(), kind.rawValue, JournalJSON.encode(data)])
    }

    public func events(runID: String) throws -> [EventRecord] {
        try connection.query("SELECT * FROM \(schema).events WHERE run_id = $1 ORDER BY id", [runID]).compactMap(Self.event)
    }

    public func events(target: String, kind: EventKind?) throws -> [EventRecord] {
        if let kind {
            return try connection.query("SELECT * FROM \(schema).events WHERE target = $1 AND kind = $2 ORDER BY id", [target, kind.rawValue])
                .compactMap(Self.event)
        }
        return try connection.query("SELECT * FROM \(schema).events WHERE target = $1 ORDER BY id", [target]).compactMap(Self.event)
    }

    public func environmentEvents() throws -> [EventRecord] {
        try connection.query("SELECT * FROM \(schema).events WHERE run_id IS NULL ORDER BY id").compactMap(Self.event)
    }

    // MARK: - Locks

    /// The advisory lock decides (one session wins, whatever the rows say); the row says who.
    public func acquireLock(_ lock: LockRecord) throws -> LockOutcome {
        if state.withLock({ heldTargets.contains(lock.target) }), let mine = try self.lock(target: lock.target) { return .held(mine) }
        let key = key(target: lock.target)
        var got = try tryAdvisory(String(key))
        if !got, try endSessionOfGoneProcess(holding: key) {
            for _ in 0..<30 where !got {
                usleep(100_000)
                got = try tryAdvisory(String(key))
            }
        }
        guard got else {
            // Its holder took the advisory lock a moment ago and is writing its row: wait for it.
            for _ in 0..<30 {
                if let holder = try self.lock(target: lock.target) { return .held(holder) }
                usleep(100_000)
            }
            return .held(LockRecord(target: lock.target, runID: "(unknown)", operatorName: "a deployctl whose lock row was removed",
                                    host: "(unknown)", pid: 0, pidStart: 0, since: Date()))
        }
        do {
            let outcome: LockOutcome = try connection.transaction { tx in
                var outcome = LockOutcome.acquired
                if let current = try tx.query("SELECT * FROM \(schema).locks WHERE target = $1 FOR UPDATE", [lock.target]).first.map(Self.lock) {
                    outcome = .tookOverStale(current)
                    try tx.query("DELETE FROM \(schema).locks WHERE target = $1", [lock.target])
                    var data: EventData = ["previous_run": .string(current.runID), "previous_operator": .string(current.operatorName),
                                           "previous_host": .string(current.host), "previous_pid": .int(Int(current.pid)),
                                           "previous_since": .string(Timestamp.rfc3339(current.since))]
                    if let heartbeat = current.heartbeat { data["previous_heartbeat"] = .string(Timestamp.rfc3339(heartbeat)) }
                    try insertEvent(tx.query, .lockStaleTakenOver, target: lock.target, runID: lock.runID, data: data)
                }
                try tx.query("""
                    INSERT INTO \(schema).locks (target, run_id, operator, host, pid, pid_start, since, command, heartbeat, backend_pid)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, pg_backend_pid())
                    """, [lock.target, lock.runID, lock.operatorName, lock.host, String(lock.pid), String(Int64(bitPattern: lock.pidStart)),
                          Self.text(lock.since), lock.command])
                try insertEvent(tx.query, .lockAcquired, target: lock.target, runID: lock.runID,
                                data: ["operator": .string(lock.operatorName), "host": .string(lock.host), "pid": .int(Int(lock.pid))])
                return outcome
            }
            state.withLock { _ = heldTargets.insert(lock.target) }
            return outcome
        } catch {
            _ = try? connection.query("SELECT pg_advisory_unlock($1)", [String(key)])
            throw error
        }
    }

    /// Every session names its process (`application_name`: host, pid, start time). A session
    /// holding `key` whose process is on this machine and provably gone — the server has not
    /// noticed a cut yet — is ended, which frees what it held. True when one was.
    private func endSessionOfGoneProcess(holding key: Int64) throws -> Bool {
        guard let holder = try advisoryHolder(key), let name = holder.name, let process = ProcessName(name),
              process.host == ProcessIdentity.hostName,
              !ProcessIdentity.isAlive(host: process.host, pid: process.pid, start: process.start) else { return false }
        return (try? connection.query("SELECT pg_terminate_backend($1) AS ended", [String(holder.backend)]).first?.bool("ended")) == true
    }

    private func tryAdvisory(_ key: String) throws -> Bool {
        try connection.query("SELECT pg_try_advisory_lock($1) AS got", [key]).first?.bool("got") == true
    }

    public func handOverLock(target: String, from: String, to: String) throws {
        try connection.transaction { tx in
            let changed = try tx.query("UPDATE \(schema).locks SET run_id = $1 WHERE target = $2 AND run_id = $3", [to, target, from]).affected
            guard changed == 1 else { throw JournalError.lockNotHeld(target: target, runID: from) }
            try insertEvent(tx.query, .lockHandedOver, target: target, runID: to, data: ["from_run": .string(from)])
        }
    }

    public func releaseLock(target: String, runID: String) throws {
        try connection.transaction { tx in
            if try tx.query("DELETE FROM \(schema).locks WHERE target = $1 AND run_id = $2", [target, runID]).affected > 0 {
                try insertEvent(tx.query, .lockReleased, target: target, runID: runID, data: [:])
            }
        }
        if state.withLock({ heldTargets.remove(target) }) != nil {
            try connection.query("SELECT pg_advisory_unlock($1)", [String(key(target: target))])
        }
    }

    public func lock(target: String) throws -> LockRecord? {
        try connection.query("SELECT * FROM \(schema).locks WHERE target = $1", [target]).first.map(Self.lock)
    }

    public func locks() throws -> [LockRecord] {
        try connection.query("SELECT * FROM \(schema).locks ORDER BY target").map(Self.lock)
    }

    public func breakLock(target: String, runID: String?, by operatorName: String, reason: String) throws -> LockRecord? {
        try connection.transaction { tx in
            guard let current = try tx.query("SELECT * FROM \(schema).locks WHERE target = $1 FOR UPDATE", [target]).first.map(Self.lock),
                  runID == nil || current.runID == runID else { return nil }
            try tx.query("DELETE FROM \(schema).locks WHERE target = $1", [target])
            try insertEvent(tx.query, .lockBroken, target: target, runID: current.runID,
                            data: ["by": .string(operatorName), "reason": .string(reason), "holder_operator": .string(current.operatorName),
                                   "holder_host": .string(current.host), "holder_pid": .int(Int(current.pid))])
            return current
        }
    }

    /// Alive while a session holds its advisory lock — the server's word, whichever machine
    /// asks — unless that session belongs to a process of this machine that is provably gone.
    public func isAlive(_ lock: LockRecord) throws -> Bool {
        try holderAlive(key(target: lock.target))
    }

    public func isAlive(_ run: RunRecord) throws -> Bool {
        try holderAlive(key(run: run.id))
    }

    private func holderAlive(_ key: Int64) throws -> Bool {
        guard let holder = try advisoryHolder(key) else { return false }
        guard let name = holder.name, let process = ProcessName(name), process.host == ProcessIdentity.hostName else { return true }
        return ProcessIdentity.isAlive(host: process.host, pid: process.pid, start: process.start)
    }

    /// The session holding an advisory key: its server pid and the process it names.
    private func advisoryHolder(_ key: Int64) throws -> (backend: Int, name: String?)? {
        let bits = UInt64(bitPattern: key)
        return try connection.query("""
            SELECT l.pid, a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
            """, [String(bits >> 32), String(bits & 0xffff_ffff)]).first.flatMap { row in
                row.int("pid").map { (backend: $0, name: row["application_name"]) }
            }
    }

    // MARK: - Heartbeat and fencing

    public func watch(onLost: @escaping @Sendable (String) -> Void) {
        state.withLock { self.onLost = onLost }
    }

    /// Every 2 s: the heartbeat of the locks this process holds (or a bare round trip), which
    /// also keeps the session from the server's idle timeout. A watchdog apart from it, since a
    /// statement sent into a network cut may never return: one in flight longer than the lease,
    /// or a connection that broke, means the store is lost.
    private func startHeartbeat() {
        let beat = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: Self.heartbeatSeconds)
                guard let store = self else { return }
                if store.state.withLock({ store.lostReason != nil }) { return }
                let targets = store.state.withLock { Array(store.heldTargets) }
                do {
                    if targets.isEmpty {
                        try store.connection.query("SELECT 1")
                    } else {
                        try store.connection.query("""
                            UPDATE \(store.schema).locks SET heartbeat = extract(epoch FROM clock_timestamp())
                            WHERE backend_pid = pg_backend_pid() AND target = ANY($1::text[])
                            """, [Self.arrayLiteral(targets)])
                    }
                } catch let error as PostgresError where error.isConnectionLoss {
                    store.lose("\(error)")
                } catch {}
            }
        }
        beat.start()
        let watchdog = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                guard let store = self else { return }
                if let waited = store.connection.inFlightSeconds, waited > Self.leaseSeconds {
                    store.lose("no answer from the store for \(Int(waited)) s")
                }
                if store.state.withLock({ store.lostReason != nil }) { return }
            }
        }
        watchdog.start()
    }

    /// `{"a","b"}`: a text[] parameter.
    static func arrayLiteral(_ items: [String]) -> String {
        "{" + items.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }

    private func lose(_ why: String) {
        let (first, handler): (Bool, (@Sendable (String) -> Void)?) = state.withLock {
            guard lostReason == nil else { return (false, nil) }
            lostReason = why
            return (true, onLost)
        }
        guard first else { return }
        // Whatever waits on the connection now fails at once instead of waiting on a cut.
        connection.sever()
        handler?(why)
    }

    // MARK: - Inbound mail owed

    public func oweInbound(target: String, runID: String, reason: String) throws {
        try connection.transaction { tx in
            try tx.query("""
                INSERT INTO \(schema).inbound_owed (target, run_id, since, reason) VALUES ($1, $2, $3, $4)
                ON CONFLICT (target) DO UPDATE SET run_id = $2, since = $3, reason = $4
                """, [target, runID, Self.now(), reason])
            try insertEvent(tx.query, .inboundOwed, target: target, runID: runID, data: ["reason": .string(reason)])
        }
    }

    public func settleInbound(target: String, runID: String?, by operatorName: String) throws {
        try connection.transaction { tx in
            try tx.query("DELETE FROM \(schema).inbound_owed WHERE target = $1", [target])
            try insertEvent(tx.query, .inboundSettled, target: target, runID: runID, data: ["by": .string(operatorName)])
        }
    }

    public func inboundOwed(target: String) throws -> InboundOwed? {
        try connection.query("SELECT * FROM \(schema).inbound_owed WHERE target = $1", [target]).first.map(Self.owed)
    }

    public func inboundOwed() throws -> [InboundOwed] {
        try connection.query("SELECT * FROM \(schema).inbound_owed ORDER BY target").map(Self.owed)
    }

    // MARK: - Moving between stores

    public func importRun(_ bundle: RunBundle) throws -> ImportOutcome {
        try connection.transaction { tx in
            if let existing = try tx.query("SELECT * FROM \(schema).runs WHERE id = $1 FOR UPDATE", [bundle.run.id]).first.flatMap(Self.run) {
                guard existing.sameRun(as: bundle.run) else { throw JournalError.conflictingRun(bundle.run.id, existing: existing) }
                return .alreadyThere
            }
            try tx.query(insertRun, Self.values(bundle.run))
            for step in bundle.steps {
                let log = bundle.logs[step.id]
                try tx.query("""
                    INSERT INTO \(schema).steps (run_id, phase, name, attempt, argv, started_at, ended_at, exit_code, signal, status,
                                                 duration_ms, output_tail, log_path, message, pid, measurements, log, log_size, log_truncated)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::bytea, $18, $19)
                    """, [step.runID, step.phase, step.name, String(step.attempt), JournalJSON.encode(step.argv), Self.text(step.startedAt),
                          step.endedAt.map(Self.text), step.exitCode.map { String($0) }, step.signal.map { String($0) }, step.status.rawValue,
                          step.durationMs.map { String($0) }, step.outputTail, step.logPath, step.message, step.pid.map { String($0) },
                          step.measurements.map { JournalJSON.encode($0) }, log.map { Self.hex($0.compressed) }, log.map { String($0.size) },
                          log.map { $0.truncated ? "t" : "f" }])
            }
            for event in bundle.events {
                try tx.query("INSERT INTO \(schema).events (run_id, target, at, kind, data) VALUES ($1, $2, $3, $4, $5)",
                             [event.runID, event.target, Self.text(event.at), event.kind.rawValue, JournalJSON.encode(event.data)])
            }
            return .imported
        }
    }

    // MARK: - Keys and rows

    /// 64-bit advisory keys, per store (schema) and target or run: two stores on one server
    /// never collide, and a lock is never mistaken for a run.
    private func key(target: String) -> Int64 { Self.advisoryKey("\(schema)/lock/\(target)") }
    private func key(run id: String) -> Int64 { Self.advisoryKey("\(schema)/run/\(id)") }

    static func advisoryKey(_ name: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ("deployctl:" + name).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    private static func now() -> String { text(Date()) }
    private static func text(_ date: Date) -> String { String(date.timeIntervalSince1970) }
    private static func date(_ text: String?) -> Date? { text.flatMap(Double.init).map(Date.init(timeIntervalSince1970:)) }
    private static func hex(_ data: Data) -> String { "\\x" + data.map { String(format: "%02x", $0) }.joined() }

    private var insertRun: String {
        """
        INSERT INTO \(schema).runs (id, kind, stack, environment, target, revision, revision_subject, descriptor_blob, inputs,
                                    operator, host, pid, pid_start, started_at, ended_at, status, message, related_run)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
        """
    }

    /// A run as `insertRun`'s parameters.
    private static func values(_ run: RunRecord) -> [String?] {
        [run.id, run.kind.rawValue, run.stack, run.environment, run.target, run.revision, run.revisionSubject, run.descriptorBlob,
         JournalJSON.encode(run.inputs), run.operatorName, run.host, String(run.pid), String(Int64(bitPattern: run.pidStart)),
         text(run.startedAt), run.endedAt.map(text), run.status.rawValue, run.message, run.relatedRun]
    }

    private static func run(_ row: Rows.Row) -> RunRecord? {
        guard let kind = row["kind"].flatMap(RunKind.init(rawValue:)), let id = row["id"] else { return nil }
        return RunRecord(id: id, kind: kind, stack: row["stack"] ?? "", environment: row["environment"] ?? "", target: row["target"] ?? "",
                         revision: row["revision"] ?? "", revisionSubject: row["revision_subject"] ?? "", descriptorBlob: row["descriptor_blob"] ?? "",
                         inputs: JournalJSON.decode([String: String].self, row["inputs"]) ?? [:], operatorName: row["operator"] ?? "",
                         host: row["host"] ?? "", pid: Int32(row.int("pid") ?? 0), pidStart: UInt64(bitPattern: row.int64("pid_start") ?? 0),
                         startedAt: date(row["started_at"]) ?? Date(timeIntervalSince1970: 0), endedAt: date(row["ended_at"]),
                         status: row["status"].flatMap(RunStatus.init(rawValue:)) ?? .failed, message: row["message"], relatedRun: row["related_run"])
    }

    private static func step(_ row: Rows.Row) -> StepRecord {
        StepRecord(id: row.int64("id") ?? 0, runID: row["run_id"] ?? "", phase: row["phase"] ?? "", name: row["name"] ?? "",
                   attempt: row.int("attempt") ?? 0, argv: JournalJSON.decode([String].self, row["argv"]) ?? [],
                   startedAt: date(row["started_at"]) ?? Date(timeIntervalSince1970: 0), endedAt: date(row["ended_at"]),
                   exitCode: row.int("exit_code").map(Int32.init), signal: row.int("signal").map(Int32.init),
                   status: row["status"].flatMap(StepStatus.init(rawValue:)) ?? .failed, durationMs: row.int("duration_ms"),
                   outputTail: row["output_tail"], logPath: row["log_path"], message: row["message"], pid: row.int("pid").map(Int32.init),
                   measurements: JournalJSON.decode([ProbeMeasurement].self, row["measurements"]))
    }

    private static func event(_ row: Rows.Row) -> EventRecord? {
        guard let kind = row["kind"].flatMap(EventKind.init(rawValue:)) else { return nil }
        return EventRecord(id: row.int64("id") ?? 0, runID: row["run_id"], target: row["target"] ?? "",
                           at: date(row["at"]) ?? Date(timeIntervalSince1970: 0), kind: kind,
                           data: JournalJSON.decode(EventData.self, row["data"]) ?? [:])
    }

    private static func lock(_ row: Rows.Row) -> LockRecord {
        LockRecord(target: row["target"] ?? "", runID: row["run_id"] ?? "", operatorName: row["operator"] ?? "", host: row["host"] ?? "",
                   pid: Int32(row.int("pid") ?? 0), pidStart: UInt64(bitPattern: row.int64("pid_start") ?? 0),
                   since: date(row["since"]) ?? Date(timeIntervalSince1970: 0), command: row["command"] ?? "", heartbeat: date(row["heartbeat"]))
    }

    private static func owed(_ row: Rows.Row) -> InboundOwed {
        InboundOwed(target: row["target"] ?? "", runID: row["run_id"] ?? "", since: date(row["since"]) ?? Date(timeIntervalSince1970: 0),
                    reason: row["reason"] ?? "")
    }
}

/// What a session tells the server about its process (`application_name`): enough for another
/// deployctl on the same machine to prove the process gone. `deployctl/PID/START/HOST`, cut at
/// 63 bytes by the server (a cut host name never matches, so such a holder counts as alive).
struct ProcessName: Equatable {
    let pid: Int32
    let start: UInt64
    let host: String

    static var current: ProcessName {
        let me = ProcessIdentity.current
        return ProcessName(pid: me.pid, start: me.start, host: me.host)
    }

    init(pid: Int32, start: UInt64, host: String) {
        self.pid = pid
        self.start = start
        self.host = host
    }

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "deployctl", let pid = Int32(parts[1]), let start = UInt64(parts[2]) else { return nil }
        self.init(pid: pid, start: start, host: String(parts[3]))
    }

    var text: String { "deployctl/\(pid)/\(start)/\(host)" }
}

extension PostgresError: StoreFailure {
    public var isPermissionDenied: Bool { sqlState == "42501" }
}
