import Foundation

/// Durations as descriptors write them: `250ms`, `30s`, `5m`, `1h30m`, or a bare number of
/// seconds. Kept in milliseconds.
public enum DurationValue {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingBlanks
        // Overflow is not a duration (make fuzz found `timeout: 8888888888888888888` trapping).
        if let seconds = Int(trimmed), seconds >= 0 {
            let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            return overflow ? nil : milliseconds
        }
        var total = 0
        var digits = ""
        var unit = ""
        var sawPart = false
        func flush() -> Bool {
            guard let number = Int(digits) else { return false }
            let factor: Int
            switch unit {
            case "ms": factor = 1
            case "s": factor = 1000
            case "m": factor = 60_000
            case "h": factor = 3_600_000
            case "d": factor = 86_400_000
            default: return false
            }
            let (part, overflow) = number.multipliedReportingOverflow(by: factor)
            let (sum, overflowSum) = total.addingReportingOverflow(part)
            guard !overflow, !overflowSum else { return false }
            total = sum
            digits = ""
            unit = ""
            sawPart = true
            return true
        }
        for character in trimmed {
            if character.isASCII && character.isNumber {
                if !unit.isEmpty { guard flush() else { return nil } }
                digits.append(character)
            } else if character.isLetter {
                guard !digits.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !digits.isEmpty, flush(), sawPart else { return nil }
        return total
    }

    /// `1h30m`, `45s`, `250ms`: the shortest exact form.
    public static func format(milliseconds: Int) -> String {
        if milliseconds == 0 { return "0s" }
        if milliseconds % 1000 != 0 { return "\(milliseconds)ms" }
        var seconds = milliseconds / 1000
        var out = ""
        for (unit, size) in [("h", 3600), ("m", 60)] where seconds >= size {
            out += "\(seconds / size)\(unit)"
            seconds %= size
        }
        if seconds > 0 { out += "\(seconds)s" }
        return out
    }
}
