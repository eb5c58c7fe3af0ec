import Foundation

/// Text fields of the state directory's tab-separated caches (stacks, checklists): tabs, line
/// breaks and backslashes as `\t`, `\n`, `\r`, `\\`; `=` as `\e` (it ends a path in a pair).
/// By Unicode scalar, not Character: `"\r\n"` is one Character, and `=` or `e` followed by a
/// combining mark would be another, so a Character loop missed them.
enum CacheFields {
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
