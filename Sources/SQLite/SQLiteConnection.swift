import CSQLite
import Foundation

/// One connection to a database file, shared by the threads of one process: a lock inside
/// serializes them (the journal's group commit writes while the rest of a run reads), and each
/// caller holds it for a whole transaction.
public final class SQLiteConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = NSLock()

    /// Opens (creating) the file. A writer that finds the database busy waits up to
    /// `busyTimeoutMilliseconds` for the other process before failing.
    public init(path: String, busyTimeoutMilliseconds: Int32) throws {
        var opened: OpaquePointer?
        // NOMUTEX: the lock above already serializes every use of the connection.
        let code = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            throw SQLiteError(code: code, message: "\(message) (\(path))", sql: nil)
        }
        handle = opened
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
    }

    /// BEGIN and COMMIT, each compiled once: a `status` runs a dozen transactions, and
    /// `sqlite3_exec` compiled both statements again every time (~20,000 instructions each).
    /// Guarded by `lock`, as every use of the connection is.
    private var transactionStatements: [String: OpaquePointer] = [:]
    /// Set by `close`; guarded by `lock`.
    private var closed = false

    deinit { closeHandle() }

    /// Ends the connection now rather than at deinit (the CLI leaves by `exit`, so deinit never
    /// comes): the last connection to close copies the write-ahead log into the database file
    /// and cuts it to nothing (`journal_size_limit`), work the next process to open the file
    /// would otherwise do first (replaying every frame, then copying them at its own close).
    /// Any later use throws `SQLITE_MISUSE`.
    public func close() {
        lock.withLock { closeHandle() }
    }

    private func closeHandle() {
        guard !closed else { return }
        closed = true
        for statement in transactionStatements.values { sqlite3_finalize(statement) }
        transactionStatements = [:]
        sqlite3_close_v2(handle)
    }

    /// The handle, unless closed; the caller holds `lock`.
    private func openHandle() throws -> OpaquePointer {
        guard !closed else { throw SQLiteError(code: SQLITE_MISUSE, message: "the connection is closed", sql: nil) }
        return handle
    }

    /// Runs one of the fixed transaction statements; the caller holds `lock`.
    private func runTransactionStatement(_ sql: String) throws {
        let statement: OpaquePointer
        if let known = transactionStatements[sql] {
            statement = known
        } else {
            var made: OpaquePointer?
            let code = sqlite3_prepare_v2(handle, sql, -1, &made, nil)
            guard code == SQLITE_OK, let made else {
                sqlite3_finalize(made)
                throw SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
            }
            transactionStatements[sql] = made
            statement = made
        }
        defer { sqlite3_reset(statement) }
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else { throw SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql) }
    }

    /// Leaves the write-ahead log and its shared-memory index in place when the last connection
    /// closes (`SQLITE_FCNTL_PERSIST_WAL`): the next process opens them instead of creating,
    /// sizing, chowning and deleting both files again (14 system calls and four directory
    /// changes a command). The close still checkpoints everything into the database file.
    public func keepWriteAheadLog() {
        var on: Int32 = 1
        lock.withLock { if !closed { _ = sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &on) } }
    }

    public enum TransactionKind: Sendable {
        /// Takes the write lock when the first write runs: for reads.
        case deferred
        /// Takes the write lock at BEGIN (waiting for another writer): a transaction that reads
        /// and then writes can never find its read stale.
        case immediate
    }

    /// `body` inside BEGIN … COMMIT; an error rolls back and is thrown on.
    public func transaction<T>(_ kind: TransactionKind, _ body: (SQLiteDatabase) throws -> T) throws -> T {
        try lock.withLock {
            let database = SQLiteDatabase(handle: try openHandle())
            try runTransactionStatement(kind == .immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
            do {
                let value = try body(database)
                try runTransactionStatement("COMMIT")
                return value
            } catch {
                if sqlite3_get_autocommit(handle) == 0 { _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
                throw error
            }
        }
    }

    public func write<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T { try transaction(.immediate, body) }

    public func read<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T { try transaction(.deferred, body) }

    /// `body` outside any transaction: for pragmas that cannot run inside one.
    public func withoutTransaction<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try lock.withLock { try body(SQLiteDatabase(handle: try openHandle())) }
    }
}

