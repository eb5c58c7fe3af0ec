import Foundation
import GitKit
import Testing
import TestSupport

@Suite struct RepositoryTests {
    @Test func discoversTheRepositoryFromASubdirectory() throws {
        let fixture = try GitFixture()
        try fixture.commit("first", files: ["stacks/demo/local.yaml": "a: 1\n"])
        let repo = try Repository.discover(from: fixture.path + "/stacks/demo")
        #expect(repo.isBare == false)
        #expect(repo.workDirectory.map { URL(fileURLWithPath: $0).standardized.path }
                == URL(fileURLWithPath: fixture.path).standardized.path)
        #expect(try repo.resolve("HEAD").hex == fixture.git(["rev-parse", "HEAD"]))
    }

    @Test func opensABareRepository() throws {
        let source = try GitFixture()
        let sha = try source.commit("first", files: ["stacks/demo/local.yaml": "a: 1\n"])
        let bare = try GitFixture(bare: true)
        try source.git(["push", "-q", bare.path, "main"])
        let repo = try Repository.open(at: bare.path)
        #expect(repo.isBare)
        #expect(try repo.resolve("main").hex == sha)
        #expect(try repo.readFile("stacks/demo/local.yaml", at: repo.resolve("main")).bytes == Array("a: 1\n".utf8))
    }

    @Test func aDirectoryOutsideAnyRepositoryIsAClearError() throws {
        let dir = try TemporaryDirectory.make(prefix: "norepo")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            _ = try Repository.open(at: dir.path)
        } throws: { error in
            guard case GitError.notARepository(let path, _) = error else { return false }
            return path == dir.path
        }
    }

    @Test func resolvesEveryKindOfRevisionGitAccepts() throws {
        let fixture = try GitFixture()
        var shas: [String] = []
        for i in 0..<5 {
            shas.append(try fixture.commit("c\(i)", files: ["f": "\(i)\n"]))
        }
        try fixture.git(["tag", "v-light", shas[1]])
        try fixture.git(["tag", "-a", "v-annotated", "-m", "release", shas[2]])
        try fixture.git(["branch", "feature", shas[3]])
        let repo = try Repository.open(at: fixture.path)
        let cases: [(String, String)] = [
            ("HEAD", shas[4]), ("main", shas[4]), ("feature", shas[3]),
            ("v-light", shas[1]), ("v-annotated", shas[2]),
            (shas[0], shas[0]), (String(shas[0].prefix(7)), shas[0]),
            ("HEAD~3", shas[1]), ("main^", shas[3]), ("main@{1}", shas[3]),
            ("refs/tags/v-annotated", shas[2]),
        ]
        for (revision, expected) in cases {
            #expect(try repo.resolve(revision).hex == expected, "\(revision)")
        }
    }

    @Test func aBadRevisionNamesIt() throws {
        let fixture = try GitFixture()
        try fixture.commit("first", files: ["f": "1\n"])
        let repo = try Repository.open(at: fixture.path)
        for bad in ["no-such-branch", "HEAD~9", "deadbeefdeadbeef"] {
            #expect {
                _ = try repo.resolve(bad)
            } throws: { error in
                guard case GitError.unknownRevision(let named, _) = error else { return false }
                return named == bad && "\(error)".contains("unknown revision '\(bad)'")
            }
        }
        #expect {
            _ = try repo.resolve("HEAD^{tree}")
        } throws: { error in
            "\(error)".contains("names a tree, not a commit")
        }
    }

    @Test func readsAFileAtAnOldRevisionWithoutTouchingTheWorkTree() throws {
        let fixture = try GitFixture()
        let first = try fixture.commit("first", files: ["stacks/demo/local.yaml": "version: 1\n"])
        try fixture.commit("second", files: ["stacks/demo/local.yaml": "version: 2\n"])
        try fixture.write("stacks/demo/local.yaml", "uncommitted\n")
        let statusBefore = try fixture.git(["status", "--porcelain"])
        let indexBefore = try Data(contentsOf: fixture.directory.appendingPathComponent(".git/index"))

        let repo = try Repository.discover(from: fixture.path)
        let old = try repo.readFile("stacks/demo/local.yaml", at: repo.resolve(first))
        let head = try repo.readFile("stacks/demo/local.yaml", at: repo.resolve("HEAD"))
        #expect(String(decoding: old.bytes, as: UTF8.self) == "version: 1\n")
        #expect(String(decoding: head.bytes, as: UTF8.self) == "version: 2\n")
        #expect(old.id.hex == (try fixture.git(["rev-parse", "\(first):stacks/demo/local.yaml"])))

        #expect(try fixture.read("stacks/demo/local.yaml") == "uncommitted\n")
        #expect(try fixture.git(["status", "--porcelain"]) == statusBefore)
        #expect(try Data(contentsOf: fixture.directory.appendingPathComponent(".git/index")) == indexBefore)
    }

    @Test func missingPathsAndDirectoriesAreTypedErrors() throws {
        let fixture = try GitFixture()
        let sha = try fixture.commit("first", files: ["stacks/demo/local.yaml": "a\n"])
        let repo = try Repository.open(at: fixture.path)
        let head = try repo.resolve("HEAD")
        #expect(throws: GitError.pathNotFound(path: "stacks/demo/prod.yaml", commit: head)) {
            _ = try repo.readFile("stacks/demo/prod.yaml", at: head)
        }
        #expect(throws: GitError.wrongObjectType(path: "stacks/demo", commit: head, expected: "file")) {
            _ = try repo.readFile("stacks/demo", at: head)
        }
        #expect(try repo.exists("stacks/demo", at: head))
        #expect(try !repo.exists("stacks/nope", at: head))
        #expect(head.hex == sha)
    }

    @Test func listsADirectoryAtARevision() throws {
        let fixture = try GitFixture()
        try fixture.commit("first", files: ["stacks/a/prod.yaml": "x\n", "stacks/b/staging.yaml": "y\n", "README": "r\n"])
        let repo = try Repository.open(at: fixture.path)
        let head = try repo.resolve("HEAD")
        let stacks = try repo.listDirectory("stacks", at: head)
        #expect(stacks.map(\.name) == ["a", "b"])
        #expect(stacks.allSatisfy { $0.kind == .directory })
        let root = try repo.listDirectory("", at: head)
        #expect(root.map(\.name).sorted() == ["README", "stacks"])
    }

    @Test func libgit2FailuresCarryTheFunctionAndMessage() throws {
        let fixture = try GitFixture()
        try fixture.commit("first", files: ["f": "1\n"])
        let repo = try Repository.open(at: fixture.path)
        let missing = ObjectID(hex: "0123456789012345678901234567890123456789")!
        #expect {
            _ = try repo.commit(missing)
        } throws: { error in
            guard case GitError.libgit2(let function, let code, let message) = error else { return false }
            return function == "git_commit_lookup" && code < 0 && !message.isEmpty
        }
    }

    @Test func commitInfoMatchesGit() throws {
        let fixture = try GitFixture()
        try fixture.commit("Add the demo stack\n\nLonger body.", files: ["f": "1\n"])
        let repo = try Repository.open(at: fixture.path)
        let info = try repo.commit(repo.resolve("HEAD"))
        #expect(info.subject == "Add the demo stack")
        #expect(info.authorName == "Ada Lovelace")
        #expect(info.authorEmail == "ada@example.test")
        #expect("\(info.authorTime)" == (try fixture.git(["log", "-1", "--format=%at"])))
        #expect(info.parents.isEmpty)
    }

    @Test func objectIDRoundTripsHex() throws {
        let hex = "0123456789abcdef0123456789abcdef01234567"
        let id = try #require(ObjectID(hex: hex))
        #expect(id.hex == hex)
        #expect(id.short == "0123456")
        #expect(ObjectID(hex: "xyz") == nil)
        #expect(ObjectID(hex: String(repeating: "g", count: 40)) == nil)
    }

    @Test func theCABundleIsSkippedAtStartUp() {
        // Interposed in GitKitSupport: local reads never need TLS, and parsing the bundle
        // was most of libgit2's start-up cost.
        #expect(GitLibrary.skippedCABundle)
        #expect(GitLibrary.version.hasPrefix("1."))
    }
}
