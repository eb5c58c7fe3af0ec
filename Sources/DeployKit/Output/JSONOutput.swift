import Foundation

/// The one JSON contract of every `--format json` output and report: sorted snake_case keys,
/// slashes unescaped, every `Date` as RFC 3339 UTC (`Timestamp.rfc3339`), numbers as numbers.
/// The schemas in `Schemas/` describe each output; the tests hold every output to them.
public enum JSONOutput {
    public static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try encoder(pretty: true).encode(value), as: UTF8.self) + "\n"
    }

    /// One line, for event streams.
    public static func line(_ value: some Encodable) throws -> String {
        String(decoding: try encoder(pretty: false).encode(value), as: UTF8.self) + "\n"
    }

    private static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.rfc3339(date))
        }
        return encoder
    }
}
