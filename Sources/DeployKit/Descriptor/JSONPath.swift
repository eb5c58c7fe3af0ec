import Foundation

/// The small JSON path that `expect.json` uses: `$.status`, `$.checks.db`, `$.items[0].name`,
/// `$["odd key"]`. Enough to check a field of a CLI's JSON output; no filters or wildcards.
public struct JSONPath: Hashable, Sendable, CustomStringConvertible {
    public enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    public let raw: String
    public let components: [Component]

    public var description: String { raw }

    public static func parse(_ text: String) -> Result<JSONPath, TemplateError> {
        let chars = Array(text)
        guard chars.first == "$" else {
            return .failure(TemplateError(message: "JSON path \"\(text)\" must start with '$' (e.g. $.status)"))
        }
        var components: [Component] = []
        var i = 1
        func fail(_ why: String) -> Result<JSONPath, TemplateError> {
            .failure(TemplateError(message: "bad JSON path \"\(text)\": \(why)"))
        }
        while i < chars.count {
            if chars[i] == "." {
                var key = ""
                i += 1
                while i < chars.count, chars[i] != ".", chars[i] != "[" { key.append(chars[i]); i += 1 }
                guard !key.isEmpty else { return fail("empty key after '.'") }
                components.append(.key(key))
            } else if chars[i] == "[" {
                guard let close = chars[i...].firstIndex(of: "]") else { return fail("missing ']'") }
                let inside = String(chars[(i + 1)..<close])
                if let number = Int(inside), number >= 0 {
                    components.append(.index(number))
                } else if inside.count >= 2, let q = inside.first, q == "\"" || q == "'", inside.last == q {
                    components.append(.key(String(inside.dropFirst().dropLast())))
                } else {
                    return fail("'[\(inside)]' is neither an index nor a quoted key")
                }
                i = close + 1
            } else {
                return fail("unexpected '\(chars[i])'")
            }
        }
        return .success(JSONPath(raw: text, components: components))
    }

    /// The value at this path in parsed JSON (`JSONSerialization` objects), or nil.
    public func lookup(in json: Any) -> Any? {
        var current: Any = json
        for component in components {
            switch component {
            case .key(let key):
                guard let object = current as? [String: Any], let next = object[key] else { return nil }
                current = next
            case .index(let index):
                guard let array = current as? [Any], index < array.count else { return nil }
                current = array[index]
            }
        }
        return current
    }
}
