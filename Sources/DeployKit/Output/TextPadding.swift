extension Int {
    /// `7` → `"  7"` (width 3): `String(format: "%3d")` without Foundation's formatter, whose
    /// variadic arguments cost the runtime a conformance scan per argument type.
    public func leftPadded(to width: Int, with pad: Character = " ") -> String {
        let digits = String(self)
        return String(repeating: pad, count: Swift.max(0, width - digits.count)) + digits
    }
}
