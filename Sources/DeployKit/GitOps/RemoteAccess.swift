import Foundation
import GitKit

/// How deployctl reaches the stacks repository's remote: SSH keys from ssh-agent, HTTPS
/// passwords from the git credential helper (never a prompt), SSH host keys checked against
/// known_hosts files (no trust on first use), HTTPS certificates against the system's CAs or
/// `GIT_SSL_CAINFO`.
final class RemoteAccess: FetchAuthority {
    let url: String
    let environment: [String: String]
    /// The stacks repository: its own git config names credential helpers too.
    let repositoryRoot: String

    init(url: String, environment: [String: String], repositoryRoot: String) {
        self.url = url
        self.environment = environment
        self.repositoryRoot = repositoryRoot
    }

    /// git's own variable for a private CA (`GIT_SSL_CAINFO`), else OpenSSL's `SSL_CERT_FILE`.
    var certificateAuthorities: String? {
        [environment["GIT_SSL_CAINFO"], environment["SSL_CERT_FILE"]].compactMap { $0 }.first { !$0.isEmpty }
    }

    /// `DEPLOYCTL_KNOWN_HOSTS` (colon-separated), else `~/.ssh/known_hosts` and the system's.
    var knownHostsFiles: [String] {
        if let named = environment["DEPLOYCTL_KNOWN_HOSTS"], !named.isEmpty { return named.split(separator: ":").map(String.init) }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return [home + "/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts"]
    }

    func sshUser(url: String, userFromURL: String?) -> String? {
        userFromURL ?? environment["USER"] ?? environment["LOGNAME"]
    }

    func userPassword(url: String, userFromURL: String?) -> (user: String, password: String)? {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, let host = parts.host else { return nil }
        var query = "protocol=\(scheme)\nhost=\(host)\(parts.port.map { ":\($0)" } ?? "")\npath=\(parts.path.drop { $0 == "/" })\n"
        if let userFromURL { query += "username=\(userFromURL)\n" }
        guard let output = ToolCommand(argv: ["git", "-C", repositoryRoot, "credential", "fill"], stdin: query + "\n", environment: environment).run(),
              output.succeeded else { return nil }
        var fields: [String: String] = [:]
        for line in output.stdout.split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { fields[pair[0]] = pair[1] }
        }
        guard let user = fields["username"], let password = fields["password"] else { return nil }
        return (user, password)
    }

    func refuseHostKey(host: String, keyType: String, keyBase64: String) -> String? {
        let port = URLComponents(string: url)?.port
        let names = (port.map { $0 == 22 ? [] : ["[\(host)]:\($0)"] } ?? []) + [host]
        let shown = port.map { "\(host):\($0)" } ?? host
        var otherKeys: [String] = []
        for file in knownHostsFiles where FileManager.default.fileExists(atPath: file) {
            for name in names {
                guard let output = ToolCommand(argv: ["ssh-keygen", "-F", name, "-f", file], environment: environment).run() else {
                    return "ssh-keygen cannot be started, so the host key of \(shown) cannot be checked (install openssh-client)"
                }
                for line in output.stdout.split(separator: "\n") where !line.hasPrefix("#") {
                    let fields = line.split(separator: " ")
                    guard fields.count >= 3 else { continue }
                    if fields[1] == keyType, fields[2] == keyBase64 { return nil }
                    otherKeys.append("\(fields[1]) in \(file)")
                }
            }
        }
        if !otherKeys.isEmpty {
            return "the SSH host key of \(shown) (\(keyType)) does not match the one known_hosts has (\(otherKeys.joined(separator: ", "))): refusing, as ssh does (someone may be in the middle; if the host was rebuilt, update known_hosts)"
        }
        return "the SSH host key of \(shown) is in no known_hosts file (\(knownHostsFiles.joined(separator: ", "))): deployctl never trusts on first use; check the key, then: ssh-keyscan \(port.map { "-p \($0) " } ?? "")\(host) >> ~/.ssh/known_hosts (or set DEPLOYCTL_KNOWN_HOSTS)"
    }
}
