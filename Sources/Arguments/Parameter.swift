/// The help line of a parameter: its text, and the name its value goes by (`<rev>`).
public struct Help: ExpressibleByStringLiteral, Sendable {
    public let text: String
    public let valueName: String?
    public let isHidden: Bool

    public init(_ text: String, valueName: String? = nil) {
        self.text = text
        self.valueName = valueName
        isHidden = false
    }

    public init(stringLiteral text: String) { self.init(text) }

    private init(hidden: Void) {
        text = ""
        valueName = nil
        isHidden = true
    }

    /// Accepted, but not shown in help or offered by completion.
    public static let hidden = Help(hidden: ())
}

/// What the shells offer for a parameter's value.
public enum Completion: Sendable {
    case none
    /// The shell's own file name completion.
    case files
    /// Computed by the command when Tab is pressed: the words typed so far and the word being
    /// completed. Quick and quiet: no output on a problem.
    case custom(@Sendable (_ words: [String], _ prefix: String) -> [String])
}

public enum ParameterKind: Sendable { case option, flag, argument, group }

/// One option, flag or positional argument of a command (or a group of them), bound to the
/// property it sets through a key path.
public struct Parameter<Root> {
    public let kind: ParameterKind
    /// `--format`, and `-o` when it has a short name; empty for an argument and a group.
    public let names: [String]
    /// `format` in `--format <format>`; an argument's name (`target`).
    public let valueName: String
    public let help: Help
    /// `--input` given many times, an argument that takes every remaining word.
    public let repeats: Bool
    /// The command cannot run without it: an argument of a plain type, an option declared so.
    public let isRequired: Bool
    public let choices: [String]
    public let completion: Completion
    /// Sets the value from its text; false when the text is not a valid value.
    let assign: (inout Root, String) -> Bool
    /// What help shows as "(default: …)", read from a fresh `Root()`.
    let shownDefault: (Root) -> String?
    /// A group's own parameters, bound to the root through the group's key path.
    let members: [Parameter<Root>]
    let validate: (Root) throws -> Void

    /// `--format <format>`, `-o, --output <file>`, `--yes`, `<target>`.
    public var label: String {
        switch kind {
        case .flag: return names.sorted { $0.count < $1.count }.joined(separator: ", ")
        case .option: return names.sorted { $0.count < $1.count }.joined(separator: ", ") + " <\(valueName)>"
        case .argument: return "<\(valueName)>"
        case .group: return ""
        }
    }

    /// The group flattened: every option, flag and argument, in declaration order.
    var flattened: [Parameter<Root>] {
        kind == .group ? members.flatMap(\.flattened) : [self]
    }

    /// The `validate()` of this group and of the groups inside it, outermost last.
    var validators: [(Root) throws -> Void] {
        kind == .group ? members.flatMap(\.validators) + [validate] : []
    }

    private init(kind: ParameterKind, names: [String] = [], valueName: String = "", help: Help = "", repeats: Bool = false, isRequired: Bool = false,
                 choices: [String] = [], completion: Completion = .none, assign: @escaping (inout Root, String) -> Bool = { _, _ in true },
                 shownDefault: @escaping (Root) -> String? = { _ in nil }, members: [Parameter<Root>] = [],
                 validate: @escaping (Root) throws -> Void = { _ in }) {
        self.kind = kind
        self.names = names
        self.valueName = valueName
        self.help = help
        self.repeats = repeats
        self.isRequired = isRequired
        self.choices = choices
        self.completion = completion
        self.assign = assign
        self.shownDefault = shownDefault
        self.members = members
        self.validate = validate
    }

    /// The same parameter set on the value at `path` of a larger root.
    func bound<Outer>(at path: WritableKeyPath<Outer, Root>) -> Parameter<Outer> {
        let assign = self.assign, shownDefault = self.shownDefault, validate = self.validate
        return Parameter<Outer>(
            kind: kind, names: names, valueName: valueName, help: help, repeats: repeats, isRequired: isRequired, choices: choices,
            completion: completion, assign: { outer, text in assign(&outer[keyPath: path], text) },
            shownDefault: { shownDefault($0[keyPath: path]) }, members: members.map { $0.bound(at: path) },
            validate: { try validate($0[keyPath: path]) })
    }

