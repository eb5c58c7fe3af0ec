/// One server in an environment's inventory (`hosts:`).
public struct HostSpec: Sendable, Hashable {
    public var name: String
    public var address: String
    public var port: Int
    /// Else `ssh.user`, else the ssh client's default.
    public var user: String?
    public var roles: [String]
    /// Variables this host's commands get on top of the step's (`env:`), as written.
    public var env: [String: String] = [:]
    public var location: FileLocation
}

/// `upload: {files: [...], to: DIR}`: local files (paths in the commit's tree, or absolute ones
/// on this machine such as a CI artifact) copied flat into `to` on each host (default: the
/// release being deployed, `$DEPLOYCTL_RELEASE_DIR`).
public struct UploadSpec: Sendable, Hashable {
    /// Nil: `$DEPLOYCTL_RELEASE_DIR`. Else absolute, `~/…` or `$NAME/…` (expanded on the host).
    public var to: String?
}

/// `ssh:` how deployctl reaches the hosts: the system's OpenSSH client, strict host-key checking
/// against a known-hosts file the stack names (no trust on first use), keys from ssh-agent or
/// `identity_file`.
public struct SSHSpec: Sendable, Hashable {
    /// Relative: a file in the repository at the pinned commit (reviewed like the descriptor).
    public var knownHosts: String
    public var user: String?
    public var identityFile: String?
    public var location: FileLocation
}

/// Which hosts a step runs on (`on: web`, `on: all`, `on: first of db`).
public enum HostSelector: Sendable, Hashable, CustomStringConvertible {
    case all
    case role(String)
    case firstOf(String)

    public static func parse(_ text: String) -> HostSelector? {
        let words = text.split(separator: " ").map(String.init)
        switch words.count {
        case 1: return words[0] == "all" ? .all : .role(words[0])
        case 3 where words[0] == "first" && words[1] == "of": return .firstOf(words[2])
        default: return nil
        }
    }

    /// The hosts it names, in inventory order.
    public func select(_ hosts: [HostSpec]) -> [HostSpec] {
        switch self {
        case .all: return hosts
        case .role(let role): return hosts.filter { $0.roles.contains(role) }
        case .firstOf(let role): return Array(hosts.filter { $0.roles.contains(role) }.prefix(1))
        }
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .role(let role): return role
        case .firstOf(let role): return "first of \(role)"
        }
    }
}

/// A step's `on:` with its rollout: at most `maxParallel` hosts at once, `canary` hosts first
/// (their verify steps gate the rest).
public struct HostPlacement: Sendable, Hashable {
    public var selector: HostSelector
    public var maxParallel: Int?
    public var canary: Int
    /// `between_waves: {pause: 30s, confirm: "…"}`: before each wave after the first.
    public var pauseMs: Int? = nil
    public var confirm: String? = nil
    public var location: FileLocation
}
