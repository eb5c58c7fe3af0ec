import Foundation
import Testing
@testable import DeployKit

/// The small languages inside descriptors: durations, conditions, templates, JSON paths, and
/// the suggestion used by every "did you mean".
@Suite struct LanguageTests {
    @Test(arguments: [("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("1h30m", 5_400_000), ("45", 45_000), ("2d", 172_800_000)])
    func durationsParse(text: String, milliseconds: Int) {
        #expect(DurationValue.parse(text) == milliseconds)
    }

    @Test(arguments: ["", "5 minutes", "m5", "1.5s", "-3s", "10x", "s"])
    func badDurationsDoNot(text: String) {
        #expect(DurationValue.parse(text) == nil)
    }

    @Test func durationsFormatShortest() {
        #expect(DurationValue.format(milliseconds: 5_400_000) == "1h30m")
        #expect(DurationValue.format(milliseconds: 1500) == "1500ms")
        #expect(DurationValue.format(milliseconds: 0) == "0s")
    }

    @Test func conditionsEvaluate() throws {
        let inputs = ["via": "helm", "skip": "false", "empty": ""]
        let lookup: (Reference) -> String? = { $0.namespace == "inputs" ? inputs[$0.name] : ["CI": "true"][$0.name] }
        let cases: [(String, Bool)] = [
            ("inputs.via == \"helm\"", true), ("inputs.via != 'helm'", false), ("!inputs.skip", true),
            ("inputs.empty", false), ("inputs.via == 'helm' && (env.CI || inputs.skip)", true),
            ("inputs.missing == ''", true), ("inputs.via == 'compose' || !env.CI", false),
        ]
        for (text, expected) in cases {
            let condition = try Condition.parse(text).get()
            #expect(condition.evaluate(lookup) == expected, "\(text)")
        }
    }

    @Test func conditionErrorsSayWhatIsWrong() {
        for (text, message) in [
            ("inputs.a ==", "the condition ends too early in condition \"inputs.a ==\""),
            ("(inputs.a", "missing ')' in condition \"(inputs.a\""),
            ("inputs.a == 'x", "unterminated string in condition \"inputs.a == 'x\""),
            ("bare", "'bare' is neither a reference (inputs.NAME, env.NAME) nor a quoted string in condition \"bare\""),
        ] {
            guard case .failure(let error) = Condition.parse(text) else {
                Issue.record("\(text) should not parse")
                continue
            }
            #expect(error.message == message)
        }
    }

    @Test func templatesSplitReferencesAndLiterals() throws {
        let at = FileLocation(file: "f", line: 1, column: 1)
        let template = try Template.parse("a-${inputs.x}-$${y}-${run.id}", at: at).get()
        #expect(template.references == [Reference(namespace: "inputs", name: "x"), Reference(namespace: "run", name: "id")])
        #expect(template.render { $0.name.uppercased() } == "a-X-${y}-ID")
        #expect((try? Template.parse("${}", at: at).get()) == nil)
        #expect((try? Template.parse("${inputs}", at: at).get()) == nil)
    }

    @Test func jsonPathsLookUpValues() throws {
        let json = try JSONSerialization.jsonObject(with: Data(#"{"status":"ok","checks":{"db":"ok"},"items":[{"name":"a"}],"odd key":1}"#.utf8))
        #expect(try JSONPath.parse("$.status").get().lookup(in: json) as? String == "ok")
        #expect(try JSONPath.parse("$.checks.db").get().lookup(in: json) as? String == "ok")
        #expect(try JSONPath.parse("$.items[0].name").get().lookup(in: json) as? String == "a")
        #expect(try JSONPath.parse("$[\"odd key\"]").get().lookup(in: json) as? Int == 1)
        #expect(try JSONPath.parse("$.items[3]").get().lookup(in: json) == nil)
        #expect((try? JSONPath.parse("$.a[x]").get()) == nil)
    }

    @Test func suggestionsCatchTyposNotStrangers() {
        #expect(Suggestion.closest(to: "timout", in: ["timeout", "retries"]) == "timeout")
        #expect(Suggestion.closest(to: "retires", in: ["timeout", "retries"]) == "retries")
        #expect(Suggestion.closest(to: "colour", in: ["timeout", "retries"]) == nil)
        #expect(Suggestion.editDistance("ab", "ba") == 1)
    }

    @Test func targetsResolveByEnvironmentOrStackSlashEnvironment() throws {
        let catalog = StackCatalog(entries: [.init(stack: "mailflow", environment: "prod"), .init(stack: "dotmac", environment: "prod"),
                                             .init(stack: "demo", environment: "local")])
        #expect(try catalog.resolve("local").get() == .init(stack: "demo", environment: "local"))
        #expect(try catalog.resolve("dotmac/prod").get() == .init(stack: "dotmac", environment: "prod"))
        #expect(catalog.resolve("prod").failureDescription == "'prod' is an environment of several stacks: dotmac/prod, mailflow/prod. Name one as STACK/ENV.")
        #expect(catalog.resolve("lcoal").failureDescription == "no stack environment 'lcoal'. Did you mean 'local'? Targets here: demo/local, dotmac/prod, mailflow/prod.")
        #expect(StackCatalog.environment(fromFileName: "_base.yaml") == nil)
        #expect(StackCatalog.environment(fromFileName: "staging.yaml") == "staging")
        // Every path deployctl derives from a target ends in .yaml: a .yml listed as a target
        // could never be read back.
        #expect(StackCatalog.environment(fromFileName: "staging.yml") == nil)
    }
}

extension Result {
    var failureDescription: String? {
        if case .failure(let error) = self { return "\(error)" }
        return nil
    }
}

@Suite struct RevisionTimeTests {
    /// Expected values from Python's datetime.isoformat, the same form as git's `%aI`.
    @Test(arguments: [
        (Int64(0), Int32(0), "1970-01-01T00:00:00+00:00"),
        (1_700_000_000, 330, "2023-11-15T03:43:20+05:30"),
        (1_700_000_000, -480, "2023-11-14T14:13:20-08:00"),
        (951_782_400, 0, "2000-02-29T00:00:00+00:00"),
        (4_102_444_799, -60, "2099-12-31T22:59:59-01:00"),
    ])
    func authorTimesPrintLikeGit(seconds: Int64, offset: Int32, expected: String) {
        #expect(Timestamp.gitAuthorTime(seconds, offsetMinutes: offset) == expected)
    }
}

@Suite struct StackSummaryCacheTests {
    @Test func fieldsWithTabsLineBreaksAndEqualsSignsSurviveTheRoundTrip() {
        for text in ["plain", "a\tb", "two\nlines\r", "crlf\r\nline", "back\\slash", "k=v", "=\u{301} and \\e\u{301}", "\\t literally", ""] {
            #expect(CacheFields.unescape(Substring(CacheFields.escape(text))) == text, "\(text)")
            #expect(!CacheFields.escape(text).unicodeScalars.contains(where: { "\t\n\r=".unicodeScalars.contains($0) }))
        }
    }
}
