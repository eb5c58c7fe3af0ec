extension StringProtocol {
    /// `trimmingCharacters(in: .whitespaces)` (tabs, Unicode space separators and, as
    /// CoreFoundation has it, U+200B; scalar by scalar) without Foundation's NSString bridge: its first calls cost ~1 M instructions of
    /// every `plan`, for the few words a descriptor's durations and `${…}` references trim.
    var trimmingBlanks: String {
        let scalars = String(self).unicodeScalars
        let isBlank: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || ($0.value > 0x7F && ($0.properties.generalCategory == .spaceSeparator || $0 == "\u{200B}")) }
        guard let first = scalars.firstIndex(where: { !isBlank($0) }), let last = scalars.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(scalars[first...last])
    }
}
