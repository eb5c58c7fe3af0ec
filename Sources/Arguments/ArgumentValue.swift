/// A type an option or an argument's text converts to.
public protocol ArgumentValue {
    init?(argument: String)
    /// The values help and completion offer (an enum's cases); empty for free text.
    static var choices: [String] { get }
    /// The text `init?(argument:)` reads back: help's "(default: …)".
    var argumentText: String { get }
}

extension ArgumentValue {
    public static var choices: [String] { [] }
    public var argumentText: String { "\(self)" }
}

extension ArgumentValue where Self: RawRepresentable, Self: CaseIterable, RawValue == String {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var choices: [String] { allCases.map(\.rawValue) }
    public var argumentText: String { rawValue }
}

extension String: ArgumentValue {
    public init?(argument: String) { self = argument }
}

extension Int: ArgumentValue {
    public init?(argument: String) { self.init(argument, radix: 10) }
}
