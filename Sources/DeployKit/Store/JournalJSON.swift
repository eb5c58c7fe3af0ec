import Foundation

/// How every store writes the journal's structured columns (argv, inputs, event data,
/// measurements): JSON with sorted keys, so two stores hold the same text for the same value.
enum JournalJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }

    /// Nil for a missing or unreadable value.
    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(T.self, from: text.utf8Data)
    }
}
