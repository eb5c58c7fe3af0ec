import Foundation
import GitKit

/// Who signed one commit, and whether the trust root trusts them.
public struct SignatureVerdict: Sendable, Codable {
    public let commit: String
    /// `ssh`, `openpgp`, or `none` (unsigned).
    public let format: String
    /// The allowed-signers principal, or the OpenPGP user id, when known.
    public let signer: String?
    /// The key's fingerprint (SSH) or OpenPGP fingerprint / key id, when known.
    public let key: String?
    public let trusted: Bool
    /// Why not, when not.
    public let reason: String?
}

/// Verifies commit signatures the way git does, with the system's own tools: SSH signatures
/// with `ssh-keygen -Y` against an allowed-signers file, OpenPGP ones with `gpgv` against a
/// keyring. The signature and the signed bytes come from libgit2; the trust root is a path
/// outside the repository, never read from the commit it judges.
struct SignatureChecker {
    let repository: Repository
    let policy: SignaturePolicy
    /// The stacks repository's root: a trust root inside it is refused.
    let repositoryRoot: String
    let environment: [String: String]

    func verify(_ id: ObjectID) -> SignatureVerdict {
        let commit = id.hex
        func refuse(_ format: String, _ reason: String, signer: String? = nil, key: String? = nil) -> SignatureVerdict {
            SignatureVerdict(commit: commit, format: format, signer: signer, key: key, trusted: false, reason: reason)
        }
        let signature: CommitSignature?
        do { signature = try repository.signature(of: id) } catch { return refuse("none", "its signature cannot be read: \(error)") }
        guard let signature else { return refuse("none", "it is not signed") }
        switch signature.format {
        case "ssh":
            guard let file = policy.allowedSigners else { return refuse("ssh", "it has an SSH signature, but signatures: names no allowed_signers file") }
            if let problem = trustRootProblem(file) { return refuse("ssh", problem) }
            return withFiles(signature) { sig, data in verifySSH(commit: commit, allowed: file, sig: sig, data: data) }
        case "openpgp":
            guard let keyring = policy.gpgKeyring else { return refuse("openpgp", "it has an OpenPGP signature, but signatures: names no gpg_keyring") }
            if let problem = trustRootProblem(keyring) { return refuse("openpgp", problem) }
            return withFiles(signature) { sig, data in verifyOpenPGP(commit: commit, keyring: keyring, sig: sig, data: data) }
        default:
            return refuse("unknown", "its signature is neither SSH nor OpenPGP")
        }
    }

