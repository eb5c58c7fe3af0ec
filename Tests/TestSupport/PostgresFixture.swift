import Foundation

/// A real PostgreSQL 15 server on 127.0.0.1 for one test: initdb into a temporary directory
/// (as the postgres user: initdb refuses root), a random port, password authentication over
/// TCP. Stopped and deleted when the fixture goes away.
public final class PostgresFixture: @unchecked Sendable {
    public static let bin = "/usr/lib/postgresql/15/bin"
    public let port: Int
    public let password: String
    private let directory: URL
    private let settings: [String]

    /// `settings`: server settings given at start (`shared_preload_libraries=pg_stat_statements`).
    public init(settings: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.bin + "/initdb") else {
            throw Shell.Failure(command: "initdb", status: 127, stdout: "",
                                stderr: "PostgreSQL 15 is not installed (make test installs postgresql-15)")
        }
        directory = try TemporaryDirectory.make(prefix: "pg")
        password = "pg-\(UUID().uuidString.prefix(12))"
        let data = directory.appendingPathComponent("data").path
        let passwordFile = directory.appendingPathComponent("pw").path
        try password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        try Shell.run("chown", ["-R", "postgres:postgres", directory.path])
        try Shell.run("runuser", ["-u", "postgres", "--", Self.bin + "/initdb", "-D", data, "-U", "postgres", "--pwfile=\(passwordFile)",
                                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"])
        var started: Int? = nil
        var failure: Shell.Result? = nil
        for _ in 0..<5 {
            // Below Linux's ephemeral ports (32768-60999), which the suite's own client sockets take.
            let candidate = Int.random(in: 20_000...32_000)
            let result = try Self.pgCtlStart(data: data, directory: directory, port: candidate, settings: settings)
            if result.status == 0 { started = candidate; break }
            failure = result
        }
        guard let started else { throw Self.startFailure(failure, directory: directory) }
        port = started
        self.settings = settings
        try psql("CREATE DATABASE app")
    }

    private static func pgCtlStart(data: String, directory: URL, port: Int, settings: [String]) throws -> Shell.Result {
        try Shell.capture("runuser", ["-u", "postgres", "--", bin + "/pg_ctl", "-D", data, "-w", "-l", directory.path + "/log",
                                      "-o", (["-c listen_addresses=127.0.0.1 -p \(port) -k \(directory.path)"] + settings.map { "-c \($0)" }).joined(separator: " "), "start"])
    }

    /// pg_ctl's answer with the end of the server's log, which says why (pg_ctl only says "Examine the log output").
    private static func startFailure(_ result: Shell.Result?, directory: URL) -> Shell.Failure {
        let log = (try? String(contentsOf: directory.appendingPathComponent("log"), encoding: .utf8)) ?? ""
        let tail = log.split(separator: "\n").suffix(15).joined(separator: "\n")
        return Shell.Failure(command: "pg_ctl start", status: result?.status ?? 1, stdout: result?.stdout ?? "",
                             stderr: (result?.stderr ?? "") + "\nserver log (\(directory.path)/log), last lines:\n" + tail)
    }

    /// One server for a whole test process (each test uses its own schema or database), stopped
    /// when the process exits.
    public static let shared: Result<PostgresFixture, Error> = {
        do {
            let fixture = try PostgresFixture()
            sharedDataDirectory = fixture.directory.appendingPathComponent("data").path
            atexit {
                if let data = PostgresFixture.sharedDataDirectory {
                    _ = try? Shell.capture("runuser", ["-u", "postgres", "--", PostgresFixture.bin + "/pg_ctl", "-D", data, "-m", "immediate", "stop"])
                    try? FileManager.default.removeItem(atPath: (data as NSString).deletingLastPathComponent)
                }
            }
            return .success(fixture)
        } catch {
            return .failure(error)
        }
    }()
    nonisolated(unsafe) private static var sharedDataDirectory: String?

    /// `postgres://` URL of a database on this server (the password given apart, as PGPASSWORD).
    public func url(database: String = "postgres", user: String = "postgres", schema: String? = nil) -> String {
        "postgres://\(user)@127.0.0.1:\(port)/\(database)" + (schema.map { "?schema=\($0)" } ?? "")
    }

    /// Stops the server the hard way (as a crash or a power cut would), and starts it again.
    public func stop() throws {
        _ = try Shell.capture("runuser", ["-u", "postgres", "--", Self.bin + "/pg_ctl", "-D", directory.appendingPathComponent("data").path,
                                          "-m", "immediate", "stop"])
    }

    /// Starts it again on its port. A loaded machine can hold that port a moment longer (the last
    /// server's children exiting, a client socket), so up to 10 tries a second apart; then the
    /// server log's own words.
    public func start() throws {
        var failure: Shell.Result? = nil
        for attempt in 0..<10 {
            if attempt > 0 { Thread.sleep(forTimeInterval: 1) }
            let result = try Self.pgCtlStart(data: directory.appendingPathComponent("data").path, directory: directory, port: port, settings: settings)
            if result.status == 0 { return }
            failure = result
        }
        throw Self.startFailure(failure, directory: directory)
    }

    deinit {
        _ = try? Shell.capture("runuser", ["-u", "postgres", "--", Self.bin + "/pg_ctl", "-D", directory.appendingPathComponent("data").path,
                                           "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// The top of a descriptor for a stack on this server: inputs `pg_port` and `alembic`, the
    /// password as a secret, libpq's environment as defaults, and README's PostgreSQL backup
    /// block: a restore that cannot half-happen (the schema reset and the whole dump in one
    /// transaction, stopping at the first error) and a check of what the database holds.
    public static let stackPreamble = """
        inputs:
          pg_port: {required: true, pattern: '[0-9]+'}
          alembic: {required: true}
        secrets:
          PGPASSWORD: {env: TEST_PGPASSWORD}
        defaults:
          env:
            PGHOST: 127.0.0.1
            PGPORT: ${inputs.pg_port}
            PGUSER: postgres
            PGDATABASE: app
            PGPASSWORD: ${secrets.PGPASSWORD}
            DATABASE_URL: postgresql+psycopg2://postgres@127.0.0.1:${inputs.pg_port}/app
        backup:
          take: [/usr/lib/postgresql/15/bin/pg_dump, -Fc, -f, "${backup.path}"]
          verify: [/usr/lib/postgresql/15/bin/pg_restore, --list, "${backup.path}"]
          restore:
            shell: |
              set -e
              sql="${backup.path}.sql"
              trap 'rm -f "$sql"' EXIT
              /usr/lib/postgresql/15/bin/pg_restore -f "$sql" "${backup.path}"
              /usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 --single-transaction \\
                -c 'DROP SCHEMA public CASCADE' -c 'CREATE SCHEMA public AUTHORIZATION pg_database_owner' \\
                -c 'GRANT USAGE ON SCHEMA public TO PUBLIC' -c "COMMENT ON SCHEMA public IS 'standard public schema'" -f "$sql"
          check:
            shell: |
              /usr/lib/postgresql/15/bin/psql -XAt -c "select string_agg(table_name, ',' order by table_name) from information_schema.tables where table_schema = 'public'"
              /usr/lib/postgresql/15/bin/psql -XAt -c "select version_num from alembic_version" 2>/dev/null || echo "no alembic_version"
        """

    /// libpq's environment for this server.
    public var environment: [String: String] {
        ["PGHOST": "127.0.0.1", "PGPORT": "\(port)", "PGUSER": "postgres", "PGPASSWORD": password]
    }

    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try Shell.run(Self.bin + "/psql", ["-X", "-v", "ON_ERROR_STOP=1", "-Atq", "-d", database, "-c", sql], environment: environment)
    }

    /// Schema and rows of a database as text, to compare before and after.
    public func snapshot(_ database: String = "app") throws -> String {
        let schema = try Shell.run(Self.bin + "/pg_dump", ["--schema-only", "--no-owner", "-d", database], environment: environment)
        let rows = try Shell.run(Self.bin + "/pg_dump", ["--data-only", "--inserts", "--no-owner", "-d", database], environment: environment)
        // pg_dump (since 15.14) wraps its output in \restrict KEY lines with a random key.
        return (schema + "\n" + rows).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }.joined(separator: "\n")
    }
}

/// The Python virtual environment `make test` prepares (alembic, psycopg2, moto, awscli).
public enum TestVenv {
    public static var bin: String {
        if let explicit = ProcessInfo.processInfo.environment["DEPLOYCTL_TEST_VENV"] { return explicit + "/bin" }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/venv/bin").path
    }

    public static func tool(_ name: String) throws -> String {
        let path = bin + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Shell.Failure(command: name, status: 127, stdout: "", stderr: "\(path) is missing: run `make test` (it builds the test venv)")
        }
        return path
    }
}
