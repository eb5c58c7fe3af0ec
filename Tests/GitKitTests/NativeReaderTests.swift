import Foundation
@testable import GitKit
import Testing
import TestSupport

/// The native reader (`Sources/GitKit/Native`) against libgit2 on the same repositories, object
/// by object: loose, packed with offset and reference deltas, crafted commit messages and
/// signatures, damaged files, and the shapes it leaves to libgit2.
@Suite struct NativeReaderTests {
    /// Files of every kind git stores: nested directories, an executable, a symlink, a
    /// submodule entry, an empty file, names with spaces and non-ASCII letters, an annotated tag.
    private func varied() throws -> GitFixture {
        let fixture = try GitFixture()
        var big = (0..<4000).map { "line \($0) of a file large enough to be stored as deltas\n" }
        try fixture.commit("first", files: ["stacks/demo/local.yaml": "a: 1\n", "README": "r\n", "empty": ""])
        for round in 0..<12 {
            big[round * 300] = "changed in round \(round)\n"
            try fixture.commit("round \(round)", files: ["big.txt": big.joined(), "stacks/demo/prod.yaml": "round: \(round)\n",
                                                        "stacks/s\(round)/prod.yaml": "s: \(round)\n"])
        }
        try fixture.write("bin/deploy", "#!/bin/sh\necho deploy\n")
        try fixture.write("dir with space/Ünïcode ☃.yaml", "snow: man\n")
        try FileManager.default.createSymbolicLink(atPath: fixture.path + "/link", withDestinationPath: "stacks/demo/local.yaml")
        try fixture.git(["add", "-A"])
        try fixture.git(["update-index", "--add", "--cacheinfo", "160000,\(try fixture.git(["rev-parse", "HEAD"])),vendor/sub"])
        try fixture.git(["commit", "-q", "-m", "kinds"], advanceClock: true)
        try fixture.git(["tag", "-a", "v1", "-m", "release one"])
        try fixture.git(["tag", "light"])
        return fixture
    }

