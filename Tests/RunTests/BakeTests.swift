import Foundation
import Testing
import TestSupport

/// `bake:` the checks repeated after postdeploy, each round journaled; a failed round rolls
/// back like a failed verify; the report's "first hour" is made of the rounds.
@Suite struct BakeTests {
    /// `health` counts its calls in $WORLD/calls and fails from call `failFrom` on.
    static func descriptor(_ version: String, failFrom: Int = 1000, bake: String = "") -> String {
        """
        phases:
          deploy:
            - name: release
              run: [sh, -c, "echo \(version) > $WORLD/app"]
              rollback: [sh, -c, "echo undone-\(version) >> $WORLD/undo-log"]
          verify:
            - name: health
              run: [sh, -c, "n=$(cat $WORLD/calls 2>/dev/null || echo 0); n=$((n+1)); echo $n > $WORLD/calls; echo call $n; test $n -lt \(failFrom)"]
        \(bake)
        """
    }

    func stack(_ world: URL) throws -> StackFixture {
        let stack = try StackFixture(Self.descriptor("v1"))
        stack.environment["WORLD"] = world.path
        #expect(try stack.run(["up", "prod"]).status == 0)
        try? FileManager.default.removeItem(at: world.appendingPathComponent("calls"))
        return stack
    }

    @Test func aBakeRoundThatFailsInTheThirdRoundRollsBack() throws {
        let world = try TemporaryDirectory.make(prefix: "world")
        defer { try? FileManager.default.removeItem(at: world) }
        let stack = try stack(world)
        // verify is call 1, bake rounds are calls 2, 3, 4: the third round fails.
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.descriptor("v2", failFrom: 4, bake: "bake: {duration: 3s, interval: 1s, checks: [health]}")])
        #expect(try stack.run(["plan", "prod"]).stdout.contains("bake: health again every 1s for 3s (3 rounds); a failed round rolls back like a failed verify"))
        let up = try stack.run(["up", "prod"])
        #expect(up.status == 1, "\(up.stdout)\(up.stderr)")
        #expect(up.stdout.contains("✓ bake/health#2") && up.stdout.contains("✗ bake/health#3"), "\(up.stdout)")
        #expect(up.stdout.contains("bake round 3 of 3: bake/health#3 failed"), "\(up.stdout)")
        #expect(up.stdout.contains("rolling back automatically"), "\(up.stdout)")
        #expect(try String(contentsOf: world.appendingPathComponent("undo-log"), encoding: .utf8) == "undone-v2\n")
        let status = try StackFixture.json(try stack.run(["status", "prod", "--format", "json"]))
        let runs = try StackFixture.jsonList(try stack.run(["runs", "--format", "json"]))
        let failedUp = try #require(runs.first { $0["kind"] as? String == "up" && $0["status"] as? String == "rolled_back" })
        let upID = try #require(failedUp["id"] as? String)
        #expect(status["deployed_revision"] as? String == runs.last?["revision"] as? String, "v1 is live again")

        // Every round is journaled; the report's first hour is made of them.
        let rounds = try Shell.run("sqlite3", [stack.journal, "SELECT name || ':' || status FROM steps WHERE run_id = '\(upID)' AND phase = 'bake' ORDER BY id"])
        #expect(rounds == "health#1:succeeded\nhealth#2:succeeded\nhealth#3:failed", "\(rounds)")
        let markdown = try String(contentsOfFile: "\(stack.state.path)/reports/\(upID)/report.md", encoding: .utf8)
        #expect(markdown.contains("## First hour (bake window)") && markdown.contains("health every 1s: 3 of 3 rounds, the last FAILED"), "\(markdown)")
        #expect(markdown.contains("| 3 | 20") && markdown.contains("| ✗ failed |"), "\(markdown)")
        let junit = try String(contentsOfFile: "\(stack.state.path)/reports/\(upID)/report.junit.xml", encoding: .utf8)
        #expect(junit.contains("name=\"bake/health#3\"") && junit.contains("tests=\"4\" failures=\"1\""), "\(junit)")
        let reportJSON = try stack.run(["report", upID, "--format", "json"])
        // Held to the report's JSON Schema (Tests/scripts/check-json.py), bake section included.
        let file = stack.state.path + "/report.json"
        try reportJSON.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let checker = RepositoryFiles.root.appendingPathComponent("Tests/scripts/check-json.py").path
        let check = try Shell.capture(TestVenv.bin + "/python", [checker, "report", file])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let report = try StackFixture.json(reportJSON)
        let bake = try #require(report["bake"] as? [String: Any])
        #expect((bake["rounds"] as? [[String: Any]])?.map { $0["status"] as? String } == ["succeeded", "succeeded", "failed"])
        #expect((bake["rounds"] as? [[String: Any]])?.allSatisfy { ($0["after_seconds"] as? Int).map { $0 >= 1 } == true } == true)
    }

    @Test func aKilledBakeResumesFromTheRoundItDidNotFinish() throws {
        let world = try TemporaryDirectory.make(prefix: "world")
        defer { try? FileManager.default.removeItem(at: world) }
        let stack = try stack(world)
        // 4 s between rounds: the kill must land before round 2 ends, on a loaded machine too.
        try stack.git.commit("v2", files: ["stacks/x/prod.yaml": Self.descriptor("v2", bake: "bake: {duration: 12s, interval: 4s, checks: [health]}")])
        let up = try BackgroundCLI(["up", "prod"], in: stack.git.path, environment: stack.environment)
        #expect(up.waitFor("✓ bake/health#1", seconds: 60))
        kill(up.pid, SIGKILL)
        _ = up.wait()
        let runID = try stack.requireLastRunID()
        let resumed = try stack.run(["resume", runID])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("rounds 1–1 passed before the resume"), "\(resumed.stdout)")
        let rounds = try Shell.run("sqlite3", [stack.journal, "SELECT name FROM steps WHERE run_id = '\(runID)' AND phase = 'bake' AND status = 'succeeded' ORDER BY id"])
        #expect(rounds == "health#1\nhealth#2\nhealth#3", "round 1 ran once: \(rounds)")
    }
}
