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
    public static let schemaVersion = 2
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
    let connection: Connection
    let schema: String
    let state = NSLock()
    var heldTargets: Set<String> = []
    var heldRuns: Set<String> = []
    var onLost: (@Sendable (String) -> Void)?
    var lostReason: String?

    public init(url: PostgresURL) throws {
        self.url = url
        schema = url.schema
        connection = try Connection(conninfo: url.connectionString(naming: ProcessName.current.text), shown: url.shown)
        try Self.prepareSchema(connection, schema: schema, shown: url.shown)
        canWrite = try connection.query("SELECT has_table_privilege($1, 'INSERT') AS w", ["\(url.schema).runs"]).first?.bool("w") ?? false
        startHeartbeat()
    }

    /// Nothing to leave behind: the server ends the session, and its advisory locks, when the
    /// process exits; the heartbeat still needs the connection until then.
    public func close() {}

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
    func holdRun(_ id: String) throws {
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

    public func commit(_ writes: [StepWrite]) throws -> [Int64?] {
        // One statement commits on its own (one round trip); several share a transaction.
        if writes.count == 1 { return [try record(writes[0], connection.query)] }
        return try connection.transaction { tx in try writes.map { try record($0, tx.query) } }
    }

    private func record(_ write: StepWrite, _ query: (String, [String?]) throws -> Rows) throws -> Int64? {
        switch write {
        case let .started(runID, phase, name, attempt, argv, logPath):
            let rows = try query("""
                INSERT INTO \(schema).steps (run_id, phase, name, attempt, argv, started_at, status, log_path)
                VALUES ($1, $2, $3, $4, $5, $6, 'started', $7) RETURNING id
                """, [runID, phase, name, String(attempt), JournalJSON.encode(argv), Self.now(), logPath])
            guard let id = rows.first?.int64("id") else { throw PostgresError.statement("no id returned for the step", sqlState: "") }
            return id
        case let .finished(id, outcome):
            _ = try query("""
                UPDATE \(schema).steps SET status = $1, exit_code = $2, signal = $3, duration_ms = $4, output_tail = $5, message = $6,
                                           ended_at = $7, measurements = $8, log = $9::bytea, log_size = $10, log_truncated = $11
                WHERE id = $12
                """, [outcome.status.rawValue, outcome.exitCode.map { String($0) }, outcome.signal.map { String($0) },
                      outcome.durationMs.map { String($0) }, outcome.outputTail, outcome.message, Self.now(),
                      outcome.measurements.map { JournalJSON.encode($0) }, outcome.log.map { Self.hex($0.compressed) },
                      outcome.log.map { String($0.size) }, outcome.log.map { $0.truncated ? "t" : "f" }, String(id)])
            return nil
        }
    }

    public func stepSpawned(_ id: Int64, pid: Int32, start: UInt64) throws {
        try connection.query("UPDATE \(schema).steps SET pid = $1, pid_start = $2 WHERE id = $3",
                             [String(pid), String(Int64(bitPattern: start)), String(id)])
    }

    public func stepSkipped(runID: String, phase: String, name: String, argv: [String], reason: String) throws {
        let now = Self.now()
        try connection.query("""
            INSERT INTO \(schema).steps (run_id, phase, name, attempt, argv, started_at, ended_at, status, duration_ms, message)
            VALUES ($1, $2, $3, 0, $4, $5, $5, 'skipped', 0, $6) ON CONFLICT DO NOTHING
            """, [runID, phase, name, JournalJSON.encode(argv), now, reason])
    }

    public func steps(runID: String) throws -> [StepRecord] {
        try connection.query("SELECT \(Self.stepColumns) FROM \(schema).steps WHERE run_id = $1 ORDER BY id", [runID]).map(Self.step)
    }

    public func hostSteps(runID: String) throws -> [StepRecord] {
        try connection.query("SELECT \(Self.stepColumns) FROM \(schema).steps WHERE run_id = $1 AND strpos(name, $2) > 0 ORDER BY id",
                             [runID, String(StepRef.hostSeparator)]).map(Self.step)
    }

    private static let stepColumns = """
        id, run_id, phase, name, attempt, argv, started_at, ended_at, exit_code, signal, status, duration_ms,
        output_tail, log_path, message, pid, measurements
        """

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

    func insertEvent(_ query: (String, [String?]) throws -> Rows, _ kind: EventKind, target: String, runID: String?, data: EventData) throws {
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

    // MARK: - Reviews

    public func addReview(_ review: ReviewRecord) throws -> ReviewRecord {
        try insertReview(connection.query, review)
    }

    func insertReview(_ query: (String, [String?]) throws -> Rows, _ review: ReviewRecord) throws -> ReviewRecord {
        let rows = try query("""
            INSERT INTO \(schema).reviews (run_id, target, kind, subject, score, text, reviewer, host, at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
            """, [review.runID, review.target, review.kind.rawValue, review.subject, review.score.map { String($0) }, review.text,
                  review.reviewer, review.host, Self.text(review.at)])
        var stored = review
        stored.id = rows.first?.int64("id") ?? 0
        return stored
    }

    public func reviews(runID: String) throws -> [ReviewRecord] {
        try connection.query("SELECT * FROM \(schema).reviews WHERE run_id = $1 ORDER BY id", [runID]).compactMap(Self.review)
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
        // A holder killed a moment ago: the server lets its session go within milliseconds.
        for _ in 0..<5 where !got {
            usleep(100_000)
            got = try tryAdvisory(String(key))
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
                let had = try tx.query("SELECT * FROM \(schema).reviews WHERE run_id = $1", [bundle.run.id]).compactMap(Self.review)
                for review in bundle.reviews(missingFrom: had) { _ = try insertReview(tx.query, review) }
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
            for review in bundle.reviews { _ = try insertReview(tx.query, review) }
            return .imported
        }
    }


}