    private static func valueName(_ name: String, _ help: Help) -> String {
        help.valueName ?? String(name.drop { $0 == "-" })
    }

    private static func names(_ name: String, _ short: String?) -> [String] {
        [name] + (short.map { [$0] } ?? [])
    }

    /// Converts the text and hands the value to `store`; false when the text is no valid value.
    private static func converting<V: ArgumentValue>(_ store: @escaping (inout Root, V) -> Void) -> (inout Root, String) -> Bool {
        { root, text in
            guard let value = V(argument: text) else { return false }
            store(&root, value)
            return true
        }
    }

    // MARK: options: `--name VALUE` or `--name=VALUE`

    /// `required`: the command cannot run without it (the property's initial value is a placeholder).
    public static func option<V: ArgumentValue>(_ path: WritableKeyPath<Root, V>, _ name: String, short: String? = nil, required: Bool = false,
                                                help: Help, completion: Completion = .none) -> Parameter {
        Parameter(kind: .option, names: names(name, short), valueName: valueName(name, help), help: help, isRequired: required,
                  choices: V.choices, completion: completion, assign: converting { $0[keyPath: path] = $1 },
                  shownDefault: { required ? nil : $0[keyPath: path].argumentText })
    }

    public static func option<V: ArgumentValue>(_ path: WritableKeyPath<Root, V?>, _ name: String, short: String? = nil,
                                                help: Help, completion: Completion = .none) -> Parameter {
        Parameter(kind: .option, names: names(name, short), valueName: valueName(name, help), help: help, choices: V.choices,
                  completion: completion, assign: converting { $0[keyPath: path] = $1 })
    }

    /// Given many times, each value kept in order.
    public static func option<V: ArgumentValue>(_ path: WritableKeyPath<Root, [V]>, _ name: String, short: String? = nil,
                                                help: Help, completion: Completion = .none) -> Parameter {
        Parameter(kind: .option, names: names(name, short), valueName: valueName(name, help), help: help, repeats: true,
                  choices: V.choices, completion: completion, assign: converting { $0[keyPath: path].append($1) })
    }

    public static func flag(_ path: WritableKeyPath<Root, Bool>, _ name: String, help: Help) -> Parameter {
        Parameter(kind: .flag, names: [name], help: help, assign: { root, _ in
            root[keyPath: path] = true
            return true
        })
    }

    // MARK: positional arguments, in declaration order

    /// Required: the property's initial value is a placeholder.
    public static func argument<V: ArgumentValue>(_ path: WritableKeyPath<Root, V>, _ name: String, help: Help,
                                                  completion: Completion = .none) -> Parameter {
        Parameter(kind: .argument, valueName: name, help: help, isRequired: true, choices: V.choices, completion: completion,
                  assign: converting { $0[keyPath: path] = $1 })
    }

    public static func argument<V: ArgumentValue>(_ path: WritableKeyPath<Root, V?>, _ name: String, help: Help,
                                                  completion: Completion = .none) -> Parameter {
        Parameter(kind: .argument, valueName: name, help: help, choices: V.choices, completion: completion,
                  assign: converting { $0[keyPath: path] = $1 })
    }

    /// Every remaining word; `required` when there must be at least one.
    public static func argument<V: ArgumentValue>(_ path: WritableKeyPath<Root, [V]>, _ name: String, required: Bool = false,
                                                  help: Help, completion: Completion = .none) -> Parameter {
        Parameter(kind: .argument, valueName: name, help: help, repeats: true, isRequired: required, choices: V.choices,
                  completion: completion, assign: converting { $0[keyPath: path].append($1) })
    }

    /// A shared group's parameters, with its `validate()`.
    public static func group<G: ParameterGroup>(_ path: WritableKeyPath<Root, G>) -> Parameter {
        Parameter(kind: .group, members: G.parameters.map { $0.bound(at: path) }, validate: { try $0[keyPath: path].validate() })
    }
}
