@testable import DeployKit
import Foundation
import Testing

/// The journal's flat columns (a run's inputs, a step's argv) are read without JSONDecoder; every
/// text must read exactly as JSONDecoder reads it, or be handed to it.
@Suite struct JournalJSONTests {
    /// Flat shapes FlatJSON reads itself.
    static let flat = [
        #"{}"#, #"[]"#, #" { } "#, "\t[\n]\r\n", #"{"a":"1"}"#, #"{ "b" : "2" , "a" : "x y" }"#, #"["x","y",""]"#,
        #"{"q":"say \"hi\"","s":"a\\b","u":"\/tmp\/x","c":"\b\f\n\r\t"}"#,
        #"["\u00e9\u00E9","\ud83d\ude00","\u0000","é☃😀"]"#,
    ]
    static let texts = flat + [
        // What FlatJSON declines (other shapes, trailing commas JSONDecoder takes, duplicate keys,
        // canonically equal keys, broken text): JSONDecoder's answer stands.
        #"{"\u00e9":"1","e\u0301":"2"}"#, #"{"a":1}"#, #"{"a":null}"#, #"["a",["b"]]"#, #"{"a":"1",}"#, #"["a",]"#, #"{"a":"1""#, #"["a"] x"#, "",
        #"{"a":"1","a":"2"}"#, #"["\ud83d"]"#, #"["\ude00"]"#, #"["\ud83dx"]"#, #"["\u12"]"#, #"["\x"]"#, "[\"a\u{1}b\"]",
        "\u{FEFF}[\"a\"]", #"{'a':'1'}"#, #"{"a" "1"}"#, #"[,]"#, #"{,}"#, "[\"tab\there\"]",
    ]

    @Test(arguments: texts)
    func readsAsJSONDecoderReads(_ text: String) {
        #expect(JournalJSON.decode([String: String].self, text) == (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))))
        #expect(JournalJSON.decode([String].self, text) == (try? JSONDecoder().decode([String].self, from: Data(text.utf8))))
    }

    /// The flat shapes among them are read without JSONDecoder.
    @Test func theFlatShapesAreReadDirectly() {
        for text in Self.flat {
            #expect(FlatJSON.object(text) != nil || FlatJSON.array(text) != nil, "\(text)")
        }
    }

    /// What the stores write reads back whole, through the flat reader itself.
    @Test func whatTheJournalWritesReadsBack() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var generator = SplitMix64(state: seed)
        let alphabet: [String] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "☃", "😀", "\u{301}", "{", "]", ","]
        for _ in 0..<500 {
            let word = { (0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined() }
            let argv = (0..<Int.random(in: 0...5, using: &generator)).map { _ in word() }
            let inputs = Dictionary((0..<Int.random(in: 0...5, using: &generator)).map { _ in (word(), word()) }, uniquingKeysWith: { a, _ in a })
            #expect(FlatJSON.array(JournalJSON.encode(argv)) == argv, "seed \(seed)")
            #expect(FlatJSON.object(JournalJSON.encode(inputs)) == inputs, "seed \(seed)")
        }
    }
}

/// A seeded generator, so a failure names the seed that reproduces it.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