/// The connection inside one `transaction` or `withoutTransaction` body; not to be kept.
public struct SQLiteDatabase {
    fileprivate let handle: OpaquePointer

    /// Runs `sql`: one statement with `?` arguments, or a script of several without any.
    public func execute(_ sql: String, _ arguments: [any SQLiteValue] = []) throws {
        if arguments.isEmpty {
            let code = sqlite3_exec(handle, sql, nil, nil, nil)
            guard code == SQLITE_OK else { throw failure(code, sql) }
            return
        }
        try withStatement(sql, arguments) { statement in
            var code = sqlite3_step(statement)
            while code == SQLITE_ROW { code = sqlite3_step(statement) }
            guard code == SQLITE_DONE else { throw failure(code, sql) }
        }
    }

    /// Every row `sql` returns, each made by `row` from its columns in the order the query
    /// names them (`SQLiteRow.next`); a row `row` makes nothing of is left out.
    public func fetchAll<T>(_ sql: String, _ arguments: [any SQLiteValue] = [], _ row: (inout SQLiteRow) throws -> T?) throws -> [T] {
        try withStatement(sql, arguments) { statement in
            var values: [T] = []
            while true {
                let code = sqlite3_step(statement)
                guard code == SQLITE_ROW else {
                    guard code == SQLITE_DONE else { throw failure(code, sql) }
                    return values
                }
                var columns = SQLiteRow(statement: statement)
                if let value = try row(&columns) { values.append(value) }
            }
        }
    }

    /// The first row's value, if there is a row.
    public func fetchOne<T>(_ sql: String, _ arguments: [any SQLiteValue] = [], _ row: (inout SQLiteRow) throws -> T?) throws -> T? {
        try withStatement(sql, arguments) { statement in
            let code = sqlite3_step(statement)
            guard code == SQLITE_ROW else {
                guard code == SQLITE_DONE else { throw failure(code, sql) }
                return nil
            }
            var columns = SQLiteRow(statement: statement)
            return try row(&columns)
        }
    }

    /// Rows the last INSERT, UPDATE or DELETE changed.
    public var changesCount: Int { Int(sqlite3_changes(handle)) }

    public var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    private func withStatement<T>(_ sql: String, _ arguments: [any SQLiteValue], _ body: (OpaquePointer) throws -> T) throws -> T {
        var prepared: OpaquePointer?
        let (code, rest) = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v2(handle, text, -1, &prepared, &tail)
            return (code, tail.map { String(cString: $0) } ?? "")
        }
        guard code == SQLITE_OK, let statement = prepared else { throw failure(code, sql) }
        defer { sqlite3_finalize(statement) }
        // What SQLite would otherwise pass over in silence: a second statement, a missing argument.
        guard rest.allSatisfy(\.isWhitespace) else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "more than one statement (use execute without arguments for a script)", sql: sql)
        }
        guard sqlite3_bind_parameter_count(statement) == arguments.count else {
            throw SQLiteError(code: SQLITE_RANGE, message: "\(arguments.count) argument(s) for \(sqlite3_bind_parameter_count(statement)) parameter(s)", sql: sql)
        }
        for (offset, argument) in arguments.enumerated() {
            let code = argument.bind(to: statement, at: Int32(offset + 1))
            guard code == SQLITE_OK else { throw failure(code, sql) }
        }
        return try body(statement)
    }

    private func failure(_ code: Int32, _ sql: String) -> SQLiteError {
        SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}

/// A result row's columns, read one after another in the order the query names them: by
/// position, never by name.
public struct SQLiteRow {
    fileprivate let statement: OpaquePointer
    private var index: Int32 = 0

    fileprivate init(statement: OpaquePointer) { self.statement = statement }

    public mutating func next<Value: SQLiteValue>() -> Value {
        precondition(index < sqlite3_column_count(statement), "read past the last column the query names")
        defer { index += 1 }
        return Value(statement: statement, column: index)
    }
}

/// What SQLite answered, and to which statement.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// SQLite's result code (5: the database is busy, 8: read-only, 26: not a database, …).
    public let code: Int32
    public let message: String
    public let sql: String?

    public var description: String {
        "SQLite error \(code & 0xff): \(message)" + (sql.map { " - while executing `\($0)`" } ?? "")
    }
}
