/// Why the native reader did not answer: a repository shape it leaves to libgit2 (worktrees,
/// alternates, extensions, includes, revisions other than HEAD or a full id), an object it did
/// not find, or bytes that did not check out. Never shown: the caller asks libgit2 instead, whose
/// answer (or error) is the one git users know.
struct NativeMiss: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
