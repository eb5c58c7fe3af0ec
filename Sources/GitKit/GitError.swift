import CGit2

/// Every failure GitKit reports. Each libgit2 failure keeps the function that failed and
/// libgit2's own message, read right after the call (git_error_last() is thread-local).
public enum GitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libgit2 itself could not be loaded (not installed, or another version).
    case libraryUnavailable(String)
    /// A libgit2 call failed.
    case libgit2(function: String, code: Int32, message: String)
    /// No repository at (or above) the path.
    case notARepository(path: String, message: String)
    /// The repository belongs to another user and git's safe.directory rule refuses it.
    case unsafeOwnership(path: String)
    /// A revision that does not name a commit.
    case unknownRevision(String, message: String)
    /// A path that does not exist in the commit's tree.
    case pathNotFound(path: String, commit: ObjectID)
    /// A path that exists but is not the expected kind (a file where a directory was asked).
    case wrongObjectType(path: String, commit: ObjectID, expected: String)
    /// Directories nested deeper than a walk or an export follows.
    case tooDeep(path: String)
    /// An object larger than the caller's limit, refused from its header before it is read.
    case objectTooLarge(id: ObjectID, size: Int, limit: Int)

    public var description: String {
        switch self {
        case let .libraryUnavailable(why):
            return why
        case let .libgit2(function, code, message):
            return "\(function) failed (\(code)): \(message)"
        case let .notARepository(path, message):
            return "no git repository at or above '\(path)': \(message)"
        case let .unsafeOwnership(path):
            return "the git repository at '\(path)' belongs to another user; git refuses it "
                + "(add it with `git config --global --add safe.directory \(path)`)"
        case let .unknownRevision(rev, message):
            return "unknown revision '\(rev)': \(message)"
        case let .pathNotFound(path, commit):
            return "'\(path)' does not exist at \(commit.short)"
        case let .wrongObjectType(path, commit, expected):
            return "'\(path)' at \(commit.short) is not a \(expected)"
        case let .tooDeep(path):
            return "directories nested deeper than \(Repository.depthLimit) at '\(path)'"
        case let .objectTooLarge(id, size, limit):
            return "git object \(id.short) is \(size) bytes, more than the \(limit) bytes deployctl reads of one"
        }
    }
}

/// The message libgit2 left for the current thread, or a fallback.
func lastErrorMessage() -> String {
    guard let error = git_error_last(), let message = error.pointee.message else {
        return "no message from libgit2"
    }
    return String(cString: message)
}

/// Turns a libgit2 return code into a thrown `GitError.libgit2`.
@inline(__always)
func check(_ code: Int32, _ function: String) throws {
    if code < 0 {
        throw GitError.libgit2(function: function, code: code, message: lastErrorMessage())
    }
}
