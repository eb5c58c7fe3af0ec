import Foundation
import GitKit

/// Turns a command into the same command on a host, through the system's OpenSSH client:
/// strict host keys from the stack's known-hosts file, no prompt (`BatchMode`), one
/// multiplexed connection per host reused across steps (`ControlMaster`). The remote argv is
/// only `exec sh -s`: the command and its environment (secrets included) travel on standard input,
/// so no process list on either side ever shows them.
struct SSHRemote {
    let spec: SSHSpec
    /// The exported tree of the pinned commit: a relative `known_hosts` is read from it.
    let tree: String
    let revision: String
    /// `release:`: the hosts it covers get `$DEPLOYCTL_RELEASE_DIR`, made before the command runs.
    var release: ReleaseSpec? = nil
    var releaseHosts: Set<String> = []
    /// `RunnableSteps.rollbackTarget`, handed to `release.activate` as `$DEPLOYCTL_ROLLBACK_REVISION`.
    var rollbackTarget: String? = nil

    var knownHostsFile: String { spec.knownHosts.hasPrefix("/") ? spec.knownHosts : tree + "/" + spec.knownHosts }

    /// Where the multiplexed connections live: short (a socket path is at most 107 bytes) and
    /// private. Nil (no multiplexing) when that directory is not ours alone: a socket planted
    /// there by another user would receive our commands.
    static let controlDirectory: String? = {
        let directory = "/tmp/deployctl-ssh-\(getuid())"
        mkdir(directory, 0o700)
        var info = stat()
        guard lstat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid(),
              info.st_mode & 0o077 == 0 else { return nil }
        return directory
    }()

    /// The socket of `host`'s master connection, named by everything the connection was
    /// verified with (address, port, user, the known-hosts file's content, the identity): a
    /// stack never rides a connection that another stack's trust roots let in. A path of our
    /// own, not ssh's `%C`, so deployctl can open sessions on it without starting ssh.
    func controlPath(_ host: HostSpec) -> String? {
        // A known-hosts file that is not a regular file of at most 16 MiB (a commit can make it
        // a link to /dev/zero) is not read here: no shared connection; ssh then reads it, within
        // the step's timeout.
        guard let control = Self.controlDirectory,
              let knownHosts = try? BoundedFile.read(knownHostsFile, limit: 16 << 20) ?? [] else { return nil }
        let key = [host.address, "\(host.port)", host.user ?? spec.user ?? "", spec.identityFile ?? ""].joined(separator: "\n")
        return control + "/" + ObjectID.blob(of: Array(key.utf8) + [0] + knownHosts).description
    }

    /// What the login shell runs: a shell reading the step's script from standard input. `exec`:
    /// a login shell such as dash would otherwise fork it and wait, a process more per step.
    static let scriptReader = "exec sh -s"

    /// The ssh argv that reaches `host` and runs `remote` there (default: the script on stdin),
    /// sharing the master connection at `control` (`controlPath(host)`; nil: none).
    func sshArgv(_ host: HostSpec, control: String?, remote: String = SSHRemote.scriptReader) -> [String] {
        var argv = ["ssh", "-T",
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                    "-o", "UserKnownHostsFile=\(knownHostsFile)", "-o", "GlobalKnownHostsFile=/dev/null",
                    "-o", "ConnectTimeout=10", "-p", "\(host.port)"]
        if let control {
            argv += ["-o", "ControlMaster=auto", "-o", "ControlPath=\(control)", "-o", "ControlPersist=60"]
        } else {
            argv += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        }
        if let identity = spec.identityFile { argv += ["-o", "IdentitiesOnly=yes", "-i", identity] }
        let user = host.user ?? spec.user
        argv.append(user.map { "\($0)@\(host.address)" } ?? host.address)
        argv += ["--", remote]
        return argv
    }

