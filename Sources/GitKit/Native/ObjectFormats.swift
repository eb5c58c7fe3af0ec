/// Commits and trees as git writes them, parsed into what GitKit hands out, the way libgit2
/// reads them. What is not the plain form (a signature without a time, a time zone past ±13:58)
/// is a miss, and libgit2 reads it instead.
enum ObjectFormats {
    struct Commit {
        let tree: ObjectID
        let info: CommitInfo
    }

    static func commit(_ id: ObjectID, _ bytes: [UInt8]) throws -> Commit {
        var tree: ObjectID?
        var parents: [ObjectID] = []
        var author: Signature?
        var committer: Signature?
        guard bytes.starts(with: Array("tree ".utf8)) else { throw NativeMiss("commit \(id) does not start with its tree") }
        var at = 0
        var message: ArraySlice<UInt8> = []
        // tree, parents, author, committer in that order (as libgit2 requires), then any other headers.
        while at < bytes.count {
            guard let end = bytes[at...].firstIndex(of: 0x0A) else { throw NativeMiss("commit \(id) ends inside its headers") }
            let line = bytes[at..<end]
            at = end + 1
            if line.isEmpty { message = bytes[at...]; break }
            if committer != nil { continue }  // encoding, gpgsig, mergetag…: not read
            guard let space = line.firstIndex(of: 0x20) else { throw NativeMiss("commit \(id) has a header git does not write") }
            let value = line[(space + 1)...]
            switch (String(decoding: line[..<space], as: UTF8.self), tree == nil, author == nil) {
            case ("tree", true, _):
                tree = ObjectID(hex: String(decoding: value, as: UTF8.self))
                if tree == nil { throw NativeMiss("commit \(id) has a bad tree line") }
            case ("parent", false, true):
                guard let parent = ObjectID(hex: String(decoding: value, as: UTF8.self)) else { throw NativeMiss("commit \(id) has a bad parent line") }
                parents.append(parent)
            case ("author", false, true): author = try Signature(value)
            case ("committer", false, false): committer = try Signature(value)
            default: throw NativeMiss("commit \(id) has its headers out of git's order")
            }
        }
        guard let tree, let author, let committer else { throw NativeMiss("commit \(id) lacks a tree, author or committer") }
        let info = CommitInfo(id: id, authorName: author.name, authorEmail: author.email, authorTime: author.time,
                              authorOffsetMinutes: author.offsetMinutes, commitTime: committer.time,
                              subject: summary(message), parents: parents)
        return Commit(tree: tree, info: info)
    }

    struct Signature {
        let name: String, email: String
        let time: Int64
        let offsetMinutes: Int32

        /// `NAME <EMAIL> SECONDS +HHMM`.
        init(_ bytes: ArraySlice<UInt8>) throws {
            guard let open = bytes.lastIndex(of: UInt8(ascii: "<")), let close = bytes.lastIndex(of: UInt8(ascii: ">")), open < close,
                  !bytes.contains(0)  // libgit2's C strings would end at a NUL
            else { throw NativeMiss("a signature without an e-mail") }
            name = String(decoding: trimmed(bytes[..<open]), as: UTF8.self)
            email = String(decoding: trimmed(bytes[(open + 1)..<close]), as: UTF8.self)
            // Exactly " SECONDS +HHMM" after the e-mail, digits only.
            let fields = bytes[(close + 1)...].split(separator: 0x20, omittingEmptySubsequences: false)
            let isDigit: (UInt8) -> Bool = { (0x30...0x39).contains($0) }
            guard fields.count == 3, fields[0].isEmpty, (1...18).contains(fields[1].count), fields[1].allSatisfy(isDigit),
                  fields[2].count == 5, let sign = fields[2].first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"),
                  fields[2].dropFirst().allSatisfy(isDigit),
                  let seconds = Int64(String(decoding: fields[1], as: UTF8.self)),
                  let zone = Int32(String(decoding: fields[2].dropFirst(), as: UTF8.self))
            else { throw NativeMiss("a signature's time is not SECONDS +HHMM") }
            let hours = zone / 100, minutes = zone % 100
            guard hours < 14, minutes < 59 else { throw NativeMiss("a time zone libgit2 reads its own way") }
            time = seconds
            offsetMinutes = (sign == UInt8(ascii: "-") ? -1 : 1) * (hours * 60 + minutes)
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return [] }
        return bytes[first...last]
    }