    /// Every commit, tree and blob read both ways, and the native side never loaded libgit2.
    private func expectSameAsLibgit2(_ fixture: GitFixture, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let native = try Repository.open(at: fixture.path)
        let reference = try Repository.openThroughLibgit2(at: fixture.path)
        #expect(native.native != nil, "the native reader declined an ordinary repository", sourceLocation: sourceLocation)
        #expect(native.gitDirectory == reference.gitDirectory, sourceLocation: sourceLocation)
        #expect(native.workDirectory == reference.workDirectory, sourceLocation: sourceLocation)
        #expect(try native.resolve("HEAD") == reference.resolve("HEAD"), sourceLocation: sourceLocation)
        #expect(native.hasCommits && reference.hasCommits, sourceLocation: sourceLocation)
        var counts: [String: Int] = [:]
        for line in try fixture.git(["cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"]).split(separator: "\n") {
            let parts = line.split(separator: " ")
            let id = try #require(ObjectID(hex: String(parts[0])))
            counts[String(parts[1]), default: 0] += 1
            switch parts[1] {
            case "commit":
                #expect(try native.commit(id) == reference.commit(id), "\(id)", sourceLocation: sourceLocation)
                #expect(try native.resolve(id.hex) == id, sourceLocation: sourceLocation)
            case "tree":
                let mine = try native.treeEntries(id), theirs = try reference.treeEntries(id)
                #expect(mine.map(\.entry) == theirs.map(\.entry) && mine.map(\.mode) == theirs.map(\.mode), "\(id)", sourceLocation: sourceLocation)
            case "blob":
                #expect(try native.readBlob(id).bytes == reference.readBlob(id).bytes, "\(id)", sourceLocation: sourceLocation)
            case "tag":
                #expect(try native.resolve(id.hex) == reference.resolve(id.hex), sourceLocation: sourceLocation)
            default:
                Issue.record("unexpected object type \(parts[1])", sourceLocation: sourceLocation)
            }
        }
        #expect(counts["commit", default: 0] > 10 && counts["tree", default: 0] > 10 && counts["blob", default: 0] > 10, "\(counts)", sourceLocation: sourceLocation)
        // Paths through trees: files, the symlink, a directory, a missing path, a file where a directory is asked.
        let head = try reference.resolve("HEAD")
        let all = [try PathPattern("**")!]
        #expect(try native.files(at: head, matching: all) == reference.files(at: head, matching: all), sourceLocation: sourceLocation)
        #expect(try native.readFile("link", at: head).bytes == Array("stacks/demo/local.yaml".utf8), sourceLocation: sourceLocation)
        #expect(try native.readFile("dir with space/Ünïcode ☃.yaml", at: head).bytes == Array("snow: man\n".utf8), sourceLocation: sourceLocation)
        #expect(try native.listDirectory("stacks", at: head) == reference.listDirectory("stacks", at: head), sourceLocation: sourceLocation)
        #expect(throws: GitError.pathNotFound(path: "stacks/nope/prod.yaml", commit: head), sourceLocation: sourceLocation) {
            _ = try native.readFile("stacks/nope/prod.yaml", at: head)
        }
        #expect(throws: GitError.pathNotFound(path: "README/x", commit: head), sourceLocation: sourceLocation) {
            _ = try native.readFile("README/x", at: head)
        }
        #expect(throws: GitError.wrongObjectType(path: "vendor/sub", commit: head, expected: "file"), sourceLocation: sourceLocation) {
            _ = try native.readFile("vendor/sub", at: head)
        }
        let exported = try TemporaryDirectory.make(prefix: "export")
        defer { try? FileManager.default.removeItem(at: exported) }
        try native.export(head, to: exported.path + "/tree")
        #expect(FileManager.default.isExecutableFile(atPath: exported.path + "/tree/bin/deploy"), sourceLocation: sourceLocation)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: exported.path + "/tree/link") == "stacks/demo/local.yaml", sourceLocation: sourceLocation)
        #expect(!native.usedLibgit2, "the native reader fell back to libgit2", sourceLocation: sourceLocation)
    }

    @Test func readsLooseObjectsAsLibgit2Does() throws {
        let fixture = try varied()
        #expect(try fixture.git(["count-objects"]).hasPrefix("0 objects") == false)
        try expectSameAsLibgit2(fixture)
    }

    @Test func readsPacksWithOffsetDeltasAndPackedRefs() throws {
        let fixture = try varied()
        try fixture.git(["gc", "-q", "--aggressive", "--prune=now"])
        #expect(try fixture.git(["count-objects"]).hasPrefix("0 objects"), "everything is packed")
        #expect(FileManager.default.fileExists(atPath: fixture.path + "/.git/packed-refs"))
        #expect(!FileManager.default.fileExists(atPath: fixture.path + "/.git/refs/heads/main"), "main is only in packed-refs")
        try expectDeltaChains(fixture, longerThan: 3)
        try expectSameAsLibgit2(fixture)
    }

    @Test func readsPacksWithReferenceDeltas() throws {
        let fixture = try varied()
        try fixture.git(["-c", "repack.useDeltaBaseOffset=false", "repack", "-q", "-a", "-d", "-f", "--depth=50"])
        try fixture.git(["prune-packed"])
        try expectDeltaChains(fixture, longerThan: 1)
        try expectSameAsLibgit2(fixture)
    }

    /// The pack really holds chains of deltas (git verify-pack lists "chain length = N: M objects").
    private func expectDeltaChains(_ fixture: GitFixture, longerThan depth: Int) throws {
        let pack = try #require(try FileManager.default.contentsOfDirectory(atPath: fixture.path + "/.git/objects/pack").first { $0.hasSuffix(".idx") })
        let report = try fixture.git(["verify-pack", "-v", ".git/objects/pack/" + pack])
        let lengths = report.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("chain length = ") else { return nil }
            return Int(line.dropFirst("chain length = ".count).prefix { $0.isNumber })
        }
        #expect((lengths.max() ?? 0) > depth, "\(lengths)")
    }

    /// Messages and signatures written by hand (`git hash-object -t commit`), as libgit2 reads them:
    /// leading blank lines, whitespace runs with and without newlines, a paragraph ended by a
    /// line of spaces, CRs, odd names, every time zone git writes; and one libgit2 reads its own way.
    @Test func commitSubjectsAndSignaturesMatchLibgit2() throws {
        let fixture = try GitFixture()
        let tree = try fixture.git(["hash-object", "-w", "-t", "tree", "--stdin"], input: "")
        let messages = [
            "plain subject\n", "\n\nafter blank lines\n\nbody\n", "one\ntwo  three\n\tfour\n \nnext paragraph\n",
            "tabs\tand  spaces   kept\n", "crlf\r\nline two\r\n\r\nbody\r\n", "trailing   \n", "", "no newline at all",
            "  leading spaces\n", "x\n   \n", "ünïcödé ☃ subject\n",
        ]
        let signatures = ["A U Thor <a@example.test> 1700000000 +0000", "  Spaced Name   <  s@example.test > 1 -0730",
                          "Zone <z@example.test> 1700000000 +0545", "Far <f@example.test> 1700000000 -1200",
                          "Odd <o@example.test> 1700000000 +1400"]
        var ids: [ObjectID] = []
        for (index, message) in messages.enumerated() {
            let signature = signatures[index % signatures.count]
            let body = "tree \(tree)\nauthor \(signature)\ncommitter \(signatures[(index + 1) % signatures.count])\n\n\(message)"
            ids.append(try #require(ObjectID(hex: try fixture.git(["hash-object", "-w", "-t", "commit", "--stdin", "--literally"], input: body))))
        }
        let native = try Repository.open(at: fixture.path)
        let reference = try Repository.openThroughLibgit2(at: fixture.path)
        for id in ids {
            #expect(try native.commit(id) == reference.commit(id))
        }
        #expect(native.usedLibgit2, "the +1400 zone is left to libgit2")
    }

    /// A loose object replaced by another's bytes, and a byte flipped inside a pack: the native
    /// reader refuses both (every object is hashed against its id), so the answer is libgit2's
    /// error, never the wrong bytes.
    @Test func damagedObjectsAreNeverReadAsOtherBytes() throws {
        let fixture = try GitFixture()
        try fixture.commit("first", files: ["a": "alpha\n", "b": "beta\n"])
        let a = try fixture.git(["rev-parse", "HEAD:a"]), b = try fixture.git(["rev-parse", "HEAD:b"])
        let objects = fixture.path + "/.git/objects/"
        let target = objects + a.prefix(2) + "/" + a.dropFirst(2)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target)
        try FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: objects + b.prefix(2) + "/" + b.dropFirst(2), toPath: target)
        let repository = try Repository.open(at: fixture.path)
        #expect(throws: (any Error).self) { _ = try repository.readBlob(ObjectID(hex: a)!) }
        #expect(try repository.readBlob(ObjectID(hex: b)!).bytes == Array("beta\n".utf8))

        let packed = try varied()
        try packed.git(["gc", "-q", "--prune=now"])
        let directory = packed.path + "/.git/objects/pack/"
        let pack = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasSuffix(".pack") })
        let truth = try Repository.openThroughLibgit2(at: packed.path)
        let blobs = try packed.git(["cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"])
            .split(separator: "\n").filter { $0.hasSuffix(" blob") }.compactMap { ObjectID(hex: String($0.prefix(40))) }
        let original = try #require(FileManager.default.contents(atPath: directory + pack))
        var expected: [ObjectID: [UInt8]] = [:]
        for id in blobs { expected[id] = try truth.readBlob(id).bytes }
        // Flip one byte at a time across the pack's body; every read is right or refused.
        for offset in stride(from: 12, to: original.count - 20, by: max(1, (original.count - 32) / 40)) {
            var damaged = original
            damaged[offset] ^= 0x5A
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + pack)
            try damaged.write(to: URL(fileURLWithPath: directory + pack))
            let repository = try Repository.open(at: packed.path)
            for id in blobs {
                if let bytes = try? repository.readBlob(id).bytes { #expect(bytes == expected[id], "offset \(offset), \(id)") }
            }
        }
    }

    /// Discovery finds what libgit2 finds, from a subdirectory and through a symlink, and a bare
    /// repository; a repository with no commit yet says so without libgit2.
    @Test func findsTheRepositoryLibgit2Finds() throws {
        let fixture = try varied()
        let link = try TemporaryDirectory.make(prefix: "link")
        defer { try? FileManager.default.removeItem(at: link) }
        try FileManager.default.createSymbolicLink(atPath: link.path + "/repo", withDestinationPath: fixture.path)
        for start in [fixture.path + "/stacks/demo", link.path + "/repo/stacks", fixture.path + "/.git"] {
            let native = try Repository.discover(from: start)
            #expect(native.native != nil, "\(start)")
            #expect(native.gitDirectory == (try Repository.openThroughLibgit2(at: fixture.path).gitDirectory), "\(start)")
        }
        let bare = try GitFixture(bare: true)
        try fixture.git(["push", "-q", bare.path, "main"])
        let nativeBare = try Repository.open(at: bare.path)
        #expect(nativeBare.native != nil && nativeBare.isBare)
        #expect(nativeBare.gitDirectory == (try Repository.openThroughLibgit2(at: bare.path).gitDirectory))
        #expect(try nativeBare.resolve("HEAD") == Repository.open(at: fixture.path).resolve("HEAD"))
        let empty = try GitFixture()
        let unborn = try Repository.open(at: empty.path)
        #expect(!unborn.hasCommits && !unborn.usedLibgit2)
        #expect(unborn.remotes().isEmpty && !unborn.usedLibgit2)
    }

    /// Linked worktrees, alternates, config includes, `core.worktree` and a configured remote are
    /// libgit2's: the repository still opens and reads the same, through libgit2.
    @Test func otherShapesAreLeftToLibgit2() throws {
        let fixture = try varied()
        let head = try fixture.git(["rev-parse", "HEAD"])
        let scratch = try TemporaryDirectory.make(prefix: "shapes")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try fixture.git(["worktree", "add", "-q", "--detach", scratch.path + "/worktree", "HEAD~1"])
        try Shell.run("git", ["clone", "-q", "--shared", fixture.path, scratch.path + "/shared"])
        let included = try GitFixture()
        try included.commit("one", files: ["f": "1\n"])
        try included.git(["config", "include.path", scratch.path + "/extra.config"])
        let remote = try GitFixture()
        try remote.commit("one", files: ["f": "1\n"])
        try remote.git(["remote", "add", "origin", fixture.path])
        let cases: [(String, String)] = [
            (scratch.path + "/worktree", try fixture.git(["rev-parse", "HEAD~1"])),
            (scratch.path + "/shared", head),
            (included.path, try included.git(["rev-parse", "HEAD"])),
        ]
        for (path, expected) in cases {
            let repository = try Repository.open(at: path)
            #expect(repository.native == nil, "\(path)")
            #expect(try repository.resolve("HEAD").hex == expected, "\(path)")
        }
        let withRemote = try Repository.open(at: remote.path)
        #expect(withRemote.native != nil)
        #expect(withRemote.remotes() == ["origin"] && withRemote.usedLibgit2)
    }

    /// Names compare as bytes, as git compares them: "K8s" is not the Kelvin sign's "\u{212A}8s"
    /// (equal as Swift Strings), and "file/" names no file.
    @Test func pathsMatchNamesByteForByte() throws {
        let fixture = try GitFixture()
        let head = try #require(ObjectID(hex: try fixture.commit("first", files: ["\u{212A}8s.yaml": "kelvin\n", "README": "r\n"])))
        let repository = try Repository.open(at: fixture.path)
        #expect(try !repository.exists("K8s.yaml", at: head))
        #expect(try repository.exists("\u{212A}8s.yaml", at: head))
        #expect(throws: GitError.pathNotFound(path: "README/", commit: head)) { _ = try repository.readFile("README/", at: head) }
        #expect(!repository.usedLibgit2)
    }

    /// A hand-made tree that names "x" twice, a symlink out of the export and then a file: the
    /// native reader refuses the tree, libgit2 lists both, and the export stops at the second
    /// rather than write through the link.
    @Test func anExportNeverWritesThroughALinkItMade() throws {
        let fixture = try GitFixture()
        let outside = try TemporaryDirectory.make(prefix: "outside")
        defer { try? FileManager.default.removeItem(at: outside) }
        let link = try fixture.git(["hash-object", "-w", "--stdin"], input: outside.path + "/written")
        let file = try fixture.git(["hash-object", "-w", "--stdin"], input: "payload\n")
        var tree = Data("120000 x\0".utf8) + Data(try #require(ObjectID(hex: link)).bytes)
        tree += Data("100644 x\0".utf8) + Data(try #require(ObjectID(hex: file)).bytes)
        let treeFile = outside.path + "/tree"
        try tree.write(to: URL(fileURLWithPath: treeFile))
        let treeID = try fixture.git(["hash-object", "-w", "-t", "tree", "--literally", treeFile])
        let commit = try #require(ObjectID(hex: try fixture.git(["commit-tree", treeID, "-m", "twice"])))
        let repository = try Repository.open(at: fixture.path)
        let exported = try TemporaryDirectory.make(prefix: "export")
        defer { try? FileManager.default.removeItem(at: exported) }
        #expect(throws: (any Error).self) { try repository.export(commit, to: exported.path + "/tree") }
        #expect(!FileManager.default.fileExists(atPath: outside.path + "/written"))
        #expect(repository.usedLibgit2, "the native reader refused the tree")
    }
}
