/// `track:` the branch of the stacks repository's remote an environment follows: what `up`
/// deploys without `--rev`, what `status` measures drift against and what `sync` deploys.
public struct TrackSpec: Sendable, Hashable {
    /// Without it: the remote's default branch.
    public var branch: String
    public var location: FileLocation
}

/// `signatures:` which commits an environment accepts: signed by a key its trust root names.
/// The trust root is a path outside the repository (a commit cannot vouch for itself).
public struct SignaturePolicy: Sendable, Hashable {
    /// An OpenSSH allowed-signers file (`ssh-keygen -Y verify`).
    public var allowedSigners: String?
    /// An OpenPGP keyring (`gpgv --keyring`): every key in it is trusted.
    public var gpgKeyring: String?
    /// Also every commit between the deployed revision and the one deployed.
    public var everyCommit: Bool
    public var location: FileLocation
}