    /// The trust root must exist and lie outside the repository (a commit could add its own key).
    private func trustRootProblem(_ path: String) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return "the trust root \(path) does not exist on this machine" }
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: repositoryRoot).resolvingSymlinksInPath().path
        if real == root || real.hasPrefix(root + "/") {
            return "the trust root \(path) is inside the stacks repository, where any commit could add its own key; keep it outside (e.g. /etc/deployctl/)"
        }
        return nil
    }

    /// The signed bytes go to ssh-keygen from `data` as they are: a commit message need not be
    /// UTF-8, and decoding it would change what was signed.
    private func verifySSH(commit: String, allowed: String, sig: String, data: String) -> SignatureVerdict {
        let find = ToolCommand(argv: ["ssh-keygen", "-Y", "find-principals", "-s", sig, "-f", allowed], environment: environment).run()
        let principal = find.flatMap { $0.succeeded ? $0.stdout.split(separator: "\n").first.map(String.init) : nil }
        if let principal {
            let verify = ToolCommand(argv: ["ssh-keygen", "-Y", "verify", "-f", allowed, "-I", principal, "-n", "git", "-s", sig],
                                     stdinFile: data, environment: environment).run()
            if let verify, verify.succeeded {
                return SignatureVerdict(commit: commit, format: "ssh", signer: principal, key: Self.fingerprint(verify.stdout + verify.stderr),
                                        trusted: true, reason: nil)
            }
            return SignatureVerdict(commit: commit, format: "ssh", signer: principal, key: nil, trusted: false,
                                    reason: "its SSH signature does not verify for \(principal) (\(Self.firstLine(verify)))")
        }
        // Not an allowed key: say whose it is, if the signature itself is sound.
        let check = ToolCommand(argv: ["ssh-keygen", "-Y", "check-novalidate", "-n", "git", "-s", sig], stdinFile: data, environment: environment).run()
        if let check, check.succeeded {
            let key = Self.fingerprint(check.stdout + check.stderr)
            return SignatureVerdict(commit: commit, format: "ssh", signer: nil, key: key, trusted: false,
                                    reason: "it is signed by an SSH key \(allowed) does not allow (\(key ?? "unknown key"))")
        }
        return SignatureVerdict(commit: commit, format: "ssh", signer: nil, key: nil, trusted: false,
                                reason: "its SSH signature is not valid (the commit changed after signing, or the signature is damaged)")
    }

    private func verifyOpenPGP(commit: String, keyring: String, sig: String, data: String) -> SignatureVerdict {
        var env = environment
        env["GNUPGHOME"] = (sig as NSString).deletingLastPathComponent
        let run = ToolCommand(argv: ["gpgv", "--keyring", keyring, "--status-fd", "1", sig, data], environment: env).run()
        guard let run else { return SignatureVerdict(commit: commit, format: "openpgp", signer: nil, key: nil, trusted: false, reason: "gpgv cannot be started (install gpgv)") }
        let status = Self.gpgvStatus(run.stdout)
        let (signer, key) = (status.signer, status.key)
        if run.succeeded, status.trusted {
            return SignatureVerdict(commit: commit, format: "openpgp", signer: signer, key: key, trusted: true, reason: nil)
        }
        let why: String
        if !status.keywords.isDisjoint(with: ["NO_PUBKEY", "ERRSIG"]) { why = "it is signed by an OpenPGP key \(keyring) does not hold (\(key ?? "unknown key"))" }
        else if status.keywords.contains("BADSIG") { why = "its OpenPGP signature is not valid (the commit changed after signing)" }
        else if !status.keywords.isDisjoint(with: ["EXPKEYSIG", "REVKEYSIG", "EXPSIG"]) { why = "it is signed by an expired or revoked key, or the signature expired (\(key ?? "?"))" }
        else { why = "gpgv does not accept it (\(Self.firstLine(run)))" }
        return SignatureVerdict(commit: commit, format: "openpgp", signer: signer, key: key, trusted: false, reason: why)
    }

    /// What gpgv's `--status-fd` lines say. Only a line's first word counts: a user id is printed
    /// unescaped after the key, so "[GNUPG:] GOODSIG" can appear inside a REVKEYSIG line. Trusted:
    /// GOODSIG and VALIDSIG, and nothing that says otherwise (gpgv exits 0 for a revoked key).
    static func gpgvStatus(_ output: String) -> (keywords: Set<String>, key: String?, signer: String?, trusted: Bool) {
        var keywords: Set<String> = [], signer: String?, key: String?
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard words.count >= 2, words[0] == "[GNUPG:]" else { continue }
            keywords.insert(words[1])
            guard words.count >= 3 else { continue }
            switch words[1] {
            case "GOODSIG", "BADSIG", "EXPKEYSIG", "REVKEYSIG": key = words[2]; signer = words.count > 3 ? words[3] : nil
            case "VALIDSIG": key = words[2]
            case "ERRSIG", "NO_PUBKEY": key = key ?? words[2]
            default: break
            }
        }
        let trusted = keywords.isSuperset(of: ["GOODSIG", "VALIDSIG"])
            && keywords.isDisjoint(with: ["BADSIG", "EXPKEYSIG", "REVKEYSIG", "EXPSIG", "ERRSIG", "NO_PUBKEY"])
        return (keywords, key, signer, trusted)
    }

    /// The signature and the signed bytes in a private temporary directory, removed after.
    private func withFiles(_ signature: CommitSignature, _ body: (String, String) -> SignatureVerdict) -> SignatureVerdict {
        var template = Array((NSTemporaryDirectory() + "/deployctl-sig-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            return SignatureVerdict(commit: "", format: signature.format, signer: nil, key: nil, trusted: false, reason: "cannot make a temporary directory")
        }
        let directory = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sig = directory + "/commit.sig", data = directory + "/commit.data"
        FileManager.default.createFile(atPath: sig, contents: Data(signature.signature), attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: data, contents: Data(signature.signedData), attributes: [.posixPermissions: 0o600])
        return body(sig, data)
    }

    static func fingerprint(_ text: String) -> String? {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("SHA256:") }.map(String.init)
    }

    static func firstLine(_ output: ToolCommand.Output?) -> String {
        guard let output else { return "cannot be started" }
        return (output.stderr + "\n" + output.stdout).split(separator: "\n").first.map { String($0.prefix(200)) } ?? "exit \(output.exitCode.map(String.init) ?? "?")"
    }
}

