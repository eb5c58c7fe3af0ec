import Foundation

/// A stacks repository with one descriptor, a state directory beside it, and the CLI run
/// against both: the shape of every run test.
public final class StackFixture {
    public let git: GitFixture
    public let state: URL
    public var environment: [String: String]

    public init(_ descriptor: String, target: String = "stacks/x/prod.yaml", files: [String: String] = [:]) throws {
        git = try GitFixture()
        state = try TemporaryDirectory.make(prefix: "state")
        environment = ["DEPLOYCTL_STATE": state.path]
        var all = files
        all[target] = descriptor
        try git.commit("Add the stack", files: all)
    }

    deinit {
        try? FileManager.default.removeItem(at: state)
    }

    public var journal: String { state.path + "/journal.sqlite3" }

    @discardableResult
    public func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Shell.Result {
        try CLI.run(arguments, in: git.path, environment: environment.merging(extra) { _, new in new })
    }

    /// `deployctl show RUN --format json`, parsed.
    public func show(_ runID: String) throws -> [String: Any] {
        let result = try run(["show", runID, "--format", "json"])
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw Shell.Failure(command: "show", status: result.status, stdout: result.stdout, stderr: result.stderr)
        }
        return object
    }

    /// A command's `--format json` object, parsed (throws with its output when it is not one).
    public static func json(_ result: Shell.Result) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw Shell.Failure(command: "json", status: result.status, stdout: result.stdout, stderr: result.stderr)
        }
        return object
    }

    /// A command's `--format json` list, parsed.
    public static func jsonList(_ result: Shell.Result) throws -> [[String: Any]] {
        guard let list = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] else {
            throw Shell.Failure(command: "json", status: result.status, stdout: result.stdout, stderr: result.stderr)
        }
        return list
    }

    /// The newest run's id from `deployctl runs --format json`.
    public func lastRunID() throws -> String? {
        let result = try run(["runs", "--format", "json"])
        let runs = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        return runs?.first?["id"] as? String
    }

    public func requireLastRunID() throws -> String {
        guard let id = try lastRunID() else {
            throw Shell.Failure(command: "runs", status: 0, stdout: "", stderr: "no run recorded")
        }
        return id
    }

    /// Shell for a step that must still be running while the test acts (takes a lock, reads
    /// logs, kills it): it waits until `openGate()`, never for a fixed time that a loaded
    /// machine can outlast.
    public static let gate = waitForFile("$DEPLOYCTL_STATE/gate", while: "$DEPLOYCTL_STATE")

    /// Shell that waits until `file` exists. It also ends once `directory` is gone (the fixture
    /// of a test that failed before making the file) and after ~2 minutes at most, so no step
    /// is left looping. Double quotes only: it goes into single-quoted YAML.
    public static func waitForFile(_ file: String, while directory: String) -> String {
        #"i=0; until [ -e "\#(file)" ] || [ ! -d "\#(directory)" ] || [ $i -ge 2400 ]; do sleep 0.05; i=$((i+1)); done"#
    }

    /// Lets a step waiting on `gate` go on.
    public func openGate() {
        FileManager.default.createFile(atPath: state.path + "/gate", contents: nil)
    }

    /// Makes the next step that waits on `gate` wait again.
    public func closeGate() {
        try? FileManager.default.removeItem(atPath: state.path + "/gate")
    }

    /// Waits (at most `seconds`) until the journal records the process group of an attempt of
    /// `step` (deployctl writes it just after the spawn, after printing `▶`): a test that kills
    /// deployctl mid-step waits for it, or it may kill before there is anything for resume to find.
    /// Only a started attempt counts (an earlier run's may be in the journal too), so the step
    /// must still be running: held on a gate, not a sleep.
    public func waitForStepGroup(step name: String, seconds: Double = 60) throws -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let pgid = try journaledGroup("name = '\(name)' AND status = 'started'") { return pgid }
            usleep(20_000)
        }
        return nil
    }

    /// The newest journaled process group of the steps `condition` selects; nil while there is
    /// none, or while the journal is busy (a writer mid-commit is no reason to fail a test).
    private func journaledGroup(_ condition: String) throws -> Int32? {
        let group = try Shell.capture("sqlite3", ["-cmd", ".timeout 2000", journal,
                                                  "SELECT pid FROM steps WHERE \(condition) AND pid IS NOT NULL ORDER BY id DESC LIMIT 1"])
        guard group.status == 0 else { return nil }
        return Int32(group.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Waits (at most `seconds`) until the process group the journal records for a step's last
    /// attempt has no live process left: a step orphaned by a kill -9 of deployctl runs on to its
    /// end, and on a loaded machine that can take longer than the step's own sleep. False when
    /// the journal records no group for it (nothing was waited for).
    @discardableResult
    public func waitForStepGroupToEnd(run id: String, step name: String, seconds: Double = 30) throws -> Bool {
        guard let pgid = try journaledGroup("run_id = '\(id)' AND name = '\(name)'"), pgid > 1 else { return false }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !ProcessTable.canRun(pgid) { return true }
            usleep(50_000)
        }
        return false
    }

    /// Every file under the state directory whose bytes contain `needle`.
    public func stateFiles(containing needle: String) throws -> [String] {
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(at: state, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard let data = try? Data(contentsOf: url), !data.isEmpty else { continue }
            if data.range(of: Data(needle.utf8)) != nil { found.append(url.path) }
        }
        return found
    }
}

