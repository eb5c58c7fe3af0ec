import CGit2
import GitKitSupport
#if canImport(Glibc)
import Glibc
#endif

/// libgit2 is loaded on first use (GitKitSupport/libgit2_loader.c) and must be initialised
/// once per process before any other call.
enum Runtime {
    /// nil once libgit2 is loaded and initialised; otherwise why it could not be.
    private static let failure: String? = {
        var why = [CChar](repeating: 0, count: 512)
        // Loads and initialises libgit2 (the first repository that needs it, not every command).
        guard gitkit_load(&why, Int32(why.count)) == 0 else {
            return String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }()

    static func ensureInitialised() throws {
        if let failure { throw GitError.libraryUnavailable(failure) }
    }

    /// For the few calls that cannot fail otherwise (hashing bytes, the library's version):
    /// without libgit2 the process cannot do its work, so it says why and exits 127, as the
    /// dynamic loader did when libgit2 was linked.
    static func ensureInitialisedOrExit() {
        guard let failure else { return }
        let line = Array("deployctl: \(failure)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(127)
    }
}

/// Facts about the libgit2 this process runs on.
public enum GitLibrary {
    /// libgit2's version, as `major.minor.revision`.
    public static var version: String {
        Runtime.ensureInitialisedOrExit()
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }

    /// True when the CA bundle was skipped at start-up (GitKit reads local repositories only).
    public static var skippedCABundle: Bool {
        Runtime.ensureInitialisedOrExit()
        return gitkit_ca_bundle_skipped() != 0
    }
}
