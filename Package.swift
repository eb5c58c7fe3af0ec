// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "deployctl",
    // Linux only, as built and tested: process supervision reads /proc and uses pidfds
    // (Sources/ProcessSupport refuses to compile elsewhere rather than misbehave).
    products: [
        .executable(name: "deployctl", targets: ["deployctl"]),
        .library(name: "DeployKit", targets: ["DeployKit"]),
        .library(name: "GitKit", targets: ["GitKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.0"),
    ],
    targets: [
        // The system libgit2's headers (Debian's libgit2-dev), seen through a shim header. Not
        // linked (no pkgConfig: it would add -lgit2): GitKitSupport loads it on first use.
        .systemLibrary(name: "CGit2", providers: [.apt(["libgit2-dev"])]),
        // libgit2's loader, and C helpers GitKit needs that Swift cannot express (see
        // include/GitKitSupport.h). mbedtls_x509_crt_parse_file is exported by name so that
        // libgit2, loaded later, binds to it (no_ca_bundle.c); linking libgit2 used to do that.
        .target(
            name: "GitKitSupport", dependencies: ["CGit2"],
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic-symbol=mbedtls_x509_crt_parse_file"])]
        ),
        // Git repositories read natively (refs, loose objects, packs) and through libgit2 for the
        // rest; knows nothing of deployments.
        .target(name: "GitKit", dependencies: ["CGit2", "GitKitSupport", "ZlibSupport"]),
        // posix_spawn into a new process group, and pidfd: what running steps needs from C.
        .target(name: "ProcessSupport"),
        // glibc's libresolv (res_nquery against a chosen server): the DNS lookups probes make.
        .target(name: "ResolverSupport", linkerSettings: [.linkedLibrary("resolv")]),
        // libcurl (Debian's OpenSSL flavour) and OpenSSL's certificate reading, through dlopen with
        // the types from libcurl4-openssl-dev and libssl-dev: only a command that sends a request
        // loads them; linking libcurl would cost every command ~10 ms before main.
        .target(name: "CurlSupport"),
        // Network probes (HTTP, rate limits, DNS, TCP, TLS) over resolved values; knows no descriptor.
        .target(name: "Probes", dependencies: ["ResolverSupport", "CurlSupport"]),
        // libpq through dlopen (types from Debian's libpq-dev): only a command on a PostgreSQL
        // store loads it; linking it would cost every command ~5 ms before main.
        .target(name: "LibPQSupport"),
        // A small Swift API over libpq: connect, parameterized statements, transactions.
        .target(name: "Postgres", dependencies: ["LibPQSupport"]),
        // The system SQLite (Debian's libsqlite3-dev), linked (statically in the release binary,
        // see the Makefile): nearly every command reads the journal.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // A small Swift API over SQLite: one connection, transactions, values by position, migrations.
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        // zlib for logs kept in the store and for git's objects (linked: nearly every command reads one).
        .target(name: "ZlibSupport", linkerSettings: [.linkedLibrary("z")]),
        // The domain: descriptors, validation, plans, runs, the journal, reports.
        .target(
            name: "DeployKit",
            dependencies: [
                "GitKit", "ProcessSupport", "Probes", "Postgres", "SQLite", "ZlibSupport",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Yams", package: "Yams"),
            ],
            // The JSON contract, for the people and the tests that read it (README, "JSON output").
            exclude: ["Output/Schemas"]
        ),
        // The command line's grammar: commands, options and arguments declared as key paths
        // (no reflection: parsing reads the one command it runs), help, shell completion.
        .target(name: "Arguments", swiftSettings: [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        // The commands, argument declarations and terminal output; the work is DeployKit's.
        .executableTarget(name: "deployctl", dependencies: ["DeployKit", "Arguments"],
                          swiftSettings: [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        // Real git repositories and processes for the tests.
        .target(name: "TestSupport", dependencies: ["ProcessSupport"], path: "Tests/TestSupport"),
        .testTarget(name: "GitKitTests", dependencies: ["GitKit", "TestSupport"]),
        .testTarget(name: "DeployKitTests", dependencies: ["DeployKit", "GitKit", "SQLite", "TestSupport", .product(name: "Mustache", package: "swift-mustache")],
                    exclude: ["Golden"]),
        .testTarget(name: "deployctlTests", dependencies: ["Arguments", "TestSupport"]),
        .testTarget(name: "RunTests", dependencies: ["DeployKit", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "VerifyTests", dependencies: ["Probes", "DeployKit", "TestSupport"]),
        // The parsers under libFuzzer (`make fuzz`); a plain build replays inputs (regressions).
        .target(name: "FuzzSupport", path: "Tests/FuzzSupport"),
        .executableTarget(name: "deployctl-fuzz", dependencies: ["DeployKit", "GitKit", "FuzzSupport"], path: "Tests/Fuzz", exclude: ["Regressions"]),
    ]
)