/// `signatures:` applied to one deploy: which policy governs (the deployed revision's, so a
/// commit can neither drop the requirement nor swap the trust root for itself), which commits
/// it covers, and what is journaled.
struct SignatureGate {
    let workspace: Workspace
    /// Nil for a dry run on a machine with no journal yet: nothing deployed, nothing recorded.
    let journal: Journal?
    /// False for a dry run: a refusal is said, not journaled.
    var record = true

    /// The verdicts for a deploy of `pinned`, or nil when no policy applies; throws exit 4 (and
    /// journals `signature_refused`) when a covered commit is not trusted.
    /// `governing`: when the caller has it already (`RevisionAdmission`), not loaded again.
    func check(target: String, entry: StackCatalog.Entry, deploying pinned: PinnedRevision, descriptor: StackDescriptor,
               governing known: GoverningDescriptor? = nil) throws -> [SignatureVerdict]? {
        // The policy of what runs or, degraded, of the last good revision: never only the new
        // commit's own (degraded used to mean no governing policy at all, so a commit that drops
        // `signatures:` deployed unsigned).
        let governing = try known ?? GoverningDescriptor.of(target: target, entry: entry, workspace: workspace, journal: journal)
        let deployed = governing.revision
        var deployedPolicy: SignaturePolicy?
        if case .loaded(let descriptor, _) = governing { deployedPolicy = descriptor.signatures }
        // Signatures were in force and the governing descriptor cannot be read: fail closed.
        if let refusal = governing.refusal(gate: "signature", target: target,
                                           inForce: try journal?.events(target: target, kind: .signatureVerified).isEmpty == false) {
            throw refusal
        }
        guard var policy = deployedPolicy ?? descriptor.signatures else { return nil }
        if descriptor.signatures?.everyCommit == true { policy.everyCommit = true }
        var covered = [pinned.id]
        if policy.everyCommit, let deployed, let since = ObjectID(hex: deployed), (try? workspace.stacks.repository.commit(since)) != nil {
            covered = try workspace.stacks.repository.commits(from: pinned.id, hiding: since, limit: Self.everyCommitLimit + 1)
            if covered.isEmpty { covered = [pinned.id] }
            // `every_commit` promises each one checked: past the bound, refuse rather than check some.
            guard covered.count <= Self.everyCommitLimit else {
                throw DeployError(.refused, "\(target) checks every commit (signatures: every_commit), and more than \(Self.everyCommitLimit) lie between the deployed \(deployed.prefix(10)) and \(pinned.short); nothing was run",
                                  next: ["deploy a commit in between first: deployctl up \(target) --rev REV (fewer than \(Self.everyCommitLimit) commits after \(deployed.prefix(10)))"])
            }
        }
        let checker = SignatureChecker(repository: workspace.stacks.repository, policy: policy, repositoryRoot: workspace.stacks.root,
                                       environment: workspace.environment)
        let verdicts = covered.map(checker.verify)
        if let bad = verdicts.first(where: { !$0.trusted }) {
            if record { try journal?.event(.signatureRefused, target: target, runID: nil, data: Self.data(bad)) }
            let who = bad.signer.map { " (signed by \($0))" } ?? (bad.key.map { " (key \($0))" } ?? "")
            let which = bad.commit == pinned.sha ? pinned.short : "\(bad.commit.prefix(10)), between the deployed \(deployed?.prefix(10) ?? "?") and \(pinned.short),"
            throw DeployError(.refused, "\(target) accepts only signed commits (signatures:), and \(which)\(who) is refused: \(bad.reason ?? "untrusted"); nothing was run",
                              next: ["sign it with a trusted key (git commit -S, or git rebase --exec 'git commit --amend --no-edit -S'), push, then run it again",
                                     "the trust root: \([policy.allowedSigners, policy.gpgKeyring].compactMap { $0 }.joined(separator: ", "))"])
        }
        return verdicts
    }

    /// How many commits `every_commit` checks in one deploy (each one runs ssh-keygen or gpgv).
    static let everyCommitLimit = 1_000

    static func data(_ verdict: SignatureVerdict) -> EventData {
        var data: EventData = ["commit": .string(verdict.commit), "format": .string(verdict.format), "trusted": .bool(verdict.trusted)]
        if let signer = verdict.signer { data["signer"] = .string(signer) }
        if let key = verdict.key { data["key"] = .string(key) }
        if let reason = verdict.reason { data["reason"] = .string(reason) }
        return data
    }
}