/// Stand-ins made of files in the state directory, for stacks that need a database or an
/// inbound switch but not the real thing: the file `db` ("the database") and `inbound` (on/off;
/// every flip also appends to `inbound-log`).
public enum FileStandIns {
    /// `stack` with a database its migrate phase writes (`db-VERSION`) and its backup copies.
    public static func withBackup(_ stack: String, version: String, onRollback: String? = nil) -> String {
        """
        backup:
          take: [sh, -c, "cp $DEPLOYCTL_STATE/db $1 2>/dev/null || echo empty > $1", sh, "${backup.path}"]
          verify: [test, -s, "${backup.path}"]
          restore: [sh, -c, "cp $1 $DEPLOYCTL_STATE/db", sh, "${backup.path}"]
        \(onRollback.map { "  on_rollback: \($0)" } ?? "")
        phases:
          migrate:
            - {name: migrate, run: [sh, -c, "echo db-\(version) > $DEPLOYCTL_STATE/db"]}
        """ + "\n" + stack.replacingOccurrences(of: "phases:\n", with: "")
    }

    public static let inboundYAML = """
        inbound:
          disable: [sh, -c, "echo off > $DEPLOYCTL_STATE/inbound; echo disable >> $DEPLOYCTL_STATE/inbound-log"]
          enable: [sh, -c, "echo on > $DEPLOYCTL_STATE/inbound; echo enable >> $DEPLOYCTL_STATE/inbound-log"]
          status:
            run: [cat, "${run.state_dir}/inbound"]
            enabled: {stdout_matches: '^on$'}
            disabled: {stdout_matches: '^off$'}
            wait: 2s
            interval: 200ms
        """
}

/// Processes on this machine whose command line contains `marker` (pgrep -f).
public func processesMatching(_ marker: String) throws -> [String] {
    let result = try Shell.capture("pgrep", ["-f", marker])
    return result.stdout.split(separator: "\n").map(String.init)
}

/// Waits (at most `seconds`) until `count` processes run exactly `commandLine` (pgrep -fx: not
/// the shell that starts them, whose own command line holds it too): a test that checks a
/// signal or a timeout left none behind first makes sure there were some, or it proves nothing.
public func waitForProcesses(exactly commandLine: String, count: Int, seconds: Double = 60) throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let found = try Shell.capture("pgrep", ["-fx", NSRegularExpression.escapedPattern(for: commandLine)])
        if found.stdout.split(separator: "\n").count >= count { return true }
        usleep(20_000)
    }
    return false
}
