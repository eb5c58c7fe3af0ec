import Mustache

/// A report template parsed in chunks. swift-mustache's parser measures the rest of the
/// template (in Characters) at every tag, so a parse takes time in the square of a template's
/// length: the three whole templates (15 KB) took ~100 M instructions (~10 ms) of every `up`,
/// ~40 M in chunks of 512 bytes. Each chunk is a run of whole lines outside any section,
/// parsed as a partial of its own and named by a standalone `{{> partial}}` line at column 0,
/// which renders as the chunk's text exactly: the output is the same byte for byte (a test
/// renders the chunks against the whole template). A partial starts as HTML, so
/// `everyChunkStarts` carries any other content type into each chunk. (The report templates
/// keep Mustache's delimiters and hold no comments: the cut looks for `{{`.)
struct ChunkedTemplate {
    let name: String
    let library: MustacheLibrary

    /// Bytes of template text per chunk, at least (a chunk ends at the next line it may end at).
    static let chunkSize = 512

    init(_ text: String, named name: String, everyChunkStarts prefix: String = "", chunkSize: Int = chunkSize) {
        var library = MustacheLibrary()
        var outline = ""
        for (index, chunk) in Self.chunks(text, size: chunkSize).enumerated() {
            let partial = "\(name)-\(index)"
            library.register(try! MustacheTemplate(string: prefix + chunk), named: partial)
            outline += "{{> \(partial)}}\n"
        }
        library.register(try! MustacheTemplate(string: outline), named: name)
        self.name = name
        self.library = library
    }

    /// Whole lines, cut only where every section opened so far is closed, and only after a
    /// line with no section tag: after one, swift-mustache carries the opening tag's
    /// "standalone" state into the next line, where a chunk would start afresh.
    static func chunks(_ text: String, size: Int = chunkSize) -> [String] {
        let bytes = Array(text.utf8)
        var chunks: [String] = [], start = 0, lineStart = 0, depth = 0
        for end in bytes.indices where bytes[end] == UInt8(ascii: "\n") || end == bytes.count - 1 {
            let (balance, touched) = sections(in: bytes[lineStart...end])
            depth += balance
            lineStart = end + 1
            if depth == 0, !touched, lineStart - start >= size {
                chunks.append(String(decoding: bytes[start..<lineStart], as: UTF8.self))
                start = lineStart
            }
        }
        if start < bytes.count || chunks.isEmpty { chunks.append(String(decoding: bytes[start...], as: UTF8.self)) }
        return chunks
    }

    /// Sections (and inverted sections, blocks, parents) opened minus closed on one line, and
    /// whether the line has any of their tags.
    private static func sections(in line: ArraySlice<UInt8>) -> (balance: Int, touched: Bool) {
        var balance = 0, touched = false
        var previous: UInt8 = 0, afterOpening = false
        for byte in line {
            if afterOpening {
                if "#^$<".utf8.contains(byte) { balance += 1; touched = true } else if byte == UInt8(ascii: "/") { balance -= 1; touched = true }
            }
            afterOpening = previous == UInt8(ascii: "{") && byte == UInt8(ascii: "{")
            // A third `{` (`{{{name}}}`) is not a second opening.
            previous = afterOpening ? 0 : byte
        }
        return (balance, touched)
    }
}
