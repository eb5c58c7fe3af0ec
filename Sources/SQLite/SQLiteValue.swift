import CSQLite
import Foundation

/// A Swift value SQLite keeps: bound as a statement's `?` argument, read back from a column.
/// A NULL column reads as nil into an optional, and as zero or empty otherwise.
public protocol SQLiteValue {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32
    init(statement: OpaquePointer, column: Int32)
}

/// SQLite copies what it is given before the call returns (SQLITE_TRANSIENT, a macro Swift
/// cannot import).
private let copied = unsafeBitCast(-1 as Int, to: sqlite3_destructor_type.self)

extension Optional: SQLiteValue where Wrapped: SQLiteValue {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .none: sqlite3_bind_null(statement, index)
        case .some(let value): value.bind(to: statement, at: index)
        }
    }

    public init(statement: OpaquePointer, column: Int32) {
        self = sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : Wrapped(statement: statement, column: column)
    }
}

extension Int64: SQLiteValue {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, self) }
    public init(statement: OpaquePointer, column: Int32) { self = sqlite3_column_int64(statement, column) }
}

extension Int: SQLiteValue {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, Int64(self)) }
    public init(statement: OpaquePointer, column: Int32) { self = Int(sqlite3_column_int64(statement, column)) }
}

extension Int32: SQLiteValue {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, Int64(self)) }
    public init(statement: OpaquePointer, column: Int32) { self = Int32(truncatingIfNeeded: sqlite3_column_int64(statement, column)) }
}

extension Bool: SQLiteValue {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, self ? 1 : 0) }
    public init(statement: OpaquePointer, column: Int32) { self = sqlite3_column_int64(statement, column) != 0 }
}

extension Double: SQLiteValue {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_double(statement, index, self) }
    public init(statement: OpaquePointer, column: Int32) { self = sqlite3_column_double(statement, column) }
}

extension String: SQLiteValue {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        var text = self
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return sqlite3_bind_text(statement, index, "", 0, copied) }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text64(statement, index, $0, UInt64(bytes.count), copied, UInt8(SQLITE_UTF8))
            }
        }
    }

    public init(statement: OpaquePointer, column: Int32) {
        guard let text = sqlite3_column_text(statement, column) else { self = ""; return }
        self = String(decoding: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
    }
}

extension Data: SQLiteValue {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return sqlite3_bind_zeroblob(statement, index, 0) }
            return sqlite3_bind_blob64(statement, index, base, UInt64(bytes.count), copied)
        }
    }

    public init(statement: OpaquePointer, column: Int32) {
        // The pointer first, then its length (SQLite's documented order).
        guard let bytes = sqlite3_column_blob(statement, column) else { self = Data(); return }
        self = Data(bytes: bytes, count: Int(sqlite3_column_bytes(statement, column)))
    }
}
