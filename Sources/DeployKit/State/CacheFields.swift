import Foundation

/// Text fields of the state directory's tab-separated caches (stacks, checklists): tabs, line
/// breaks and backslashes as `\t`, `\n`, `\r`, `\\`; `=` as `\e` (it ends a path in a pair).
enum CacheFields {
    static func escape(_ text: String) -> String {
        guard text.contains(where: { "\t\n\r\\=".contains($0) }) else { return text }
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "=": out += "\\e"
            default: out.append(character)
            }
        }
        return out
    }

    static func unescape(_ bytes: ArraySlice<UInt8>) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return bytes.contains(UInt8(ascii: "\\")) ? unescape(Substring(text)) : text
    }

    static func unescape(_ text: Substring) -> String {
        guard text.contains("\\") else { return String(text) }
        var out = "", escaped = false
        for character in text {
            if escaped {
                switch character {
                case "t": out += "\t"
                case "n": out += "\n"
                case "r": out += "\r"
                case "e": out += "="
                default: out.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
