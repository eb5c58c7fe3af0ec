import CGit2
import Foundation
import GitKitSupport

/// What a fetch needs from outside libgit2: credentials and host-key trust. The caller decides
/// (ssh-agent, the git credential helper, known_hosts files); GitKit only asks.
public protocol FetchAuthority: AnyObject {
    /// An SSH user name and nothing else: the key comes from ssh-agent.
    func sshUser(url: String, userFromURL: String?) -> String?
    /// A user name and password for an HTTPS remote (the git credential helper), or nil.
    func userPassword(url: String, userFromURL: String?) -> (user: String, password: String)?
    /// Whether to trust the SSH host key `keyBase64` (of `keyType`, e.g. ssh-ed25519) for
    /// `host`, when libgit2's own known_hosts lookup did not. Nil trusts; a string refuses, saying why.
    func refuseHostKey(host: String, keyType: String, keyBase64: String) -> String?
    /// A CA bundle to trust for HTTPS instead of the system's (git's `GIT_SSL_CAINFO`), or nil.
    var certificateAuthorities: String? { get }
}

/// A remote's URL as messages may show it.
public enum RemoteURL {
    /// Without its user information: `https://TOKEN@host/…` and `https://user:TOKEN@host/…`
    /// (how CI passes tokens) become `https://***@host/…`. An scp-like `git@host:path` holds no secret.
    /// Also every URL inside a longer text (an error message that quotes one).
    public static func shown(_ text: String) -> String {
        var shown = "", rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            shown += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && !$0.isWhitespace && $0 != "'" && $0 != "\"" }
            if let at = authority.lastIndex(of: "@") {
                shown += "***"
                rest = rest[at...]
            }
        }
        return shown + rest
    }
}

extension Repository {
    /// The names of the configured remotes.
    public func remotes() -> [String] {
        // None in any config file: no need to load libgit2 to say so.
        if native?.hasNoRemotes == true { return [] }
        var list = git_strarray()
        guard let handle, git_remote_list(&list, handle) == 0 else { return [] }
        defer { git_strarray_dispose(&list) }
        return (0..<list.count).compactMap { list.strings[$0].map { String(cString: $0) } }
    }

    /// The fetch URL of a remote, or nil when there is no such remote.
    public func remoteURL(_ name: String) -> String? {
        var remote: OpaquePointer?
        guard let handle, git_remote_lookup(&remote, handle, name) == 0 else { return nil }
        defer { git_remote_free(remote) }
        return git_remote_url(remote).map { String(cString: $0) }
    }

    /// Fetches every branch of `remote` into `refs/remotes/REMOTE/*` (pruning deleted ones)
    /// and records the remote's default branch as `refs/remotes/REMOTE/HEAD` (`remoteDefaultBranch`).
    public func fetch(remote name: String, authority: FetchAuthority) throws {
        let handle = try libgit2()
        var remote: OpaquePointer?
        try check(git_remote_lookup(&remote, handle, name), "git_remote_lookup")
        defer { git_remote_free(remote) }
        if let url = git_remote_url(remote).map({ String(cString: $0) }), url.hasPrefix("https://") {
            try Self.enableCertificates(authority.certificateAuthorities)
        }
        let session = FetchSession(authority: authority)
        let payload = Unmanaged.passUnretained(session).toOpaque()
        var options = git_fetch_options()
        git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
        options.callbacks.credentials = fetchCredentials
        options.callbacks.certificate_check = fetchCertificateCheck
        options.callbacks.payload = payload
        options.prune = GIT_FETCH_PRUNE
        // HTTPS_PROXY / NO_PROXY, as git itself honours them.
        options.proxy_opts.type = GIT_PROXY_AUTO

        let fail: (String) -> GitError = { function in
            if let refusal = session.refusal { return .libgit2(function: function, code: -1, message: refusal) }
            return .libgit2(function: function, code: -1, message: lastErrorMessage())
        }
        guard git_remote_connect(remote, GIT_DIRECTION_FETCH, &options.callbacks, &options.proxy_opts, nil) == 0 else {
            throw fail("git_remote_connect")
        }
        defer { git_remote_disconnect(remote) }
        var defaultBranch: String?
        var buffer = git_buf()
        if git_remote_default_branch(&buffer, remote) == 0, let pointer = buffer.ptr {
            defaultBranch = String(cString: pointer)
            git_buf_dispose(&buffer)
        }
        guard git_remote_fetch(remote, nil, &options, "deployctl: fetch") == 0 else { throw fail("git_remote_fetch") }
        if let full = defaultBranch, full.hasPrefix("refs/heads/") {
            let branch = String(full.dropFirst("refs/heads/".count))
            var reference: OpaquePointer?
            if git_reference_symbolic_create(&reference, handle, "refs/remotes/\(name)/HEAD", "refs/remotes/\(name)/\(branch)", 1,
                                             "deployctl: remote HEAD") == 0 {
                git_reference_free(reference)
            }
        }
    }

