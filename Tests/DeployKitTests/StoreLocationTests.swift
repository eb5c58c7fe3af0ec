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
        let url = try StoreLocation.parseFile("url: postgres://ops@db/deploys\nschema: team\npassword_env: PW\n", environment: ["PW": "x"])
        #expect(url.schema == "team" && url.password == "x")
    }

    @Test func aSessionNamesItsProcess() throws {
        let name = ProcessName(pid: 4242, start: 99, host: "ci-runner/7")
        #expect(ProcessName(name.text) == name, "a host holding the separator still reads back")
        #expect(ProcessName("psql") == nil && ProcessName("deployctl/x/1/h") == nil)
    }
}
