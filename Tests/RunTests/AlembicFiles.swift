import Foundation

/// The alembic project under Fixtures/alembic as repository files under `db/`: the config, the
/// env.py that reads DATABASE_URL, and the named migrations.
enum AlembicFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/alembic")

    static func files(_ versions: [String]) throws -> [String: String] {
        var files: [String: String] = [:]
        for name in ["alembic.ini", "env.py", "script.py.mako"] + versions.map({ "versions/\($0)" }) {
            files["db/\(name)"] = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        }
        return files
    }
}