    /// The branch `refs/remotes/REMOTE/HEAD` points to (as the last fetch recorded), or nil.
    public func remoteDefaultBranch(_ remote: String) -> String? {
        var reference: OpaquePointer?
        guard let handle, git_reference_lookup(&reference, handle, "refs/remotes/\(remote)/HEAD") == 0 else { return nil }
        defer { git_reference_free(reference) }
        guard let target = git_reference_symbolic_target(reference).map({ String(cString: $0) }) else { return nil }
        let prefix = "refs/remotes/\(remote)/"
        return target.hasPrefix(prefix) ? String(target.dropFirst(prefix.count)) : nil
    }

    /// The commit a reference names (`refs/remotes/origin/main`), or nil when it does not exist.
    public func referenceTarget(_ name: String) -> ObjectID? {
        var oid = git_oid()
        guard let handle, git_reference_name_to_id(&oid, handle, name) == 0 else { return nil }
        return ObjectID(oid)
    }

    /// When `FETCH_HEAD` was last written: the last fetch of any remote, or nil if never.
    public var lastFetch: Date? {
        (try? FileManager.default.attributesOfItem(atPath: gitDirectory + "FETCH_HEAD"))?[.modificationDate] as? Date
    }

    /// HTTPS through libgit2 needs a CA bundle, which start-up skips (see GitKitSupport): the
    /// one named, else the system's.
    private static func enableCertificates(_ named: String?) throws {
        gitkit_ca_bundle_enable()
        let candidates = named.map { [$0] } ?? ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
        for file in candidates where FileManager.default.fileExists(atPath: file) {
            try check(gitkit_set_ca_file(file), "git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS)")
            return
        }
        if let named { throw GitError.libgit2(function: "git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS)", code: -1, message: "the CA bundle \(named) does not exist") }
    }
}

/// Carries a fetch's authority into libgit2's C callbacks, and counts attempts: libgit2 asks
/// again after every refusal, so each kind of credential is offered once.
private final class FetchSession {
    let authority: FetchAuthority
    var triedAgent = false
    var triedPassword = false
    /// Why the host key was refused, for the error message.
    var refusal: String?

    init(authority: FetchAuthority) {
        self.authority = authority
    }
}

private let fetchCredentials: git_credential_acquire_cb = { out, url, userFromURL, allowed, payload in
    guard let out, let payload else { return GIT_PASSTHROUGH.rawValue }
    let session = Unmanaged<FetchSession>.fromOpaque(payload).takeUnretainedValue()
    let url = url.map { String(cString: $0) } ?? ""
    let user = userFromURL.map { String(cString: $0) }
    if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0, !session.triedAgent,
       let name = session.authority.sshUser(url: url, userFromURL: user) {
        session.triedAgent = true
        return git_credential_ssh_key_from_agent(out, name)
    }
    if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0, let name = session.authority.sshUser(url: url, userFromURL: user) {
        return git_credential_username_new(out, name)
    }
    if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0, !session.triedPassword,
       let pair = session.authority.userPassword(url: url, userFromURL: user) {
        session.triedPassword = true
        return git_credential_userpass_plaintext_new(out, pair.user, pair.password)
    }
    let ssh = allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0
    let source = ssh ? "the key in ssh-agent" : "the password from the git credential helper"
    git_error_set_str(Int32(GIT_ERROR_NET.rawValue), session.triedAgent || session.triedPassword
                      ? "authentication to \(RemoteURL.shown(url)) failed with \(source)"
                      : "no credentials for \(RemoteURL.shown(url)): " + (ssh ? "start ssh-agent with the key added (ssh-add)"
                                                           : "configure a git credential helper (git config credential.helper …)"))
    return GIT_EAUTH.rawValue
}

private let fetchCertificateCheck: git_transport_certificate_check_cb = { cert, valid, host, payload in
    guard let cert, let payload else { return GIT_ECERTIFICATE.rawValue }
    let session = Unmanaged<FetchSession>.fromOpaque(payload).takeUnretainedValue()
    let hostName = host.map { String(cString: $0) } ?? "?"
    if valid != 0 { return 0 }
    guard cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else {
        session.refusal = "the TLS certificate of \(hostName) is not trusted by the system's CA bundle"
        return GIT_ECERTIFICATE.rawValue
    }
    let hostKey = UnsafeRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
    guard hostKey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostKey.hostkey else {
        session.refusal = "the SSH host key of \(hostName) could not be read, so it cannot be checked"
        return GIT_ECERTIFICATE.rawValue
    }
    let bytes = Data(bytes: raw, count: hostKey.hostkey_len)
    let type: String
    switch hostKey.raw_type {
    case GIT_CERT_SSH_RAW_TYPE_RSA: type = "ssh-rsa"
    case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519: type = "ssh-ed25519"
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256: type = "ecdsa-sha2-nistp256"
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384: type = "ecdsa-sha2-nistp384"
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521: type = "ecdsa-sha2-nistp521"
    default: type = "unknown"
    }
    if let refusal = session.authority.refuseHostKey(host: hostName, keyType: type, keyBase64: bytes.base64EncodedString()) {
        session.refusal = refusal
        git_error_set_str(Int32(GIT_ERROR_SSH.rawValue), refusal)
        return GIT_ECERTIFICATE.rawValue
    }
    return 0
}
