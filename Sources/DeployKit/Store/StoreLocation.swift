import Foundation
import Yams

/// Which store a command uses: `--state`, else `DEPLOYCTL_STATE`, else the committed
/// `deployctl-store.yml` at the stacks repository's HEAD, else the embedded SQLite store in
/// the state directory. A `postgres://` (or `postgresql://`) value names a shared store.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(directory: String)
    case postgres(PostgresURL)

    /// The committed file that names a team's store, read from HEAD (never the work tree).
    public static let fileName = "deployctl-store.yml"

    /// What an operator sees: the directory, or the URL with its password masked.
    public var shown: String {
        switch self {
        case .sqlite(let directory): return directory + "/" + SQLiteStore.fileName
        case .postgres(let url): return url.shown
        }
    }

    public static func isPostgres(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    /// The store file's YAML: `url:` (no password), optional `password_env:` and `schema:`.
    static func parseFile(_ text: String, environment: [String: String]) throws -> PostgresURL {
        let file = "\(fileName) at HEAD"
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw StoreConfigError("\(file) is not YAML: \(error)") }
        guard let mapping = node?.mapping else { throw StoreConfigError("\(file) must be a mapping with url: postgres://USER@HOST:PORT/DB") }
        var fields: [String: String] = [:]
        for (key, value) in mapping {
            guard let name = key.string, let text = value.string else { throw StoreConfigError("\(file): every value is a string") }
            guard ["url", "password_env", "schema"].contains(name) else {
                throw StoreConfigError("\(file): unknown key '\(name)' (known: url, password_env, schema)")
            }
            fields[name] = text
        }
        guard let url = fields["url"] else { throw StoreConfigError("\(file) has no url: (postgres://USER@HOST:PORT/DB?sslmode=…)") }
        guard isPostgres(url) else { throw StoreConfigError("\(file): url must start with postgres:// or postgresql://") }
        var parsed = try PostgresURL(url, environment: environment)
        guard !parsed.hadPassword else {
            throw StoreConfigError("\(file) holds a password in its url: passwords never go in git; remove it (and change it), then give it through PGPASSWORD, ~/.pgpass, PGSERVICE or password_env:")
        }
        if let schema = fields["schema"] { parsed = try parsed.with(schema: schema) }
        if let variable = fields["password_env"] { parsed = try parsed.with(passwordFrom: variable, environment: environment) }
        return parsed
    }
}

public struct StoreConfigError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A PostgreSQL store's address. libpq reads the URL (and its own `PGPASSWORD`, `~/.pgpass`,
/// `PGSERVICE`); deployctl takes two parameters out of it first, since libpq refuses ones it
/// does not know: `schema` (default `deployctl`) and `password_env` (a variable holding the
/// password). The password, wherever it came from, is never shown.
public struct PostgresURL: Sendable, Equatable {
    /// What libpq connects with (may hold the password).
    public private(set) var conninfo: String
    /// The same without any password, for every message.
    public private(set) var shown: String
    public private(set) var schema: String
    /// The URL itself carried a password (allowed on the command line, never in git).
    public private(set) var hadPassword: Bool
    /// The password when deployctl holds it (URL or password_env), for masking outputs.
    public private(set) var password: String?

    public init(_ text: String, environment: [String: String]) throws {
        guard var parts = URLComponents(string: text), let scheme = parts.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw StoreConfigError("'\(Self.mask(text))' is not a PostgreSQL URL (postgres://USER@HOST:PORT/DB?sslmode=…)")
        }
        hadPassword = parts.password != nil
        password = parts.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        var items = parts.queryItems ?? []
        schema = items.first { $0.name == "schema" }?.value ?? "deployctl"
        let variable = items.first { $0.name == "password_env" }?.value
        items.removeAll { $0.name == "schema" || $0.name == "password_env" }
        guard Self.validSchema(schema) else { throw StoreConfigError("schema '\(schema)' is not a plain identifier (letters, digits, _)") }
        parts.queryItems = items.isEmpty ? nil : items
        conninfo = parts.string ?? text
        shown = Self.mask(conninfo)
        if schema != "deployctl" { shown += (items.isEmpty ? "?" : "&") + "schema=\(schema)" }
        if let variable { self = try with(passwordFrom: variable, environment: environment) }
    }

    func with(schema: String) throws -> PostgresURL {
        guard Self.validSchema(schema) else { throw StoreConfigError("schema '\(schema)' is not a plain identifier (letters, digits, _)") }
        var copy = self
        copy.schema = schema
        if !shown.contains("schema=") { copy.shown += (shown.contains("?") ? "&" : "?") + "schema=\(schema)" }
        return copy
    }

    func with(passwordFrom variable: String, environment: [String: String]) throws -> PostgresURL {
        guard let value = environment[variable], !value.isEmpty else {
            throw StoreConfigError("the store's password comes from the environment variable \(variable), which is not set")
        }
        var copy = self
        copy.password = value
        let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
        copy.conninfo += (conninfo.contains("?") ? "&" : "?") + "password=" + encoded
        return copy
    }

    /// The connection deployctl opens: the URL plus timeouts that let a lost store be noticed
    /// (client keepalives) and let the server end a silent session, freeing its locks
    /// (`idle_session_timeout`; the store's heartbeat keeps live sessions busy).
    var connectionString: String {
        let extra = ["connect_timeout": "5", "keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "2", "keepalives_count": "3",
                     "tcp_user_timeout": "10000", "application_name": "deployctl",
                     "options": "-c idle_session_timeout=\(PostgresStore.serverIdleMs) -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 -c tcp_user_timeout=10000"]
        var text = conninfo
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) where !text.contains("\(key)=") {
            text += (text.contains("?") ? "&" : "?") + key + "=" + (value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)
        }
        return text
    }

    static func validSchema(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 63 else { return false }
        return (CharacterSet.lowercaseLetters.contains(first) || first == "_")
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// `postgres://user:secret@host` → `postgres://user:••••@host`, for text that did not parse.
    static func mask(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.range(of: "@", range: scheme.upperBound..<text.endIndex),
              let colon = text.range(of: ":", range: scheme.upperBound..<at.lowerBound) else { return text }
        return String(text[..<colon.upperBound]) + "••••" + String(text[at.lowerBound...])
    }
}
