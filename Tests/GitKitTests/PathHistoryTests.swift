import Foundation
import GitKit
import Testing
import TestSupport

/// GitKit's path history must list exactly what `git log --format=%H -- PATH` lists.
@Suite struct PathHistoryTests {
    private func history(_ fixture: GitFixture, _ paths: [String], from revision: String = "HEAD") throws -> [String] {
        let repo = try Repository.open(at: fixture.path)
        return try repo.history(of: paths, from: repo.resolve(revision)).map(\.id.hex)
    }

    @Test func linearHistoryListsOnlyCommitsThatChangedThePath() throws {
        let fixture = try GitFixture()
        try fixture.commit("add", files: ["stacks/demo/prod.yaml": "1\n"])
        try fixture.commit("unrelated", files: ["README": "r\n"])
        try fixture.commit("change", files: ["stacks/demo/prod.yaml": "2\n"])
        try fixture.commit("other stack", files: ["stacks/other/prod.yaml": "o\n"])
        try fixture.commit("same content again", files: ["stacks/demo/prod.yaml": "2\n"])
        let expected = try fixture.logHashes(paths: ["stacks/demo/prod.yaml"])
        #expect(expected.count == 2)
        #expect(try history(fixture, ["stacks/demo/prod.yaml"]) == expected)
    }

    @Test func historyCarriesAuthorTimeAndSubject() throws {
        let fixture = try GitFixture()
        try fixture.commit("Add demo", files: ["stacks/demo/prod.yaml": "1\n"])
        let repo = try Repository.open(at: fixture.path)
        let entries = try repo.history(of: ["stacks/demo/prod.yaml"], from: repo.resolve("HEAD"))
        #expect(entries.count == 1)
        #expect(entries[0].subject == "Add demo")
        #expect(entries[0].authorName == "Ada Lovelace")
        #expect("\(entries[0].authorTime)" == (try fixture.git(["log", "-1", "--format=%at"])))
    }

    @Test func aModeChangeCounts() throws {
        let fixture = try GitFixture()
        try fixture.commit("add", files: ["deploy.sh": "echo\n"])
        try fixture.git(["update-index", "--chmod=+x", "deploy.sh"])
        try fixture.git(["commit", "-q", "-m", "chmod"], advanceClock: true)
        #expect(try history(fixture, ["deploy.sh"]) == fixture.logHashes(paths: ["deploy.sh"]))
        #expect(try history(fixture, ["deploy.sh"]).count == 2)
    }

    @Test func mergesFollowGitsSimplification() throws {
        let fixture = try GitFixture()
        let path = "stacks/demo/prod.yaml"
        try fixture.commit("base", files: [path: "a\nb\n-\n-\n-\nc\n", "README": "0\n"])

        // 1. Only the side branch changes the path: the merge is hidden, the side commit shown.
        try fixture.git(["checkout", "-q", "-b", "side1"])
        try fixture.commit("side1 changes path", files: [path: "A\nb\n-\n-\n-\nc\n"])
        try fixture.git(["checkout", "-q", "main"])
        try fixture.commit("main unrelated", files: ["README": "1\n"])
        try fixture.merge("side1")

        // 2. Both sides change the path: the merge differs from both parents and is shown.
        try fixture.git(["checkout", "-q", "-b", "side2"])
        try fixture.commit("side2 changes line 3", files: [path: "A\nb\n-\n-\n-\nC\n"])
        try fixture.git(["checkout", "-q", "main"])
        try fixture.commit("main changes line 2", files: [path: "A\nB\n-\n-\n-\nc\n"])
        try fixture.merge("side2")

        // 3. Neither side changes the path: nothing from that merge is shown.
        try fixture.git(["checkout", "-q", "-b", "side3"])
        try fixture.commit("side3 unrelated", files: ["README": "3\n"])
        try fixture.git(["checkout", "-q", "main"])
        try fixture.commit("main unrelated 2", files: ["NOTES": "n\n"])
        try fixture.merge("side3")

        // 4. The same change made on both sides: the merge matches its first parent.
        try fixture.git(["checkout", "-q", "-b", "side4"])
        try fixture.commit("side4 same change", files: [path: "A\nB\n-\n-\n-\nC\nD\n"])
        try fixture.git(["checkout", "-q", "main"])
        try fixture.commit("main same change", files: [path: "A\nB\n-\n-\n-\nC\nD\n"])
        try fixture.merge("side4")

        let expected = try fixture.logHashes(paths: [path])
        #expect(try history(fixture, [path]) == expected)
        let subjects = try fixture.git(["log", "--format=%s", "--", path]).split(separator: "\n")
        #expect(subjects.contains("Merge side2"))
        #expect(!subjects.contains("Merge side1"))
        #expect(subjects.contains("side1 changes path"))
        // Also from a branch tip and for a directory path.
        #expect(try history(fixture, [path], from: "side2") == fixture.logHashes("side2", paths: [path]))
        #expect(try history(fixture, ["stacks"]) == fixture.logHashes(paths: ["stacks"]))
    }

