import CGit2
import GitKitSupport

/// libgit2 must be initialised once per process before any other call.
enum Runtime {
    private static let initialised: Bool = {
        git_libgit2_init()
        return true
    }()

    static func ensureInitialised() {
        _ = initialised
    }
}

/// Facts about the libgit2 this process runs on.
public enum GitLibrary {
    /// libgit2's version, as `major.minor.revision`.
    public static var version: String {
        Runtime.ensureInitialised()
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }

    /// True when the CA bundle was skipped at start-up (GitKit reads local repositories only).
    public static var skippedCABundle: Bool {
        Runtime.ensureInitialised()
        return gitkit_ca_bundle_skipped() != 0
    }
}
