#if canImport(Glibc)
import Glibc
#endif

/// An ordinary repository that deployctl reads without loading libgit2 (~5 ms and 13 libraries):
/// a `.git` directory (or a bare one) owned by this user, its config free of includes, extensions
/// and `core.worktree`, no alternates. Anything else is nil here and libgit2 opens it, so the
/// rules git applies (ownership, formats, discovery) are never this file's to get wrong.
struct NativeRepository {
    /// With a trailing slash, as libgit2 gives it.
    let gitDirectory: String
    let workDirectory: String?
    let objects: ObjectDatabase
    let references: References
    /// False when some config file has a `[remote …]` section (libgit2 then lists them).
    let hasNoRemotes: Bool

    /// Walks up from `path` as `git_repository_open_ext` does without flags (stopping where the
    /// file system changes), or looks at `path` alone.
    static func find(from path: String, search: Bool) -> NativeRepository? {
        guard let start = realpath(path, nil) else { return nil }
        var directory = String(cString: start)
        free(start)
        var info = stat()
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return nil }
        let device = info.st_dev
        while true {
            var dotGit = stat()
            let candidate = directory == "/" ? "/.git" : directory + "/.git"
            if lstat(candidate, &dotGit) == 0 {
                // A `.git` file (a linked worktree, a submodule) or link, or one on another file
                // system: libgit2's to follow or refuse.
                guard dotGit.st_mode & S_IFMT == S_IFDIR, dotGit.st_dev == device else { return nil }
                if isGitDirectory(candidate) { return open(gitDirectory: candidate, workDirectory: directory) }
            }
            if isGitDirectory(directory) {
                // Inside a `.git` directory: its parent is the work tree, as for libgit2.
                let parent = directory.hasSuffix("/.git") ? String(directory.dropLast(5)) : nil
                return open(gitDirectory: directory, workDirectory: parent.map { $0.isEmpty ? "/" : $0 })
            }
            guard search, directory != "/" else { return nil }
            let parent = directory.lastIndex(of: "/").map { $0 == directory.startIndex ? "/" : String(directory[..<$0]) } ?? "/"
            guard stat(parent, &info) == 0, info.st_dev == device else { return nil }
            directory = parent
        }
    }

    /// What libgit2 takes for a git directory: HEAD, objects/ and refs/.
    private static func isGitDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path + "/HEAD", &info) == 0 && info.st_mode & S_IFMT == S_IFREG
            && stat(path + "/objects", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
            && stat(path + "/refs", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    private static func open(gitDirectory: String, workDirectory: String?) -> NativeRepository? {
        // Ownership as git checks it (safe.directory): anything not this user's is libgit2's call.
        let user = geteuid()
        for path in [gitDirectory, workDirectory].compactMap({ $0 }) {
            var info = stat()
            guard stat(path, &info) == 0, info.st_uid == user else { return nil }
        }
        var info = stat()
        if stat(gitDirectory + "/commondir", &info) == 0 || stat(gitDirectory + "/objects/info/alternates", &info) == 0 { return nil }
        guard let bytes = MappedFile.contents(gitDirectory + "/config"), let config = GitConfigScan(bytes), config.isPlain else { return nil }
        // A `.git` directory of a repository set bare, or a bare-looking one that is not: libgit2 decides.
        if workDirectory == nil ? config.bare != true : config.bare == true { return nil }
        // The user's and the system's files too: one that includes others, or sets `core.bare`
        // or `core.worktree`, and libgit2 reads them all.
        var hasNoRemotes = !config.hasRemotes
        for file in globalConfigFiles() {
            let read: [UInt8]?
            do { read = try MappedFile.existing(file, limit: 1 << 20) } catch { return nil }
            guard let bytes = read else { continue }
            guard let scan = GitConfigScan(bytes), scan.isPlain, scan.bare == nil else { return nil }
            if scan.hasRemotes { hasNoRemotes = false }
        }
        let git = gitDirectory + "/"
        return NativeRepository(gitDirectory: git, workDirectory: workDirectory.map { $0 == "/" ? $0 : $0 + "/" },
                                objects: ObjectDatabase(directory: gitDirectory + "/objects"),
                                references: References(gitDirectory: git), hasNoRemotes: hasNoRemotes)
    }

    /// The files besides the repository's own that libgit2 reads config from.
    private static func globalConfigFiles() -> [String] {
        // As libgit2: $HOME, else the user's entry in the password database.
        let home = getenv("HOME").map { String(cString: $0) } ?? getpwuid(geteuid())?.pointee.pw_dir.map { String(cString: $0) }
        let xdg = getenv("XDG_CONFIG_HOME").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? home.map { $0 + "/.config" }
        return [home.map { $0 + "/.gitconfig" }, xdg.map { $0 + "/git/config" }, "/etc/gitconfig"].compactMap { $0 }
    }
}

/// What the native reader needs of a git config file, read line by line: section headers and
/// `bare`. It does not interpret values beyond that; a file that needs more is not plain.
struct GitConfigScan {
    private(set) var isPlain = true
    private(set) var hasRemotes = false
    private(set) var bare: Bool?

    init?(_ bytes: [UInt8]) {
        var section = ""
        for raw in bytes.split(separator: UInt8(ascii: "\n")) {
            let line = String(decoding: raw, as: UTF8.self).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { return nil }
                let header = line[line.index(after: line.startIndex)..<close].trimmingSpaces.lowercased()
                let name = String(header.prefix { $0 != " " && $0 != "\t" && $0 != "." })
                // `[core "x"]` is not `[core]`: only a header that is the bare name counts as it.
                section = name == header ? name : name + " (subsection)"
                if name == "remote" { hasRemotes = true }
                // Includes pull in other files; extensions change the formats (SHA-256, reftable).
                if ["include", "includeif", "extensions"].contains(name) { isPlain = false }
                if line[line.index(after: close)...].trimmingSpaces.isEmpty { continue }
                // `[core] bare = true` on one line: read no further by hand.
                isPlain = false
                continue
            }
            // A value continued on the next line: read no further by hand.
            if line.hasSuffix("\\") { isPlain = false }
            guard section == "core" else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces.lowercased() }
            switch parts.first ?? "" {
            case "worktree": isPlain = false
            case "repositoryformatversion": if parts.count < 2 || parts[1] != "0" && parts[1] != "1" { isPlain = false }
            case "bare":
                switch parts.count < 2 ? "true" : parts[1] {
                case "true", "yes", "on", "1": bare = true
                case "false", "no", "off", "0": bare = false
                default: isPlain = false
                }
            default: break
            }
        }
    }
}

private extension StringProtocol {
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