    @Test func anOctopusMergeAndEqualTimestampsMatchGit() throws {
        let fixture = try GitFixture()
        let path = "stacks/x/prod.yaml"
        try fixture.commit("base", files: [path: "0\n"])
        for name in ["a", "b", "c"] {
            try fixture.git(["checkout", "-q", "-b", name, "main"])
            try fixture.write("\(name).txt", "\(name)\n")
            try fixture.write(path, "\(name)\n")
            try fixture.git(["add", "-A"])
            // Same committer time on every branch: the order must still match git's.
            try fixture.git(["commit", "-q", "-m", "branch \(name)"])
        }
        try fixture.git(["checkout", "-q", "main"])
        // An octopus merge cannot resolve conflicting edits; merge with the path taken from "c".
        try fixture.git(["merge", "-q", "-s", "ours", "--no-edit", "a", "b", "c"], advanceClock: true)
        try fixture.git(["checkout", "c", "--", path])
        try fixture.git(["commit", "-q", "--amend", "--no-edit"])
        #expect(try history(fixture, [path]) == fixture.logHashes(paths: [path]))
        #expect(try history(fixture, ["a.txt", path]) == fixture.logHashes(paths: ["a.txt", path]))
    }

    @Test func aRenamedStackFileIsFollowedByPathOnly() throws {
        let fixture = try GitFixture()
        try fixture.commit("add old", files: ["stacks/old/prod.yaml": "x: 1\n"])
        try fixture.commit("edit old", files: ["stacks/old/prod.yaml": "x: 2\n"])
        try fixture.git(["mv", "stacks/old", "stacks/new"])
        try fixture.git(["commit", "-q", "-m", "rename stack"], advanceClock: true)
        try fixture.commit("edit new", files: ["stacks/new/prod.yaml": "x: 3\n"])
        let newHistory = try history(fixture, ["stacks/new/prod.yaml"])
        #expect(try newHistory == fixture.logHashes(paths: ["stacks/new/prod.yaml"]))
        #expect(newHistory.count == 2)
        #expect(try history(fixture, ["stacks/old/prod.yaml"]) == fixture.logHashes(paths: ["stacks/old/prod.yaml"]))
    }

    @Test func aThousandCommitsWithALimit() throws {
        let fixture = try GitFixture()
        try fixture.commit("root", files: ["stacks/big/prod.yaml": "start\n"])
        try fixture.fastImport(count: 1_200, path: "stacks/big/prod.yaml") { $0 % 7 == 0 }
        let expected = try fixture.logHashes(paths: ["stacks/big/prod.yaml"])
        #expect(expected.count == 173)
        #expect(try history(fixture, ["stacks/big/prod.yaml"]) == expected)
        let repo = try Repository.open(at: fixture.path)
        let limited = try repo.history(of: ["stacks/big/prod.yaml"], from: repo.resolve("HEAD"), limit: 5)
        #expect(limited.map(\.id.hex) == Array(expected.prefix(5)))
    }

    @Test func aPathThatNeverExistedHasNoHistory() throws {
        let fixture = try GitFixture()
        try fixture.commit("root", files: ["a": "1\n"])
        #expect(try history(fixture, ["stacks/none.yaml"]).isEmpty)
    }
}

/// The on-disk cache must change nothing but speed.
@Suite struct HistoryCacheTests {
    @Test func aCachedWalkEqualsAColdWalkAndSurvivesNewCommits() throws {
        let fixture = try GitFixture()
        let path = "stacks/big/prod.yaml"
        try fixture.commit("root", files: [path: "start\n"])
        try fixture.fastImport(count: 300, path: path) { $0 % 5 == 0 }
        try fixture.git(["checkout", "-q", "-b", "side"])
        try fixture.commit("side change", files: [path: "side\n"])
        try fixture.git(["checkout", "-q", "main"])
        try fixture.commit("main change", files: ["other.txt": "x\n"])
        try fixture.merge("side")

        let dir = try TemporaryDirectory.make(prefix: "cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("history.bin").path
        let repo = try Repository.open(at: fixture.path)
        let expected = try fixture.logHashes(paths: [path])

        let cold = try repo.history(of: [path], from: repo.resolve("HEAD"), cache: HistoryCache(file: file, paths: [path]))
        #expect(cold.map(\.id.hex) == expected)
        let reloaded = HistoryCache(file: file, paths: [path])
        #expect(reloaded.count >= 300)
        let warm = try repo.history(of: [path], from: repo.resolve("HEAD"), cache: reloaded)
        #expect(warm == cold)

        // New commits on top: the cache fills in only what is new, and the answer stays git's.
        try fixture.commit("later", files: [path: "later\n"])
        let later = try repo.history(of: [path], from: repo.resolve("HEAD"), cache: HistoryCache(file: file, paths: [path]))
        #expect(later.map(\.id.hex) == (try fixture.logHashes(paths: [path])))

        // A cache written for other paths, or garbage, is ignored.
        #expect(HistoryCache(file: file, paths: ["other"]).count == 0)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: file))
        let fromGarbage = try repo.history(of: [path], from: repo.resolve("HEAD"), cache: HistoryCache(file: file, paths: [path]))
        #expect(fromGarbage.map(\.id.hex) == (try fixture.logHashes(paths: [path])))
    }
}
