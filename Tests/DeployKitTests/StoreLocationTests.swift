import Foundation
import Testing
@testable import DeployKit

/// Naming a shared store: what libpq gets, what people see (never a password), what git may hold.
@Suite struct StoreLocationTests {
    @Test func aPasswordIsShownNowhere() throws {
        let url = try PostgresURL("postgres://ops:s3cr@t!@db.internal:5432/deploys?sslmode=require", environment: [:])
        #expect(url.shown == "postgres://ops:••••@db.internal:5432/deploys?sslmode=require")
        #expect(url.hadPassword && url.password == "s3cr@t!")
        let query = try PostgresURL("postgres://ops@db/deploys?password=hunter2&sslmode=disable", environment: [:])
        #expect(query.hadPassword && !query.shown.contains("hunter2") && query.shown.contains("password=••••"), "\(query.shown)")
        #expect(PostgresURL.mask("postgresql://u:p@ss@host/x") == "postgresql://u:••••@host/x", "cut at the last @ before the path")
        #expect(PostgresURL.mask("postgres://u@host:5432/x") == "postgres://u@host:5432/x")
        // Unencoded '/', '?' and '#' in a password (no valid URL, shown in the error that says so).
        for password in ["p/ss", "p?ss", "p#ss", "a/b@c?d"] {
            let masked = PostgresURL.mask("postgres://u:\(password)@host/x?sslmode=require")
            #expect(masked == "postgres://u:••••@host/x?sslmode=require", "\(password): \(masked)")
        }
        #expect(PostgresURL.mask("postgres://u@h/x?sslpassword=k1&password=k2&passwordless=1") == "postgres://u@h/x?sslpassword=••••&password=••••&passwordless=1")
    }

    /// What `psql` is told to try when the store cannot be reached: before, it held the
    /// password `password_env` gave (appended to what libpq sees), percent-encoded.
    @Test func theHintToTryPsqlHoldsNoPassword() throws {
        let url = try PostgresURL("postgres://ops@db/deploys?password_env=STORE_PW", environment: ["STORE_PW": "p@ss/1"])
        #expect(url.conninfo.contains("password=p%40ss%2F1"), "libpq still gets it: \(url.conninfo)")
        #expect(!url.shownForPsql.contains("p%40ss") && url.shownForPsql.contains("password=••••"), "\(url.shownForPsql)")
        let query = try PostgresURL("postgres://ops@db/deploys?password=hunter2", environment: [:])
        #expect(!query.shownForPsql.contains("hunter2"), "\(query.shownForPsql)")
    }

    /// A commit could otherwise point the store at its own server and name any variable (a
    /// cloud key) as the password to send it.
    @Test func aCommittedStoreFileNamesOnlyDeployctlVariablesForThePassword() throws {
        #expect(throws: StoreConfigError.self) {
            try StoreLocation.parseFile("url: postgres://x@evil.example/d\npassword_env: AWS_SECRET_ACCESS_KEY\n", environment: ["AWS_SECRET_ACCESS_KEY": "k"])
        }
        #expect(throws: StoreConfigError.self) {
            try StoreLocation.parseFile("url: postgres://x@evil.example/d?password_env=AWS_SECRET_ACCESS_KEY\n", environment: ["AWS_SECRET_ACCESS_KEY": "k"])
        }
        let url = try StoreLocation.parseFile("url: postgres://ops@db/d\npassword_env: DEPLOYCTL_STORE_PASSWORD\n", environment: ["DEPLOYCTL_STORE_PASSWORD": "k"])
        #expect(url.password == "k")
        // The command line and DEPLOYCTL_STATE are the operator's own: any name there.
        #expect(try PostgresURL("postgres://ops@db/d?password_env=PW", environment: ["PW": "k"]).password == "k")
    }

    @Test func schemaAndPasswordEnvAreTakenOutOfWhatLibpqSees() throws {
        let url = try PostgresURL("postgres://ops@db/deploys?schema=team_a&password_env=STORE_PW&sslmode=require",
                                  environment: ["STORE_PW": "pw with spaces&="])
        #expect(url.schema == "team_a" && url.passwordVariable == "STORE_PW" && url.password == "pw with spaces&=")
        let connection = url.connectionString(naming: "deployctl/42/7/host-a")
        #expect(!connection.contains("schema=") && !connection.contains("password_env="))
        #expect(connection.contains("password=pw%20with%20spaces%26%3D"), "\(connection)")
        #expect(connection.contains("application_name=deployctl%2F42%2F7%2Fhost-a"))
        #expect(connection.contains("options=-c%20idle_session_timeout%3D60000"))
        #expect(connection.contains("idle_in_transaction_session_timeout%3D60000") && connection.contains("lock_timeout%3D30000")
                && connection.contains("statement_timeout%3D120000"), "\(connection)")
        #expect(!url.shown.contains("pw with") && url.shown.contains("schema=team_a"))
        #expect(!url.shownForPsql.contains("schema="), "psql refuses parameters libpq does not know")
        #expect(throws: StoreConfigError.self) { try PostgresURL("postgres://ops@db/deploys?password_env=UNSET", environment: [:]) }
        #expect(throws: StoreConfigError.self) { try PostgresURL("postgres://ops@db/deploys?schema=Robert'); DROP", environment: [:]) }
    }

    @Test func theUsersOwnOptionsAreKeptAndOursAdded() throws {
        let url = try PostgresURL("postgres://ops@db/deploys?options=-c%20statement_timeout%3D5000", environment: [:])
        let connection = try #require(URLComponents(string: url.connectionString(naming: "deployctl/1/1/h")))
        let options = try #require(connection.queryItems?.first { $0.name == "options" }?.value)
        #expect(options.hasPrefix("-c statement_timeout=5000 -c idle_session_timeout="), "\(options)")
        #expect(connection.queryItems?.filter { $0.name == "options" }.count == 1)
    }

    @Test func theCommittedFileHoldsNoPassword() throws {
        #expect(throws: StoreConfigError.self) { try StoreLocation.parseFile("url: postgres://ops:pw@db/deploys\n", environment: [:]) }
        #expect(throws: StoreConfigError.self) { try StoreLocation.parseFile("url: postgres://ops@db/deploys?password=pw\n", environment: [:]) }
        #expect(throws: StoreConfigError.self) { try StoreLocation.parseFile("url: postgres://ops@db/deploys\nsheme: x\n", environment: [:]) }
        let url = try StoreLocation.parseFile("url: postgres://ops@db/deploys\nschema: team\npassword_env: DEPLOYCTL_PW\n", environment: ["DEPLOYCTL_PW": "x"])
        #expect(url.schema == "team" && url.password == "x")
    }

    @Test func aSessionNamesItsProcess() throws {
        let name = ProcessName(pid: 4242, start: 99, machine: ProcessName.here, host: "ci-runner/7")
        #expect(ProcessName(name.text) == name, "a host holding the separator still reads back")
        #expect(ProcessName("psql") == nil && ProcessName("deployctl/x/1/m/h") == nil)
        #expect(name.isHere && ProcessName.here.count == 8)
        #expect(!ProcessName(pid: 4242, start: 99, machine: "0badc0de", host: "ci-runner/7").isHere, "another boot or pid namespace")
        #expect(ProcessName("deployctl/4242/99/ci-runner") == nil, "the name without a machine (an older deployctl): never checked here")
    }
}
