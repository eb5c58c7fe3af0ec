import Foundation
import LibPQSupport

/// One libpq connection, used by one thread at a time (a lock inside serializes callers: the
/// store's heartbeat and its run share it). Text parameters in, text values out.
public final class Connection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = NSLock()
    /// The connection's socket, read once: `sever` must not race libpq for it.
    private let socket: Int32
    /// When the statement now on the wire was sent (monotonic), for the store's watchdog.
    private let sent = NSLock()
    private var sentAt: UInt64?
    /// The connection string without its password, for messages.
    public let shown: String

    /// Connects with a libpq connection string (`key=value …` or a `postgresql://` URI).
    public init(conninfo: String, shown: String) throws {
        self.shown = shown
        var why = [CChar](repeating: 0, count: 512)
        guard pqs_load(&why, Int32(why.count)) == 0 else {
            throw PostgresError.unavailable(String(cString: why))
        }
        guard let handle = pqs_connectdb(conninfo) else { throw PostgresError.connection("out of memory", shown: shown) }
        guard pqs_status(handle) == CONNECTION_OK else {
            let message = String(cString: pqs_error_message(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            pqs_finish(handle)
            throw PostgresError.connection(message, shown: shown)
        }
        // Only a connection that opened is ever finished by deinit.
        self.handle = handle
        socket = pqs_socket(handle)
    }

    /// How long the statement on the wire has waited for its answer; nil when none is.
    public var inFlightSeconds: Double? {
        sent.withLock { sentAt.map { Double(DispatchTime.now().uptimeNanoseconds &- $0) / 1e9 } }
    }

    deinit { pqs_finish(handle) }

    /// Shuts the socket down without waiting for the connection's lock: a query stuck on a
    /// network cut fails at once, and so does every later one.
    public func sever() {
        if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    /// Runs one statement with `$1…` parameters (nil is SQL NULL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> Rows {
        try lock.withLock { try execute(sql, parameters) }
    }

    /// Runs `body` inside BEGIN … COMMIT on this connection, holding it for the whole
    /// transaction; any error rolls back.
    public func transaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        try lock.withLock {
            try execute("BEGIN", [])
            do {
                let value = try body(Transaction(connection: self))
                try execute("COMMIT", [])
                return value
            } catch {
                _ = try? execute("ROLLBACK", [])
                throw error
            }
        }
    }

    /// Statements inside a transaction (the connection's lock is already held).
    public struct Transaction {
        fileprivate let connection: Connection
        @discardableResult
        public func query(_ sql: String, _ parameters: [String?] = []) throws -> Rows {
            try connection.execute(sql, parameters)
        }
    }

    fileprivate func execute(_ sql: String, _ parameters: [String?]) throws -> Rows {
        sent.withLock { sentAt = DispatchTime.now().uptimeNanoseconds }
        defer { sent.withLock { sentAt = nil } }
        let result: OpaquePointer? = withCStrings(parameters) { values in
            pqs_exec_params(handle, sql, Int32(parameters.count), values)
        }
        guard let result else {
            throw PostgresError.connection(String(cString: pqs_error_message(handle)).trimmingCharacters(in: .whitespacesAndNewlines), shown: shown)
        }
        defer { pqs_clear(result) }
        switch pqs_result_status(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            return Rows(result)
        default:
            let message = String(cString: pqs_result_error_message(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            let state = pqs_result_error_field(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            if pqs_status(handle) != CONNECTION_OK || state?.hasPrefix("08") == true || state == "57P01" {
                throw PostgresError.connection(message, shown: shown)
            }
            throw PostgresError.statement(message, sqlState: state ?? "")
        }
    }

    private func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        // A NUL would end the C string early (and SQLite keeps it): text parameters never hold one.
        let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0.replacingOccurrences(of: "\0", with: "\u{FFFD}"))! } }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

/// A result's rows, copied out of libpq: `rows[i]["column"]` is the text value or nil.
public struct Rows: Sendable, RandomAccessCollection {
    public struct Row: Sendable {
        let columns: [String: Int]
        let values: [String?]
        public subscript(_ name: String) -> String? { columns[name].flatMap { values[$0] } }
        public func int(_ name: String) -> Int? { self[name].flatMap { Int($0) } }
        public func int64(_ name: String) -> Int64? { self[name].flatMap { Int64($0) } }
        public func bool(_ name: String) -> Bool? { self[name].map { $0 == "t" } }
        /// A bytea column (hex text) as bytes.
        public func bytes(_ name: String) -> [UInt8]? {
            guard let text = self[name] else { return nil }
            var length = 0
            guard let raw = text.withCString({ pqs_unescape_bytea(UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), &length) }) else { return nil }
            defer { pqs_freemem(raw) }
            return Array(UnsafeBufferPointer(start: raw, count: length))
        }
    }

    public let rows: [Row]
    public let affected: Int

    init(_ result: OpaquePointer) {
        let count = Int(pqs_ntuples(result)), fields = Int(pqs_nfields(result))
        var columns: [String: Int] = [:]
        for column in 0..<fields { columns[String(cString: pqs_fname(result, Int32(column)))] = column }
        rows = (0..<count).map { row in
            Row(columns: columns, values: (0..<fields).map { column in
                pqs_getisnull(result, Int32(row), Int32(column)) != 0 ? nil : String(cString: pqs_getvalue(result, Int32(row), Int32(column)))
            })
        }
        affected = Int(String(cString: pqs_cmd_tuples(result))) ?? 0
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { rows.count }
    public subscript(position: Int) -> Row { rows[position] }
}

public enum PostgresError: Error, CustomStringConvertible, Sendable {
    /// libpq cannot be loaded.
    case unavailable(String)
    /// The server cannot be reached, or the connection broke.
    case connection(String, shown: String)
    /// The server refused a statement (`sqlState` as PostgreSQL's documentation lists them).
    case statement(String, sqlState: String)

    public var description: String {
        switch self {
        case .unavailable(let why): return why
        case let .connection(why, shown): return "cannot reach the PostgreSQL store \(shown): \(why)"
        case let .statement(why, _): return why
        }
    }

    public var sqlState: String? {
        if case .statement(_, let state) = self { return state }
        return nil
    }

    public var isConnectionLoss: Bool {
        if case .connection = self { return true }
        return false
    }
}
