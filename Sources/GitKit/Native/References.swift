/// HEAD and the refs it names, read as git writes them: a loose file under the git directory,
/// else a line of `packed-refs`. Only names, not revision syntax: `main~2` or a short id goes to libgit2.
struct References {
    let gitDirectory: String

    enum Head {
        case commitish(ObjectID)
        /// HEAD names a branch with no commit yet (just `git init`).
        case unborn
    }

    func head() throws -> Head {
        var name = "HEAD"
        // A symbolic ref may name another; git stops at five.
        for _ in 0..<5 {
            switch try lookUp(name) {
            case .id(let id)?: return .commitish(id)
            case .symbolic(let target)?: name = target
            case nil: return .unborn
            }
        }
        throw NativeMiss("HEAD's symbolic refs run deeper than five")
    }

    private enum Value {
        case id(ObjectID)
        case symbolic(String)
    }

    private func lookUp(_ name: String) throws -> Value? {
        guard name == "HEAD" || Self.isPlainRefName(name) else { throw NativeMiss("ref name \(name) is left to libgit2") }
        if let bytes = try MappedFile.existing(gitDirectory + name, limit: 4096) {
            var text = String(decoding: bytes, as: UTF8.self)
            while text.last == "\n" || text.last == "\r" { text.removeLast() }
            if text.hasPrefix("ref: ") { return .symbolic(String(text.dropFirst(5))) }
            guard let id = ObjectID(hex: text) else { throw NativeMiss("\(name) holds neither an id nor a ref") }
            return .id(id)
        }
        guard name != "HEAD" else { throw NativeMiss("no HEAD file") }
        return try packed(name).map(Value.id)
    }

    /// The id `packed-refs` gives `name`, or nil. Only the file as git writes it: a header
    /// comment first, then `ID NAME` lines, each at most once followed by its peeled `^ID`,
    /// every line ended; anything else is libgit2's to read (or refuse). A name listed twice
    /// reads as its last line, as in libgit2.
    private func packed(_ name: String) throws -> ObjectID? {
        guard let bytes = try MappedFile.existing(gitDirectory + "packed-refs", limit: 64 << 20) else { return nil }
        guard bytes.isEmpty || bytes.last == 0x0A else { throw NativeMiss("packed-refs does not end with a line break") }
        let wanted = Array(name.utf8)
        var found: ObjectID?
        var peelable = false
        for (number, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().enumerated() {
            if number == 0, line.first == UInt8(ascii: "#") { continue }
            if line.first == UInt8(ascii: "^") {
                guard peelable, line.count == 41, ObjectID(hex: String(decoding: line.dropFirst(), as: UTF8.self)) != nil
                else { throw NativeMiss("packed-refs has a peeled line git does not write") }
                peelable = false
                continue
            }
            guard line.count >= 42, line[line.startIndex + 40] == 0x20,
                  let id = ObjectID(hex: String(decoding: line.prefix(40), as: UTF8.self))
            else { throw NativeMiss("packed-refs has a line git does not write") }
            peelable = true
            if line.dropFirst(41).elementsEqual(wanted) { found = id }
        }
        return found
    }

    /// `refs/…` made of ordinary path components: no `..`, no control characters, nothing
    /// git's check-ref-format refuses and no revision syntax.
    static func isPlainRefName(_ name: String) -> Bool {
        guard name.hasPrefix("refs/") else { return false }
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            guard !component.isEmpty, !component.hasPrefix("."), !component.hasSuffix(".lock") else { return false }
        }
        return !name.contains("..") && !name.contains("@{") && name.utf8.allSatisfy { byte in
            byte > 0x20 && byte != 0x7F && !"~^:?*[\\".utf8.contains(byte)
        }
    }
}
