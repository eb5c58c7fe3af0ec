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
        // A commit names it (as password_env:, or password_env= in its url): any other name would
        // hand that variable (a cloud key, a token) to whatever server the same commit names.
        if let variable = parsed.passwordVariable, !variable.hasPrefix("DEPLOYCTL_") {
            throw StoreConfigError("\(file): password_env names \(variable), but a committed store file may only name a variable starting with DEPLOYCTL_ (a commit must not be able to send another variable to the server it names); rename it, e.g. DEPLOYCTL_STORE_PASSWORD")
        }
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
    /// The password when deployctl holds it (URL or password_env).
    public private(set) var password: String?
    /// The variable `password_env` names: steps never see it.
    public private(set) var passwordVariable: String?
    /// The URL as libpq takes it, password masked: what a person can paste into `psql`.
    public var shownForPsql: String { Self.mask(conninfo) }

    public init(_ text: String, environment: [String: String]) throws {
        guard var parts = URLComponents(string: text), let scheme = parts.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw StoreConfigError("'\(Self.mask(text))' is not a PostgreSQL URL (postgres://USER@HOST:PORT/DB?sslmode=…)")
        }
        var items = parts.queryItems ?? []
        // libpq also takes the password as a query parameter: the same secret, kept as such.
        let queryPassword = items.first { $0.name == "password" }?.value
        hadPassword = parts.password != nil || queryPassword != nil
        password = parts.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? queryPassword
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
        copy.passwordVariable = variable
        let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
        copy.conninfo += (conninfo.contains("?") ? "&" : "?") + "password=" + encoded
        return copy
    }

    /// The connection deployctl opens: the URL plus what lets a lost store be noticed (client
    /// keepalives) and lets the server end a session it no longer hears from, freeing its locks
    /// (idle timeout and server keepalives: `PostgresStore.serverSilenceSeconds`; the store's
    /// heartbeat keeps live sessions busy), and the process's name for liveness (`ProcessName`).
    /// The user's own `options=` are kept, ours added to them.
    func connectionString(naming process: String) -> String {
        let silence = PostgresStore.serverSilenceSeconds
        // Bounded on the server's side too: a session cut off inside a transaction (which the
        // idle timeout does not cover) ends, and no statement waits forever behind someone's
        // table lock (a VACUUM FULL) or a stuck disk, before the client's watchdog starts.
        let server = "-c idle_session_timeout=\(silence * 1000) -c tcp_keepalives_idle=\(silence / 3) -c tcp_keepalives_interval=\(silence / 9)"
            + " -c tcp_keepalives_count=3 -c tcp_user_timeout=\(silence * 1000)"
            + " -c idle_in_transaction_session_timeout=\(silence * 1000) -c lock_timeout=\(silence * 500) -c statement_timeout=\(silence * 2000)"
        guard var parts = URLComponents(string: conninfo) else { return conninfo }
        var items = parts.queryItems ?? []
        let defaults = ["connect_timeout": "5", "keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "2", "keepalives_count": "3",
                        "tcp_user_timeout": "10000"]
        for (key, value) in defaults.sorted(by: { $0.key < $1.key }) where !items.contains(where: { $0.name == key }) {
            items.append(URLQueryItem(name: key, value: value))
        }
        items.removeAll { $0.name == "application_name" }
        items.append(URLQueryItem(name: "application_name", value: process))
        if let index = items.firstIndex(where: { $0.name == "options" }) {
            items[index].value = (items[index].value ?? "") + " " + server
        } else {
            items.append(URLQueryItem(name: "options", value: server))
        }
        // URLComponents leaves '+' and '=' alone in values; libpq decodes only %XX.
        parts.percentEncodedQueryItems = items.map { URLQueryItem(name: $0.name, value: $0.value.map(Self.encode)) }
        return parts.string ?? conninfo
    }

    private static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? value
    }

    static func validSchema(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 63 else { return false }
        return (CharacterSet.lowercaseLetters.contains(first) || first == "_")
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// `postgres://user:secret@host?password=x` → `postgres://user:••••@host?password=••••`,
    /// also for text that is no valid URL (an error message shows what was given). The user
    /// info ends at the last `@` of the text: a password holding `@`, `/`, `?` or `#` unencoded
    /// is masked whole (a query holding `@` masks more than it must, never less). The values
    /// of `password=` and `sslpassword=` are masked wherever they stand.
    static func mask(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        var masked = text
        if let at = masked.range(of: "@", options: .backwards, range: scheme.upperBound..<masked.endIndex),
           let colon = masked.range(of: ":", range: scheme.upperBound..<at.lowerBound) {
            masked = String(masked[..<colon.upperBound]) + "••••" + String(masked[at.lowerBound...])
        }
        guard let question = masked.firstIndex(of: "?") else { return masked }
        let items = masked[masked.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { item in
            guard let name = ["password=", "sslpassword="].first(where: { item.hasPrefix($0) }) else { return String(item) }
            return name + "••••"
        }
        masked = String(masked[...question]) + items.joined(separator: "&")
        return masked
    }
}
