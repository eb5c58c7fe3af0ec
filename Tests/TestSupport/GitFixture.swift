import Foundation

/// A throwaway git repository built with the real git CLI, for tests. Dates are fixed so
/// histories are reproducible; every commit gets a time one minute after the previous one.
public final class GitFixture {
    public let directory: URL
    public var path: String { directory.path }
    private var clock: Int

    /// Creates an empty repository (`bare: true` for `git init --bare`).
    public init(bare: Bool = false, branch: String = "main") throws {
        directory = try TemporaryDirectory.make(prefix: "gitfixture")
        clock = 1_700_000_000
        try git(bare ? ["init", "-q", "--bare", "-b", branch] : ["init", "-q", "-b", branch])
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs git in the repository and returns its standard output (trailing newline removed).
    @discardableResult
    public func git(_ arguments: [String], input: String? = nil, advanceClock: Bool = false) throws -> String {
        if advanceClock { clock += 60 }
        let date = "\(clock) +0000"
        return try Shell.run("git", ["-C", path] + arguments, input: input, environment: [
            "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.test",
            "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.test",
            "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
        ])
    }

    /// Writes a file in the work tree (creating directories).
    public func write(_ relativePath: String, _ contents: String) throws {
        let url = directory.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
        // A script (`#!`) is committed executable, as it is in a real repository.
        if contents.hasPrefix("#!") { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
    }

    public func read(_ relativePath: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(relativePath), encoding: .utf8)
    }

    /// Writes the files, stages everything and commits; returns the new commit's full SHA.
    @discardableResult
    public func commit(_ message: String, files: [String: String] = [:], removing: [String] = []) throws -> String {
        for (file, contents) in files.sorted(by: { $0.key < $1.key }) { try write(file, contents) }
        for file in removing { try git(["rm", "-q", file]) }
        try git(["add", "-A"])
        try git(["commit", "-q", "--allow-empty", "-m", message], advanceClock: true)
        return try git(["rev-parse", "HEAD"])
    }

    /// Merges `branch` into the current branch with a merge commit; returns its SHA.
    @discardableResult
    public func merge(_ branch: String, message: String? = nil) throws -> String {
        try git(["merge", "-q", "--no-ff", "--no-edit", "-m", message ?? "Merge \(branch)", branch], advanceClock: true)
        return try git(["rev-parse", "HEAD"])
    }

    /// `git log --format=%H -- paths` from `revision`: the reference GitKit's history must match.
    public func logHashes(_ revision: String = "HEAD", paths: [String]) throws -> [String] {
        let out = try git(["log", "--format=%H", revision, "--"] + paths)
        return out.split(separator: "\n").map(String.init)
    }

    /// Appends `count` commits quickly through `git fast-import`, each changing `path` when
    /// `touches(i)` is true and `other/file-N` otherwise. Returns nothing; HEAD moves.
    public func fastImport(count: Int, branch: String = "main", path: String, touches: (Int) -> Bool) throws {
        let parent = try? git(["rev-parse", "--verify", "-q", "refs/heads/\(branch)"])
        var stream = ""
        for i in 0..<count {
            clock += 60
            let message = "commit \(i)"
            stream += "commit refs/heads/\(branch)\n"
            stream += "committer Ada Lovelace <ada@example.test> \(clock) +0000\n"
            stream += "data \(message.utf8.count)\n\(message)\n"
            if i == 0, let parent, !parent.isEmpty { stream += "from \(parent)\n" }
            let target = touches(i) ? path : "other/file-\(i % 50)"
            let body = "revision \(i)\n"
            stream += "M 100644 inline \(target)\ndata \(body.utf8.count)\n\(body)\n"
        }
        try git(["fast-import", "--quiet"], input: stream)
        if try git(["rev-parse", "--is-bare-repository"]) == "false" {
            try git(["reset", "-q", "--hard", branch])
        }
    }
}