    /// libgit2's `git_commit_summary`: the first paragraph, leading newlines skipped, each run of
    /// whitespace that holds a newline squashed to one space, trailing whitespace dropped.
    static func summary(_ message: ArraySlice<UInt8>) -> String {
        let text = message.prefix { $0 != 0 }.drop { $0 == 0x0A }
        var out: [UInt8] = []
        var spaceStart: Int?
        var spaceHasNewline = false
        var at = text.startIndex
        while at < text.endIndex {
            let byte = text[at]
            if byte == 0x0A {
                let next = at + 1
                if next == text.endIndex || text[next] == 0x0A { break }
                let rest = text[next...].drop { isSpace($0) && $0 != 0x0A }
                if rest.isEmpty || rest.first == 0x0A { break }
            }
            if isSpace(byte) {
                if spaceStart == nil { spaceStart = at; spaceHasNewline = false }
                spaceHasNewline = spaceHasNewline || byte == 0x0A
            } else {
                if let start = spaceStart {
                    if spaceHasNewline { out.append(0x20) } else { out.append(contentsOf: text[start..<at]) }
                    spaceStart = nil
                }
                out.append(byte)
            }
            at += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A tree's entries, in the order git stores them, with libgit2's normalised modes.
    static func tree(_ id: ObjectID, _ bytes: [UInt8]) throws -> [(entry: TreeEntry, mode: UInt32)] {
        var entries: [(entry: TreeEntry, mode: UInt32)] = []
        var names = Set<String>()
        var at = 0
        while at < bytes.count {
            guard let space = bytes[at...].firstIndex(of: 0x20), let nul = bytes[space...].firstIndex(of: 0),
                  nul + 21 <= bytes.count, space > at, nul > space + 1 else { throw NativeMiss("tree \(id) is malformed") }
            var raw: UInt32 = 0
            for digit in bytes[at..<space] {
                guard (0x30...0x37).contains(digit), raw < 0o1000000 else { throw NativeMiss("tree \(id) has a bad mode") }
                raw = raw << 3 | UInt32(digit - 0x30)
            }
            // Names compare as bytes (git's rule); one that is not UTF-8 would not survive a String.
            guard let name = String(validating: bytes[(space + 1)..<nul], as: UTF8.self), names.insert(name).inserted
            else { throw NativeMiss("tree \(id) has a name that is not UTF-8, or one twice") }
            let object = ObjectID(raw: bytes[(nul + 1)..<(nul + 21)])!
            at = nul + 21
            let mode = normalised(raw)
            entries.append((TreeEntry(name: name, kind: kind(mode), id: object), mode))
        }
        return entries
    }

    static func kind(_ mode: UInt32) -> TreeEntry.Kind {
        switch mode {
        case 0o040000: .directory
        case 0o160000: .submodule
        case 0o120000: .symlink
        default: .file
        }
    }

    /// As libgit2's `git_tree_entry_filemode`: a tree, an executable file (any x bit), a
    /// submodule, a symlink, else a plain file.
    static func normalised(_ mode: UInt32) -> UInt32 {
        if mode & 0o170000 == 0o040000 { return 0o040000 }
        if mode & 0o111 != 0 { return 0o100755 }
        if mode & 0o170000 == 0o160000 { return 0o160000 }
        if mode & 0o170000 == 0o120000 { return 0o120000 }
        return 0o100644
    }

    /// The object an annotated tag points at, and the kind the tag says it is (`git_tag_target`
    /// looks it up as that kind).
    static func tagTarget(_ id: ObjectID, _ bytes: [UInt8]) throws -> (id: ObjectID, kind: ObjectKind) {
        let lines = bytes.split(separator: 0x0A, maxSplits: 3, omittingEmptySubsequences: false)
        guard lines.count == 4, lines[0].starts(with: Array("object ".utf8)), lines[1].starts(with: Array("type ".utf8)),
              lines[2].starts(with: Array("tag ".utf8)),
              let target = ObjectID(hex: String(decoding: lines[0].dropFirst(7), as: UTF8.self)),
              let kind = ObjectKind(name: lines[1].dropFirst(5)) else { throw NativeMiss("tag \(id) is malformed") }
        return (target, kind)
    }
}

/// The native reader's parsers over arbitrary bytes, for `make fuzz`: a hostile commit message,
/// tree or delta must be a miss, never a crash or a read out of bounds.
@_spi(Fuzzing) public enum NativeParsers {
    private static let id = ObjectID(hex: String(repeating: "ab", count: 20))!

    public static func commit(_ bytes: [UInt8]) { _ = try? ObjectFormats.commit(id, bytes) }

    public static func tree(_ bytes: [UInt8]) { _ = try? ObjectFormats.tree(id, bytes) }

    /// The first byte says how many of the rest are the base; the others are the delta.
    public static func delta(_ bytes: [UInt8]) {
        guard let split = bytes.first.map(Int.init), bytes.count > split else { return }
        _ = try? Pack.apply(Array(bytes[(split + 1)...]), to: Array(bytes[1..<(split + 1)]))
    }
}
