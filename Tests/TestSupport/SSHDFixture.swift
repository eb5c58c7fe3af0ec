import Foundation

/// A real OpenSSH server on 127.0.0.1 (testbed.md), key-only, for the user running the tests;
/// an ssh-agent holding the client key; and known_hosts files made from the server's key.
public final class SSHDFixture {
    public let port: Int
    public let directory: URL
    public let user: String
    /// `SSH_AUTH_SOCK` for the agent that holds the client key.
    public let agentSocket: String
    /// `[127.0.0.1]:PORT ssh-ed25519 …`: the server's real key.
    public let knownHosts: String
    /// The same host with another key: what a man in the middle would present.
    public let wrongKnownHosts: String
    /// The host key line alone (`ssh-ed25519 AAAA…`), for a known_hosts file a stack commits.
    public let hostKey: String
    /// `$HOSTROOT` in this server's sessions (sshd's SetEnv): a directory of its own, so hosts
    /// that share one machine in a test still have separate file systems to deploy into. It is
    /// `$HOME` there too: a host's sessions do not run this machine's shell start-up files
    /// (Debian's bash reads ~/.bashrc under sshd; root's here starts pyenv, ~175 ms of CPU a
    /// session), so their PATH is sshd's default, as on a plain server.
    public var hostRoot: String { directory.path + "/root" }
    /// The client key the agent holds.
    public let clientPublicKey: String
    private var server: ServerProcess!
    private var agent: ServerProcess?

    /// Another server that admits the same client key, through the same agent (several hosts).
    public convenience init(sharing other: SSHDFixture) throws {
        try self.init(client: (other.clientPublicKey, other.agentSocket))
    }

    public convenience init() throws {
        try self.init(client: nil)
    }

    private init(client: (publicKey: String, agent: String)?) throws {
        directory = try TemporaryDirectory.make(prefix: "sshd")
        let dir = directory.path
        port = ServerProcess.freePort()
        user = try Shell.run("id", ["-un"])
        try Shell.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", dir + "/host_key"])
        try Shell.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", dir + "/other_host_key"])
        if let client {
            clientPublicKey = client.publicKey
        } else {
            try Shell.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", dir + "/client_key"])
            clientPublicKey = try String(contentsOfFile: dir + "/client_key.pub", encoding: .utf8)
        }
        try clientPublicKey.write(toFile: dir + "/authorized_keys", atomically: true, encoding: .utf8)
        let config = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(dir)/host_key
            PidFile \(dir)/sshd.pid
            AuthorizedKeysFile \(dir)/authorized_keys
            StrictModes no
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            PermitRootLogin prohibit-password
            SetEnv HOSTROOT=\(dir)/root HOME=\(dir)/root
            """
        try config.write(toFile: dir + "/sshd_config", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/root", withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        server = try ServerProcess(["/usr/sbin/sshd", "-D", "-e", "-f", dir + "/sshd_config"], name: "sshd", log: dir + "/sshd.log")
        let port = self.port
        try server.wait { (try? Shell.capture("ssh-keyscan", ["-p", "\(port)", "-t", "ed25519", "127.0.0.1"]))?.stdout.contains("ssh-ed25519") == true }
        func line(_ key: String) throws -> String {
            let pub = try String(contentsOfFile: key, encoding: .utf8).split(separator: " ")
            return "[127.0.0.1]:\(port) \(pub[0]) \(pub[1])\n"
        }
        knownHosts = dir + "/known_hosts"
        wrongKnownHosts = dir + "/wrong_known_hosts"
        try line(dir + "/host_key.pub").write(toFile: knownHosts, atomically: true, encoding: .utf8)
        try line(dir + "/other_host_key.pub").write(toFile: wrongKnownHosts, atomically: true, encoding: .utf8)
        hostKey = try String(contentsOfFile: dir + "/host_key.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        if let client {
            agentSocket = client.agent
            return
        }
        agentSocket = dir + "/agent.sock"
        let agent = try ServerProcess(["ssh-agent", "-D", "-a", agentSocket], name: "ssh-agent")
        self.agent = agent
        let socket = agentSocket
        // The socket file exists from bind(), before listen(): wait until the agent answers
        // (ssh-add -l exits 2 when it cannot connect, 1 for an agent with no keys yet).
        try agent.wait { (try? Shell.capture("ssh-add", ["-l"], environment: ["SSH_AUTH_SOCK": socket]))?.status == 1 }
        try Shell.run("ssh-add", ["-q", dir + "/client_key"], environment: ["SSH_AUTH_SOCK": agentSocket])
    }

    /// `ssh://USER@127.0.0.1:PORT/PATH`.
    public func url(_ path: String) -> String { "ssh://\(user)@127.0.0.1:\(port)\(path)" }

    deinit {
        agent = nil
        server = nil
        try? FileManager.default.removeItem(at: directory)
    }
}
