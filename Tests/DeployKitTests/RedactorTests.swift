import Testing
@testable import DeployKit

/// Secrets never get through, however the output is cut into reads.
@Suite struct RedactorTests {
    private func redactInChunks(_ text: String, secrets: [String], cuts: [Int]) -> String {
        var redactor = Redactor(secrets: secrets)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var start = 0
        for cut in cuts.sorted() + [bytes.count] where cut >= start {
            out += bytes[start..<cut].withUnsafeBytes { redactor.feed($0) }
            start = cut
        }
        out += redactor.finish()
        return String(decoding: out, as: UTF8.self)
    }

    @Test func aSecretSplitAcrossEveryPossibleReadIsMasked() {
        let text = "token=s3cr3t-value; again s3cr3t-value."
        for cut in 0...text.utf8.count {
            #expect(redactInChunks(text, secrets: ["s3cr3t-value"], cuts: [cut]) == "token=••••; again ••••.", "cut at \(cut)")
        }
        for first in 0...12 {
            #expect(redactInChunks(text, secrets: ["s3cr3t-value"], cuts: [first, first + 3, first + 7]) == "token=••••; again ••••.")
        }
    }

    @Test func overlappingAndNestedSecretsLeaveNothingVisible() {
        #expect(Redactor(secrets: ["abc", "bcdefgh"]).redact("xabcdefghx") == "x••••x")
        #expect(Redactor(secrets: ["pass", "password123"]).redact("password123 and pass") == "•••• and ••••")
        for cut in 0...10 {
            #expect(redactInChunks("xabcdefghx", secrets: ["abc", "bcdefgh"], cuts: [cut]) == "x••••x", "cut at \(cut)")
        }
    }

    @Test func heldBackBytesAreFlushedWhenTheStreamEnds() {
        #expect(redactInChunks("ends with s3c", secrets: ["s3cret"], cuts: [11]) == "ends with s3c")
        #expect(redactInChunks("no secrets here", secrets: [], cuts: [3]) == "no secrets here")
        #expect(Redactor(secrets: [""]).isEmpty)
    }

    @Test func tailBufferKeepsTheLastBytes() {
        var tail = TailBuffer(limit: 8)
        tail.append(Array("abc".utf8))
        #expect(String(decoding: tail.contents, as: UTF8.self) == "abc")
        tail.append(Array("defghij".utf8))
        #expect(String(decoding: tail.contents, as: UTF8.self) == "cdefghij")
        tail.append(Array("kl".utf8))
        #expect(String(decoding: tail.contents, as: UTF8.self) == "efghijkl")
        tail.append(Array("0123456789".utf8))
        #expect(String(decoding: tail.contents, as: UTF8.self) == "23456789")
    }

    @Test func streamingSearchFindsANeedleAcrossChunks() {
        var search = StreamingSearch("healthy")
        search.feed(Array("status: heal".utf8))
        #expect(!search.found)
        search.feed(Array("thy\n".utf8))
        #expect(search.found)
        var absent = StreamingSearch("zzz")
        absent.feed(Array("zz".utf8))
        absent.feed(Array("az".utf8))
        #expect(!absent.found)
    }
}