    /// The script `scriptReader` reads: the environment exported, then the command exec'd.
    func script(_ command: RunnableCommand, host: HostSpec) -> String {
        var env = command.env
        env["DEPLOYCTL_HOST"] = host.name
        env["DEPLOYCTL_REVISION"] = revision
        // The host's own variables win over the step's (a port or a path only that host has).
        for (name, value) in host.env { env[name] = value }
        var lines = ["set -e"] + Self.exports(env)
        if let release, releaseHosts.contains(host.name) {
            lines.append("export DEPLOYCTL_RELEASE_DIR=\(ReleaseLayout.directory(release, revision: revision))")
            // Only a deploy's own steps make it: a rollback's check must see a release that is gone as gone.
            if command.ref.phase == Phase.deploy.rawValue, !command.ref.name.hasPrefix(ReleaseLayout.activate) {
                lines.append("mkdir -p \"$DEPLOYCTL_RELEASE_DIR\"")
            }
            if command.ref.name.hasPrefix(ReleaseLayout.activate), let rollbackTarget {
                lines.append("export DEPLOYCTL_ROLLBACK_REVISION=\(ShellQuote.quote(rollbackTarget))")
            }
        }
        if let dir = command.directory, dir.hasPrefix("/"), !dir.hasPrefix(tree) { lines.append("cd \(ShellQuote.quote(dir))") }
        lines.append(Self.supervised(command.argv.map(ShellQuote.quote).joined(separator: " ")))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `export NAME='value'` for each variable, sorted (names a shell takes only).
    static func exports(_ env: [String: String]) -> [String] {
        env.sorted { $0.key < $1.key }
            .filter { $0.key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !$0.key.isEmpty }
            .map { "export \($0.key)=\(ShellQuote.quote($0.value))" }
    }

    /// The script's last line: runs `command` (words already quoted) and stops it when this side
    /// does. Nothing on the host learns of a timeout or a Ctrl-C here (no terminal, so sshd sends
    /// no signal), so standard input stays open while the step runs (`stdinHeldOpen`) and a
    /// watcher in the background reads it. End-of-file while the shell still waits on the command
    /// means deployctl stopped the step (or the process holding the session was killed): the
    /// watcher starts the stop, which sends SIGTERM to the session's process group (sshd made it;
    /// the command's children are in it) and SIGKILL after `$_dc_grace` seconds (`withGrace`).
    /// The command runs in the foreground, so it keeps default signal handling (a background
    /// one would ignore SIGINT and SIGQUIT); the shell catches SIGTERM with a no-op, so it
    /// outlives the command, reports its exit, and deployctl's wait covers the command's own
    /// shutdown. After a normal end the shell kills and reaps the watcher, and what the command
    /// left running (a daemon) is left alone. One line, `exit` at its end: the shell must never
    /// read past the script on the open pipe.
    static func supervised(_ command: String) -> String {
        let stop = [
            "kill -TERM 0", "kill -CONT 0", "_dc_waited=0",
            "while kill -0 \"$$\" 2>/dev/null && [ \"$_dc_waited\" -lt \"${_dc_grace:-30}\" ]; do sleep 1; _dc_waited=$((_dc_waited + 1)); done",
            "kill -KILL 0",
        ].joined(separator: "; ")
        let watcher = [
            "trap '' TERM", "while IFS= read -r _dc_line; do :; done",
            "kill -0 \"$$\" 2>/dev/null || exit 0", "{ \(stop); } &",
        ].joined(separator: "; ")
        return "exec 3<&0; set +e; trap : TERM; { \(watcher) } <&3 >/dev/null 2>&1 & _dc_watcher=$!; exec 3<&-; "
            + "\(command) </dev/null; _dc_status=$?; kill -KILL \"$_dc_watcher\" 2>/dev/null; wait \"$_dc_watcher\" 2>/dev/null; exit \"$_dc_status\""
    }

    /// `script` with the stop's grace first: a second less than deployctl's own (`--grace`),
    /// so the host has killed the command by the time deployctl kills what holds the session.
    static func withGrace(_ script: String, graceMs: Int) -> String {
        "_dc_grace=\(max(1, graceMs / 1000 - 1))\n" + script
    }

    /// An `upload:` step on `host`: its local `tar` piped into ssh, unpacked into `to` there
    /// (the remote command holds only the destination: no secret travels this way).
    func upload(_ command: RunnableCommand, to: String?, on host: HostSpec) -> RunnableCommand {
        var remote = command
        remote.ref = StepRef(phase: command.ref.phase, name: StepRef.name(command.ref.name, on: host.name))
        let destination: String
        if let to { destination = "\"\(ReleaseLayout.shellPath(to))\"" }
        else if let release { destination = ReleaseLayout.directory(release, revision: revision) }
        else { destination = "\"$HOME\"" }
        // The host's own variables, as a hosted step gets them: `release.path` and `to:` may name
        // one. They are committed as written (no `${…}`, so no secret): the remote argv may hold them.
        var unpack = "set -e; " + Self.exports(host.env).map { $0 + "; " }.joined()
        if let release { unpack += "DEPLOYCTL_RELEASE_DIR=\(ReleaseLayout.directory(release, revision: revision)); " }
        unpack += "d=\(destination); mkdir -p \"$d\"; tar -C \"$d\" -xf -"
        remote.shownArgv = command.shownArgv + ["|", "ssh", host.name, "--", unpack]
        let ssh = sshArgv(host, control: controlPath(host), remote: "sh -c " + ShellQuote.quote(unpack)).map(ShellQuote.quote).joined(separator: " ")
        remote.argv = ["sh", "-c", Self.piped(into: ssh), "sh"] + command.argv
        // The step's own environment (secrets included) is not for tar or ssh: a master that ssh
        // starts here would keep it for as long as it lives.
        remote.env = [:]
        remote.host = host.name
        return remote
    }

    /// `"$@" | SSH`, failing when either side fails. POSIX sh has no `pipefail`, and a pipe's
    /// status is its last command's: a `tar` that could not read a file would pass unseen, and
    /// the release go live without it. Its status comes back on descriptor 3 instead.
    static func piped(into ssh: String) -> String {
        "exec 4>&1; packed=$( { { \"$@\" 3>&- 4>&-; echo \"$?\" >&3; } | \(ssh) 3>&- >&4; } 3>&1 ); sent=$?; exec 4>&-; "
            + "[ \"$sent\" -eq 0 ] || exit \"$sent\"; [ \"$packed\" = 0 ] && exit 0; "
            + "echo \"deployctl: the local side of the upload ($1) exited ${packed:-without a status}: not every file reached the host\" >&2; exit 1"
    }

    /// `command` on `host`, journaled as `NAME@HOST` (or `name`), shown as `ssh HOST -- …`.
    func wrap(_ command: RunnableCommand, on host: HostSpec, name: String? = nil, phase: String? = nil) -> RunnableCommand {
        var remote = command
        remote.ref = StepRef(phase: phase ?? command.ref.phase, name: name ?? StepRef.name(command.ref.name, on: host.name))
        remote.shownArgv = ["ssh", host.name, "--"] + command.shownArgv
        // One read of the known-hosts file names the socket for both ways in.
        let control = controlPath(host)
        remote.argv = sshArgv(host, control: control)
        remote.viaMaster = control.map { MasterSession(controlPath: $0, remoteCommand: Self.scriptReader) }
        remote.stdin = script(command, host: host)
        remote.stdinHeldOpen = true
        // The step's environment goes to the host on stdin; ssh itself needs none of it.
        remote.env = [:]
        remote.directory = tree
        remote.host = host.name
        return remote
    }
}
