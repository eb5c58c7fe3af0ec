import Foundation

/// Text fields of the state directory's tab-separated caches (stacks, checklists): tabs, line
/// breaks and backslashes as `\t`, `\n`, `\r`, `\\`; `=` as `\e` (it ends a path in a pair).
/// By Unicode scalar, not Character: `"\r\n"` is one Character, and `=` or `e` followed by a
/// combining mark would be another, so a Character loop missed them.
enum CacheFields {
    /// Each line's tab-separated fields, `body` called line by line (found with memchr: a
    /// generic `split` over the bytes was a quarter of a warm listing of 1,500 targets).
    private static func forEachLine(of data: Data, _ body: ([ArraySlice<UInt8>]) -> Void) {
        let bytes = [UInt8](data)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < buffer.count {
                let end = memchr(base + start, 0x0A, buffer.count - start).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? buffer.count
                if end > start {
                    var fields: [ArraySlice<UInt8>] = []
                    var field = start
                    for index in start..<end where buffer[index] == 0x09 {
                        fields.append(bytes[field..<index])
                        field = index + 1
                    }
                    fields.append(bytes[field..<end])
                    body(fields)
                }
                start = end + 1
            }
        }
    }

    /// A cache file's records: a header line, one line per record, then `end` and the number of
    /// records (a file cut short is a miss). Nil unless `accepts` takes the header's fields.
    static func records(in data: Data, header accepts: ([String]) -> Bool) -> [[ArraySlice<UInt8>]]? {
        var header: [String]? = nil, count: String? = nil, records: [[ArraySlice<UInt8>]] = [], trailing = false
        forEachLine(of: data) { fields in
            if header == nil { header = fields.map { String(decoding: $0, as: UTF8.self) }; return }
            if count != nil { trailing = true; return }
            if fields.count == 2, fields[0].elementsEqual(end.utf8) { count = String(decoding: fields[1], as: UTF8.self); return }
            records.append(fields)
        }
        guard !trailing, let header, accepts(header), count == String(records.count) else { return nil }
        return records
    }

    /// The text `records(in:header:)` reads back.
    static func file(header: [String], records: [String]) -> Data {
        ([header.joined(separator: "\t")] + records + ["\(end)\t\(records.count)"]).map { $0 + "\n" }.joined().utf8Data
    }

    private static let end = "end"

    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { "\t\n\r\\=".unicodeScalars.contains($0) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "=": out.append(contentsOf: "\\e".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    static func unescape(_ bytes: ArraySlice<UInt8>) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return bytes.contains(UInt8(ascii: "\\")) ? unescape(Substring(text)) : text
    }

    static func unescape(_ text: Substring) -> String {
        guard text.unicodeScalars.contains("\\") else { return String(text) }
        var out = String.UnicodeScalarView(), escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                switch scalar {
                case "t": out.append("\t")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "e": out.append("=")
                default: out.append(scalar)
                }
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
