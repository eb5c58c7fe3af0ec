import Foundation
import Probes
import SQLite

/// The embedded default store: SQLite in the state directory (WAL, synchronous=FULL). A step's
/// "started" is committed before its process starts and its outcome right after it ends, so a
/// crash or a power loss always leaves the truth behind. One machine sees it.
public final class SQLiteStore: JournalStore {
    public let path: String
    private let database: SQLiteConnection

    public var location: String { path }
    public var canWrite: Bool { access(path, W_OK) == 0 }

    /// Copies this command's writes from the write-ahead log into the database file and empties
    /// the log (when no other process has the file open): else the next command, often a
    /// `status` at the prompt, replays the whole log to open it and copies it at its close.
    public func close() { database.close() }

    /// Opens (creating and migrating) `<directory>/journal.sqlite3`.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/" + Self.fileName
        database = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 15_000)
        try database.withoutTransaction { db in
            // Steps and reviews reference their run (on since the journal's first version).
            try db.execute("PRAGMA foreign_keys = ON")
            try db.execute("PRAGMA journal_mode = WAL")
            try db.execute("PRAGMA synchronous = FULL")
            // A kept log is cut back to nothing when the last connection closes (and to 4 MiB after a checkpoint).
            try db.execute("PRAGMA journal_size_limit = 4194304")
        }
        database.keepWriteAheadLog()
        // Read back: durability is the point.
        let level = synchronousLevel
        guard level == 2 else { throw JournalError.notDurable(level: level) }
        try Self.migrator.migrate(database)
    }

    public static let fileName = "journal.sqlite3"

    public var synchronousLevel: Int { pragma("synchronous") ?? -1 }

    /// A setting of the connection (`PRAGMA name`), nil when it cannot be read.
    func pragma(_ name: String) -> Int? {
        try? database.withoutTransaction { try $0.fetchOne("PRAGMA \(name)") { $0.next() as Int } }
    }

    // MARK: - Schema

    private static var migrator: SQLiteMigrator {
        var migrator = SQLiteMigrator()
        migrator.register("v1: runs, steps, events, locks") { db in
            try db.execute("""
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY, kind TEXT NOT NULL, stack TEXT NOT NULL, environment TEXT NOT NULL,
                    target TEXT NOT NULL, revision TEXT NOT NULL, revision_subject TEXT NOT NULL,
                    descriptor_blob TEXT NOT NULL, inputs TEXT NOT NULL, operator TEXT NOT NULL, host TEXT NOT NULL,
                    pid INTEGER NOT NULL, pid_start INTEGER NOT NULL, started_at REAL NOT NULL, ended_at REAL,
                    status TEXT NOT NULL, message TEXT, related_run TEXT);
                CREATE INDEX runs_by_target ON runs(target, started_at);
                CREATE TABLE steps (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id),
                    phase TEXT NOT NULL, name TEXT NOT NULL, attempt INTEGER NOT NULL, argv TEXT NOT NULL,
                    started_at REAL NOT NULL, ended_at REAL, exit_code INTEGER, signal INTEGER, status TEXT NOT NULL,
                    duration_ms INTEGER, output_tail TEXT, log_path TEXT, message TEXT,
                    UNIQUE(run_id, phase, name, attempt));
                CREATE INDEX steps_by_run ON steps(run_id, id);
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, target TEXT NOT NULL, at REAL NOT NULL,
                    kind TEXT NOT NULL, data TEXT NOT NULL);
                CREATE INDEX events_by_run ON events(run_id, id);
                CREATE TABLE locks (
                    target TEXT PRIMARY KEY, run_id TEXT NOT NULL, operator TEXT NOT NULL, host TEXT NOT NULL,
                    pid INTEGER NOT NULL, pid_start INTEGER NOT NULL, since REAL NOT NULL);
                """)
        }
        migrator.register("v2: the process group of each attempt") { db in
            try db.execute("ALTER TABLE steps ADD COLUMN pid INTEGER")
            try db.execute("ALTER TABLE steps ADD COLUMN pid_start INTEGER")
        }
        migrator.register("v3: inbound mail processing owed back") { db in
            try db.execute("""
                CREATE TABLE inbound_owed (
                    target TEXT PRIMARY KEY, run_id TEXT NOT NULL, since REAL NOT NULL, reason TEXT NOT NULL)
                """)
        }
        migrator.register("v4: what probes measured") { db in
            try db.execute("ALTER TABLE steps ADD COLUMN measurements TEXT")
        }
        migrator.register("v5: what the lock holder runs; whole logs") { db in
            try db.execute("ALTER TABLE locks ADD COLUMN command TEXT NOT NULL DEFAULT ''")
            try db.execute("ALTER TABLE steps ADD COLUMN log BLOB")
            try db.execute("ALTER TABLE steps ADD COLUMN log_size INTEGER")
            try db.execute("ALTER TABLE steps ADD COLUMN log_truncated INTEGER")
            // Every command looks for running runs; status pages a target's history newest first.
            try db.execute("CREATE INDEX runs_by_status ON runs(status)")
            try db.execute("CREATE INDEX runs_by_start ON runs(started_at, id)")
            try db.execute("CREATE INDEX runs_by_target_start ON runs(target, started_at, id)")
            // status's last check (kind) without walking every deploy of the target.
            try db.execute("CREATE INDEX runs_by_target_kind ON runs(target, kind, started_at, id)")
        }
        migrator.register("v6: reviews") { db in
            try db.execute("""
                CREATE TABLE reviews (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id), target TEXT NOT NULL,
                    kind TEXT NOT NULL, subject TEXT, score INTEGER, text TEXT, reviewer TEXT NOT NULL, host TEXT NOT NULL, at REAL NOT NULL);
                CREATE INDEX reviews_by_run ON reviews(run_id, id);
                """)
        }
        return migrator
    }

    // MARK: - Runs

    public func createRun(_ run: RunRecord) throws {
        try database.write { db in try Self.insert(run, into: db) }
    }

    private static func insert(_ run: RunRecord, into db: SQLiteDatabase) throws {
        try db.execute("""
            INSERT INTO runs (id, kind, stack, environment, target, revision, revision_subject, descriptor_blob, inputs,
                              operator, host, pid, pid_start, started_at, ended_at, status, message, related_run)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [run.id, run.kind.rawValue, run.stack, run.environment, run.target, run.revision, run.revisionSubject,
                             run.descriptorBlob, json(run.inputs), run.operatorName, run.host, run.pid,
                             Int64(bitPattern: run.pidStart), run.startedAt.timeIntervalSince1970,
                             run.endedAt?.timeIntervalSince1970, run.status.rawValue, run.message, run.relatedRun])
    }

    public func finishRun(_ id: String, status: RunStatus, message: String?) throws {
        try database.write { db in
            try db.execute("UPDATE runs SET status = ?, message = ?, ended_at = ? WHERE id = ?",
                           [status.rawValue, message, Date().timeIntervalSince1970, id])
        }
    }

    public func reopenRun(_ id: String, host: String, pid: Int32, pidStart: UInt64) throws {
        try database.write { db in
            try db.execute("UPDATE runs SET status = 'running', message = NULL, ended_at = NULL, host = ?, pid = ?, pid_start = ? WHERE id = ?",
                           [host, pid, Int64(bitPattern: pidStart), id])
        }
    }

    public func run(_ id: String) throws -> RunRecord? {
        try database.read { db in try db.fetchOne("SELECT \(Self.runColumns) FROM runs WHERE id = ?", [id], Self.run) }
    }

    public func runs(_ query: RunQuery) throws -> [RunRecord] {
        var clauses: [String] = [], arguments: [any SQLiteValue] = []
        if let target = query.target { clauses.append("target = ?"); arguments += [target] }
        if let kinds = query.kinds {
            clauses.append("kind IN (\(kinds.map { _ in "?" }.joined(separator: ", ")))")
            arguments += kinds.map(\.rawValue)
        }
        if let status = query.status { clauses.append("status = ?"); arguments += [status.rawValue] }
        if let before = query.before {
            clauses.append("(started_at < ? OR (started_at = ? AND id < ?))")
            arguments += [before.startedAt.timeIntervalSince1970, before.startedAt.timeIntervalSince1970, before.id] as [any SQLiteValue]
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments += [query.limit]
        return try database.read { db in
            try db.fetchAll("SELECT \(Self.runColumns) FROM runs \(filter) ORDER BY started_at DESC, id DESC LIMIT ?", arguments, Self.run)
        }
    }

    public func targets() throws -> [String] {
        try database.read { db in try db.fetchAll("SELECT DISTINCT target FROM runs ORDER BY target") { $0.next() as String } }
    }

    public func runs(idPrefix: String, limit: Int) throws -> [RunRecord] {
        try database.read { db in
            // The id column holds only [0-9a-f-]: a prefix with LIKE wildcards matches nothing.
            try db.fetchAll("SELECT \(Self.runColumns) FROM runs WHERE substr(id, 1, ?) = ? ORDER BY started_at DESC LIMIT ?",
                             [idPrefix.count, idPrefix, limit], Self.run)
        }
    }

    // MARK: - Steps

    public func commit(_ writes: [StepWrite]) throws -> [Int64?] {
        try database.write { db in
            try writes.map { write -> Int64? in
                switch write {
                case let .started(runID, phase, name, attempt, argv, logPath):
                    try db.execute("""
                        INSERT INTO steps (run_id, phase, name, attempt, argv, started_at, status, log_path)
                        VALUES (?, ?, ?, ?, ?, ?, 'started', ?)
                        """, [runID, phase, name, attempt, Self.json(argv), Date().timeIntervalSince1970, logPath])
                    return db.lastInsertedRowID
                case let .finished(id, outcome):
                    try db.execute("""
                        UPDATE steps SET status = ?, exit_code = ?, signal = ?, duration_ms = ?, output_tail = ?, message = ?, ended_at = ?,
                                         measurements = ?, log = ?, log_size = ?, log_truncated = ?
                        WHERE id = ?
                        """, [outcome.status.rawValue, outcome.exitCode, outcome.signal, outcome.durationMs, outcome.outputTail,
                                         outcome.message, Date().timeIntervalSince1970, outcome.measurements.map { Self.json($0) },
                                         outcome.log?.compressed, outcome.log?.size, outcome.log?.truncated, id])
                    return nil
                }
            }
        }
    }

    /// Committed without its own `fdatasync` (see `JournalStore.stepSpawned`); the next durable
    /// commit carries it to disk. The connection is FULL again before anything else commits.
    /// No checkpoint may run inside this commit: one under OFF would mark the WAL copied into
    /// the database file without syncing that file, and the next commit would start the WAL
    /// over, so a power cut could lose commits made under FULL.
    public func stepSpawned(_ id: Int64, pid: Int32, start: UInt64) throws {
        try database.withoutTransaction { db in
            try db.execute("PRAGMA wal_autocheckpoint = 0; PRAGMA synchronous = OFF")
            // Autocommit: one statement is its own transaction.
            let updated = Result { try db.execute("UPDATE steps SET pid = ?, pid_start = ? WHERE id = ?", [pid, Int64(bitPattern: start), id]) }
            try db.execute("PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = \(Self.checkpointPages)")
            try updated.get()
        }
    }

    /// SQLite's default: a commit that leaves the WAL this many pages long copies it back.
    private static let checkpointPages = 1000

    public func log(stepID: Int64) throws -> StoredLog? {
        try database.read { db in
            try db.fetchOne("SELECT log, log_size, log_truncated FROM steps WHERE id = ? AND log IS NOT NULL", [stepID]) { column in
                StoredLog(compressed: column.next(), size: column.next(), truncated: column.next())
            }
        }
    }

    public func stepSkipped(runID: String, phase: String, name: String, argv: [String], reason: String) throws {
        try database.write { db in
            let now = Date().timeIntervalSince1970
            try db.execute("""
                INSERT OR IGNORE INTO steps (run_id, phase, name, attempt, argv, started_at, ended_at, status, duration_ms, message)
                VALUES (?, ?, ?, 0, ?, ?, ?, 'skipped', 0, ?)
                """, [runID, phase, name, Self.json(argv), now, now, reason])
        }
    }

    public func steps(runID: String) throws -> [StepRecord] {
        try database.read { db in
            try db.fetchAll("SELECT \(Self.stepColumns) FROM steps WHERE run_id = ? ORDER BY id", [runID], Self.step)
        }
    }

    public func hostSteps(runID: String) throws -> [StepRecord] {
        try database.read { db in
            try db.fetchAll("SELECT \(Self.stepColumns) FROM steps WHERE run_id = ? AND instr(name, ?) > 0 ORDER BY id",
                             [runID, String(StepRef.hostSeparator)], Self.step)
        }
    }

    public func markInterrupted(runID: String) throws {
        try database.write { db in
            try db.execute("UPDATE steps SET status = 'interrupted', message = 'deployctl stopped while this step ran' WHERE run_id = ? AND status = 'started'",
                           [runID])
            try db.execute("UPDATE runs SET status = 'interrupted', ended_at = COALESCE(ended_at, ?) WHERE id = ? AND status = 'running'",
                           [Date().timeIntervalSince1970, runID])
        }
    }

    // MARK: - Events

    public func event(_ kind: EventKind, target: String, runID: String?, data: EventData) throws {
        try database.write { db in try Self.insertEvent(db, kind, target: target, runID: runID, data: data) }
    }

    private static func insertEvent(_ db: SQLiteDatabase, _ kind: EventKind, target: String, runID: String?, data: EventData) throws {
        try db.execute("INSERT INTO events (run_id, target, at, kind, data) VALUES (?, ?, ?, ?, ?)",
                       [runID, target, Date().timeIntervalSince1970, kind.rawValue, json(data)])
    }

    public func events(runID: String) throws -> [EventRecord] {
        try database.read { db in
            try db.fetchAll("SELECT \(Self.eventColumns) FROM events WHERE run_id = ? ORDER BY id", [runID], Self.event)
        }
    }

    public func events(target: String, kind: EventKind?) throws -> [EventRecord] {
        try database.read { db in
            if let kind {
                return try db.fetchAll("SELECT \(Self.eventColumns) FROM events WHERE target = ? AND kind = ? ORDER BY id",
                                        [target, kind.rawValue], Self.event)
            }
            return try db.fetchAll("SELECT \(Self.eventColumns) FROM events WHERE target = ? ORDER BY id", [target], Self.event)
        }
    }

    public func environmentEvents() throws -> [EventRecord] {
        try database.read { db in
            try db.fetchAll("SELECT \(Self.eventColumns) FROM events WHERE run_id IS NULL ORDER BY id", [], Self.event)
        }
    }

    // MARK: - Reviews

    public func addReview(_ review: ReviewRecord) throws -> ReviewRecord {
        try database.write { db in try Self.insert(review, into: db) }
    }

    @discardableResult
    private static func insert(_ review: ReviewRecord, into db: SQLiteDatabase) throws -> ReviewRecord {
        try db.execute("INSERT INTO reviews (run_id, target, kind, subject, score, text, reviewer, host, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [review.runID, review.target, review.kind.rawValue, review.subject, review.score, review.text,
                                   review.reviewer, review.host, review.at.timeIntervalSince1970])
        var stored = review
        stored.id = db.lastInsertedRowID
        return stored
    }

    public func reviews(runID: String) throws -> [ReviewRecord] {
        try database.read { db in
            try db.fetchAll("SELECT \(Self.reviewColumns) FROM reviews WHERE run_id = ? ORDER BY id", [runID], Self.review)
        }
    }

    /// Nil for a kind this deployctl does not know (written by a newer one).
    private static func review(_ column: inout SQLiteRow) -> ReviewRecord? {
        let (id, runID, target): (Int64, String, String) = (column.next(), column.next(), column.next())
        guard let kind = ReviewKind(rawValue: column.next()) else { return nil }
        return ReviewRecord(id: id, runID: runID, target: target, kind: kind, subject: column.next(), score: column.next(),
                            text: column.next(), reviewer: column.next(), host: column.next(), at: date(column.next())!)
    }

    // MARK: - Locks

    /// One immediate transaction: two `up`s started together cannot both get the lock.
    public func acquireLock(_ lock: LockRecord) throws -> LockOutcome {
        try database.write { db in
            var outcome = LockOutcome.acquired
            if let current = try db.fetchOne("SELECT \(Self.lockColumns) FROM locks WHERE target = ?", [lock.target], Self.lock) {
                // Held: nothing written, so the commit changes nothing.
                if try isAlive(current) { return LockOutcome.held(current) }
                outcome = .tookOverStale(current)
                try db.execute("DELETE FROM locks WHERE target = ?", [lock.target])
                try Self.insertEvent(db, .lockStaleTakenOver, target: lock.target, runID: lock.runID,
                                     data: ["previous_run": .string(current.runID), "previous_operator": .string(current.operatorName),
                                            "previous_host": .string(current.host), "previous_pid": .int(Int(current.pid)),
                                            "previous_since": .string(Timestamp.rfc3339(current.since))])
            }
            try db.execute("INSERT INTO locks (target, run_id, operator, host, pid, pid_start, since, command) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [lock.target, lock.runID, lock.operatorName, lock.host, lock.pid,
                            Int64(bitPattern: lock.pidStart), lock.since.timeIntervalSince1970, lock.command])
            try Self.insertEvent(db, .lockAcquired, target: lock.target, runID: lock.runID,
                                 data: ["operator": .string(lock.operatorName), "host": .string(lock.host), "pid": .int(Int(lock.pid))])
            return outcome
        }
    }

    public func handOverLock(target: String, from: String, to: String) throws {
        try database.write { db in
            try db.execute("UPDATE locks SET run_id = ? WHERE target = ? AND run_id = ?", [to, target, from])
            guard db.changesCount == 1 else { throw JournalError.lockNotHeld(target: target, runID: from) }
            try Self.insertEvent(db, .lockHandedOver, target: target, runID: to, data: ["from_run": .string(from)])
        }
    }

    public func releaseLock(target: String, runID: String) throws {
        try database.write { db in
            try db.execute("DELETE FROM locks WHERE target = ? AND run_id = ?", [target, runID])
            if db.changesCount > 0 {
                try Self.insertEvent(db, .lockReleased, target: target, runID: runID, data: [:])
            }
        }
    }

    public func lock(target: String) throws -> LockRecord? {
        try database.read { db in try db.fetchOne("SELECT \(Self.lockColumns) FROM locks WHERE target = ?", [target], Self.lock) }
    }

    public func locks() throws -> [LockRecord] {
        try database.read { db in try db.fetchAll("SELECT \(Self.lockColumns) FROM locks ORDER BY target", [], Self.lock) }
    }

    public func breakLock(target: String, runID: String?, by operatorName: String, reason: String) throws -> LockRecord? {
        try database.write { db in
            guard let current = try db.fetchOne("SELECT \(Self.lockColumns) FROM locks WHERE target = ?", [target], Self.lock),
                  runID == nil || current.runID == runID else { return nil }
            try db.execute("DELETE FROM locks WHERE target = ?", [target])
            try Self.insertEvent(db, .lockBroken, target: target, runID: current.runID,
                                 data: ["by": .string(operatorName), "reason": .string(reason), "holder_operator": .string(current.operatorName),
                                        "holder_host": .string(current.host), "holder_pid": .int(Int(current.pid))])
            return current
        }
    }

    public var knowsOtherMachines: Bool { false }

    /// Only this machine writes here: a holder is alive while its process is.
    public func isAlive(_ lock: LockRecord) throws -> Bool {
        ProcessIdentity.isAlive(host: lock.host, pid: lock.pid, start: lock.pidStart)
    }

    public func isAlive(_ run: RunRecord) throws -> Bool {
        ProcessIdentity.isAlive(host: run.host, pid: run.pid, start: run.pidStart)
    }

    /// A file on this machine cannot be lost mid-run the way a server can.
    public func watch(onLost: @escaping @Sendable (String) -> Void) {}
    public var lost: String? { nil }

    // MARK: - Inbound mail owed

    public func oweInbound(target: String, runID: String, reason: String) throws {
        try database.write { db in
            try db.execute("INSERT OR REPLACE INTO inbound_owed (target, run_id, since, reason) VALUES (?, ?, ?, ?)",
                           [target, runID, Date().timeIntervalSince1970, reason])
            try Self.insertEvent(db, .inboundOwed, target: target, runID: runID, data: ["reason": .string(reason)])
        }
    }

    public func settleInbound(target: String, runID: String?, by operatorName: String) throws {
        try database.write { db in
            try db.execute("DELETE FROM inbound_owed WHERE target = ?", [target])
            try Self.insertEvent(db, .inboundSettled, target: target, runID: runID, data: ["by": .string(operatorName)])
        }
    }

    public func inboundOwed(target: String) throws -> InboundOwed? {
        try database.read { db in
            try db.fetchOne("SELECT \(Self.owedColumns) FROM inbound_owed WHERE target = ?", [target], Self.owed)
        }
    }

    public func inboundOwed() throws -> [InboundOwed] {
        try database.read { db in try db.fetchAll("SELECT \(Self.owedColumns) FROM inbound_owed ORDER BY target", [], Self.owed) }
    }

    private static func owed(_ column: inout SQLiteRow) -> InboundOwed {
        InboundOwed(target: column.next(), runID: column.next(), since: date(column.next())!, reason: column.next())
    }

    // MARK: - Moving between stores

    public func importRun(_ bundle: RunBundle) throws -> ImportOutcome {
        try database.write { db in
            if let existing = try db.fetchOne("SELECT \(Self.runColumns) FROM runs WHERE id = ?", [bundle.run.id], Self.run) {
                guard existing.sameRun(as: bundle.run) else { throw JournalError.conflictingRun(bundle.run.id, existing: existing) }
                let had = try db.fetchAll("SELECT \(Self.reviewColumns) FROM reviews WHERE run_id = ?", [bundle.run.id], Self.review)
                for review in bundle.reviews(missingFrom: had) { try Self.insert(review, into: db) }
                return .alreadyThere
            }
            try Self.insert(bundle.run, into: db)
            for step in bundle.steps {
                let log = bundle.logs[step.id]
                try db.execute("""
                    INSERT INTO steps (run_id, phase, name, attempt, argv, started_at, ended_at, exit_code, signal, status, duration_ms,
                                       output_tail, log_path, message, pid, measurements, log, log_size, log_truncated)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [step.runID, step.phase, step.name, step.attempt, Self.json(step.argv), step.startedAt.timeIntervalSince1970,
                                     step.endedAt?.timeIntervalSince1970, step.exitCode, step.signal, step.status.rawValue, step.durationMs,
                                     step.outputTail, step.logPath, step.message, step.pid, step.measurements.map { Self.json($0) },
                                     log?.compressed, log?.size, log?.truncated])
            }
            for event in bundle.events {
                try db.execute("INSERT INTO events (run_id, target, at, kind, data) VALUES (?, ?, ?, ?, ?)",
                               [event.runID, event.target, event.at.timeIntervalSince1970, event.kind.rawValue, Self.json(event.data)])
            }
            for review in bundle.reviews { try Self.insert(review, into: db) }
            return .imported
        }
    }

    // MARK: - Rows

    // What `run`, `step`, `event`, `review`, `lock` and `owed` read, in the order they read it
    // (`SQLiteRow.next`). Every step column but the log, which only `log(stepID:)` reads.
    private static let runColumns = """
        id, kind, stack, environment, target, revision, revision_subject, descriptor_blob, inputs, operator, host, pid, pid_start, \
        started_at, ended_at, status, message, related_run
        """
    private static let stepColumns = """
        id, run_id, phase, name, attempt, argv, started_at, ended_at, exit_code, signal, status, duration_ms, output_tail, log_path, \
        message, pid, measurements
        """
    private static let eventColumns = "id, run_id, target, at, kind, data"
    private static let reviewColumns = "id, run_id, target, kind, subject, score, text, reviewer, host, at"
    private static let lockColumns = "target, run_id, operator, host, pid, pid_start, since, command"
    private static let owedColumns = "target, run_id, since, reason"

    private static func json<T: Encodable>(_ value: T) -> String { JournalJSON.encode(value) }
    private static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? { JournalJSON.decode(type, text) }

    private static func date(_ value: Double?) -> Date? { value.map(Date.init(timeIntervalSince1970:)) }

    /// Nil for a kind this deployctl does not know (written by a newer one).
    private static func run(_ column: inout SQLiteRow) -> RunRecord? {
        let id: String = column.next()
        guard let kind = RunKind(rawValue: column.next()) else { return nil }
        return RunRecord(id: id, kind: kind, stack: column.next(), environment: column.next(), target: column.next(),
                         revision: column.next(), revisionSubject: column.next(), descriptorBlob: column.next(),
                         inputs: decode([String: String].self, column.next()) ?? [:], operatorName: column.next(), host: column.next(),
                         pid: column.next(), pidStart: UInt64(bitPattern: column.next()), startedAt: date(column.next())!,
                         endedAt: date(column.next()), status: RunStatus(rawValue: column.next()) ?? .failed,
                         message: column.next(), relatedRun: column.next())
    }

    private static func step(_ column: inout SQLiteRow) -> StepRecord {
        StepRecord(id: column.next(), runID: column.next(), phase: column.next(), name: column.next(), attempt: column.next(),
                          argv: decode([String].self, column.next()) ?? [], startedAt: date(column.next())!, endedAt: date(column.next()),
                          exitCode: column.next(), signal: column.next(), status: StepStatus(rawValue: column.next()) ?? .failed,
                          durationMs: column.next(), outputTail: column.next(), logPath: column.next(), message: column.next(),
                          pid: column.next(), measurements: decode([ProbeMeasurement].self, column.next()))
    }

    /// Nil for a kind this deployctl does not know (written by a newer one).
    private static func event(_ column: inout SQLiteRow) -> EventRecord? {
        let (id, runID, target, at): (Int64, String?, String, Double) = (column.next(), column.next(), column.next(), column.next())
        guard let kind = EventKind(rawValue: column.next()) else { return nil }
        return EventRecord(id: id, runID: runID, target: target, at: date(at)!, kind: kind, data: decode(EventData.self, column.next()) ?? [:])
    }

    private static func lock(_ column: inout SQLiteRow) -> LockRecord {
        LockRecord(target: column.next(), runID: column.next(), operatorName: column.next(), host: column.next(), pid: column.next(),
                   pidStart: UInt64(bitPattern: column.next()), since: date(column.next())!, command: column.next())
    }
}
