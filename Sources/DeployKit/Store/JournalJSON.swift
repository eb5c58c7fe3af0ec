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
        // A run's inputs and a step's argv are read by nearly every command that reads a run:
        // JSONDecoder's first use in a process costs ~0.5 M instructions, more than `status`'s
        // queries. Anything FlatJSON does not read exactly as JSONDecoder would goes to it.
        if T.self == [String: String].self, let object = FlatJSON.object(text) { return object as? T }
        if T.self == [String].self, let array = FlatJSON.array(text) { return array as? T }
        return try? JSONDecoder().decode(T.self, from: text.utf8Data)
    }
}

/// JSON's flat shapes, an object of strings or an array of strings, read byte by byte. Nil for
/// everything else and for what it declines to judge (a duplicate key, a lone surrogate):
/// the caller then asks JSONDecoder, so no text reads differently.
enum FlatJSON {
    static func object(_ text: String) -> [String: String]? {
        var reader = Reader(text)
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        var object: [String: String] = [:]
        if reader.take(UInt8(ascii: "}")) { return reader.atEnd ? object : nil }
        repeat {
            guard let key = reader.string(), reader.take(UInt8(ascii: ":")), let value = reader.string(),
                  object.updateValue(value, forKey: key) == nil else { return nil }
        } while reader.take(UInt8(ascii: ","))
        return reader.take(UInt8(ascii: "}")) && reader.atEnd ? object : nil
    }

    static func array(_ text: String) -> [String]? {
        var reader = Reader(text)
        guard reader.take(UInt8(ascii: "[")) else { return nil }
        var array: [String] = []
        if reader.take(UInt8(ascii: "]")) { return reader.atEnd ? array : nil }
        repeat {
            guard let value = reader.string() else { return nil }
            array.append(value)
        } while reader.take(UInt8(ascii: ","))
        return reader.take(UInt8(ascii: "]")) && reader.atEnd ? array : nil
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(_ text: String) { bytes = Array(text.utf8) }

        var atEnd: Bool {
            mutating get { skipBlanks(); return index == bytes.count }
        }

        /// The next token is `byte`: consumed.
        mutating func take(_ byte: UInt8) -> Bool {
            skipBlanks()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipBlanks() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D { index += 1 }
        }

        /// A string token, its escapes resolved.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let unit = hex4() else { return nil }
                        var scalar = UInt32(unit)
                        if (0xD800..<0xDC00).contains(unit) {
                            guard takeHere(UInt8(ascii: "\\")), takeHere(UInt8(ascii: "u")),
                                  let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
                        }
                        guard let value = Unicode.Scalar(scalar) else { return nil }  // a lone low surrogate
                        UTF8.encode(value) { out.append($0) }
                    default: return nil
                    }
                case 0x00..<0x20: return nil  // JSON requires control characters escaped
                default: out.append(byte)
                }
            }
            return nil
        }

        /// `byte` right here, no blanks before it (inside a string).
        private mutating func takeHere(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func hex4() -> UInt16? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt16 = 0
            for byte in bytes[index..<index + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt16(digit)
            }
            index += 4
            return value
        }
    }
}
