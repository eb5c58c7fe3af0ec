/// A step's `when:`: a small boolean language over inputs and environment variables, e.g.
/// `inputs.deploy_via == "helm" && !inputs.skip_smoke`. Operators: `==`, `!=`, `&&`, `||`, `!`,
/// parentheses; operands: `inputs.NAME`, `env.NAME`, quoted strings, `true`, `false`, numbers.
/// A bare reference is true unless it is empty, `false`, `0` or `no`.
public indirect enum Condition: Hashable, Sendable {
    case value(Operand)
    case not(Condition)
    case and(Condition, Condition)
    case or(Condition, Condition)
    case equals(Operand, Operand)
    case notEquals(Operand, Operand)

    public enum Operand: Hashable, Sendable {
        case reference(Reference)
        case literal(String)
    }

    public var references: [Reference] {
        switch self {
        case .value(let o): return o.references
        case .not(let c): return c.references
        case .and(let a, let b), .or(let a, let b): return a.references + b.references
        case .equals(let a, let b), .notEquals(let a, let b): return a.references + b.references
        }
    }

    /// Evaluates with `lookup` answering each reference (nil when unset: the empty string).
    public func evaluate(_ lookup: (Reference) -> String?) -> Bool {
        switch self {
        case .value(let operand): return Self.truthy(operand.value(lookup))
        case .not(let c): return !c.evaluate(lookup)
        case .and(let a, let b): return a.evaluate(lookup) && b.evaluate(lookup)
        case .or(let a, let b): return a.evaluate(lookup) || b.evaluate(lookup)
        case .equals(let a, let b): return a.value(lookup) == b.value(lookup)
        case .notEquals(let a, let b): return a.value(lookup) != b.value(lookup)
        }
    }

    static func truthy(_ text: String) -> Bool {
        !["", "false", "0", "no", "off"].contains(text.lowercased())
    }

    public static func parse(_ text: String) -> Result<Condition, TemplateError> {
        var parser = ConditionParser(tokens: [], position: 0)
        switch ConditionParser.tokenize(text) {
        case .failure(let error): return .failure(TemplateError(message: "\(error.message) in condition \"\(text)\""))
        case .success(let tokens): parser.tokens = tokens
        }
        guard !parser.tokens.isEmpty else { return .failure(TemplateError(message: "'when' is empty")) }
        do {
            let condition = try parser.parseOr()
            if parser.position < parser.tokens.count {
                throw TemplateError(message: "unexpected '\(parser.tokens[parser.position].text)'")
            }
            return .success(condition)
        } catch let error as TemplateError {
            return .failure(TemplateError(message: "\(error.message) in condition \"\(text)\""))
        } catch {
            return .failure(TemplateError(message: "\(error)"))
        }
    }
}

extension Condition.Operand {
    var references: [Reference] {
        if case .reference(let r) = self { return [r] }
        return []
    }

    func value(_ lookup: (Reference) -> String?) -> String {
        switch self {
        case .reference(let r): return lookup(r) ?? ""
        case .literal(let s): return s
        }
    }
}

private struct ConditionParser {
    struct Token { let text: String; let isString: Bool }
    var tokens: [Token]
    var position: Int

    static func tokenize(_ text: String) -> Result<[Token], TemplateError> {
        var tokens: [Token] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" { i += 1; continue }
            if c == "\"" || c == "'" {
                var j = i + 1
                var value = ""
                while j < chars.count && chars[j] != c { value.append(chars[j]); j += 1 }
                guard j < chars.count else { return .failure(TemplateError(message: "unterminated string")) }
                tokens.append(Token(text: value, isString: true))
                i = j + 1
                continue
            }
            let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
            if ["==", "!=", "&&", "||"].contains(two) {
                tokens.append(Token(text: two, isString: false)); i += 2; continue
            }
            if "!()".contains(c) {
                tokens.append(Token(text: String(c), isString: false)); i += 1; continue
            }
            var word = ""
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || "_.-".contains(chars[i]) {
                word.append(chars[i]); i += 1
            }
            guard !word.isEmpty else { return .failure(TemplateError(message: "unexpected '\(c)'")) }
            tokens.append(Token(text: word, isString: false))
        }
        return .success(tokens)
    }

    mutating func parseOr() throws -> Condition {
        var left = try parseAnd()
        while peek("||") { position += 1; left = .or(left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws -> Condition {
        var left = try parseUnary()
        while peek("&&") { position += 1; left = .and(left, try parseUnary()) }
        return left
    }

    mutating func parseUnary() throws -> Condition {
        if peek("!") { position += 1; return .not(try parseUnary()) }
        if peek("(") {
            position += 1
            let inner = try parseOr()
            guard peek(")") else { throw TemplateError(message: "missing ')'") }
            position += 1
            return inner
        }
        let left = try operand()
        if peek("==") { position += 1; return .equals(left, try operand()) }
        if peek("!=") { position += 1; return .notEquals(left, try operand()) }
        return .value(left)
    }

    mutating func operand() throws -> Condition.Operand {
        guard position < tokens.count else { throw TemplateError(message: "the condition ends too early") }
        let token = tokens[position]
        position += 1
        if token.isString { return .literal(token.text) }
        if ["==", "!=", "&&", "||", "!", "(", ")"].contains(token.text) {
            throw TemplateError(message: "expected a value, found '\(token.text)'")
        }
        if token.text == "true" || token.text == "false" || token.text.allSatisfy(\.isNumber) {
            return .literal(token.text)
        }
        guard let reference = Reference(parsing: token.text) else {
            throw TemplateError(message: "'\(token.text)' is neither a reference (inputs.NAME, env.NAME) nor a quoted string")
        }
        return .reference(reference)
    }

    func peek(_ text: String) -> Bool {
        position < tokens.count && !tokens[position].isString && tokens[position].text == text
    }
}
