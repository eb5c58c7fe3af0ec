extension Int {
    /// `7` → `"  7"` (width 3), `-5` → `"-005"` (width 4, zeros): `String(format: "%3d")` and
    /// `"%04d"` without Foundation's formatter, whose variadic arguments cost the runtime a
    /// conformance scan per argument type.
    public func leftPadded(to width: Int, with pad: Character = " ") -> String {
        let sign = self < 0 ? "-" : "", digits = String(magnitude)
        let padding = String(repeating: pad, count: Swift.max(0, width - sign.count - digits.count))
        return pad == "0" ? sign + padding + digits : padding + sign + digits
    }
}
