@testable import DeployKit
import Foundation
import Testing

/// `trimmingBlanks` trims what Foundation's `trimmingCharacters(in: .whitespaces)` trims: tabs
/// and Unicode space separators at both ends, scalar by scalar; never newlines.
@Suite struct TextTrimmingTests {
    @Test(arguments: ["", " ", "\t a b \t", "x", "  30s ", "\u{00A0}ns.x\u{3000}", "\u{2003}\u{2009}y\u{202F}", "\n a \n",
                      " \u{0301}é ", "a\u{200B}", "\u{180E}m\u{180E}", "\u{1680}\u{205F}k\u{2028}", "\u{FEFF} z", " ☃ ", "\r\tq\t\r"])
    func matchesFoundation(_ text: String) {
        #expect(text.trimmingBlanks == text.trimmingCharacters(in: .whitespaces), "\(Array(text.unicodeScalars))")
        #expect(text[...].trimmingBlanks == text.trimmingCharacters(in: .whitespaces))
    }
}
