import Foundation
import Testing
import TestSupport

/// The inbound mail switch by hand, against the real aws CLI and a moto SES.
@Suite struct InboundTests {
    static let descriptor = """
        \(MotoFixture.inboundYAML())
        phases:
          deploy:
            - {name: release, run: ["true"]}
        """

    @Test func disableIsOwedUntilEnableIsConfirmedAndUpRefusesMeanwhile() throws {
        let moto = try MotoFixture()
        let stack = try StackFixture(Self.descriptor)
        stack.environment.merge(moto.environment) { _, new in new }

        let initial = try stack.run(["inbound", "status", "prod"])
        #expect(initial.status == 0, "\(initial.stderr)")
        #expect(initial.stdout.contains("inbound mail processing for x/prod: enabled"))

        let disabled = try stack.run(["inbound", "disable", "prod"])
        #expect(disabled.status == 0, "\(disabled.stdout)\(disabled.stderr)")
        #expect(disabled.stdout.contains("is disabled (confirmed)"))
        #expect(try moto.ruleEnabled() == "False")

        let status = try stack.run(["status", "prod", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(object["inbound"] as? String == "disabled")
        let owedBy = try #require(object["inbound_owed_by"] as? String)
        #expect(status.stderr.contains("⚠ inbound mail processing for x/prod is DISABLED, owed by run \(owedBy)"))
        #expect(status.stderr.contains("re-enable it: deployctl inbound enable x/prod"))

        let up = try stack.run(["up", "prod"])
        #expect(up.status == 4)
        #expect(up.stderr.contains("inbound mail processing for x/prod is still disabled, owed by run \(owedBy)"))
        #expect(up.stderr.contains("next: re-enable it first: deployctl inbound enable x/prod"))

        #expect(up.stderr.contains("or both at once: deployctl up x/prod --reenable-inbound"))

        let enabled = try stack.run(["inbound", "enable", "prod"])
        #expect(enabled.status == 0, "\(enabled.stdout)\(enabled.stderr)")
        #expect(try moto.ruleEnabled() == "True")
        let after = try stack.run(["status", "prod", "--format", "json"])
        let cleared = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        #expect(cleared["inbound"] as? String == "enabled")
        #expect(cleared["inbound_owed_by"] is NSNull)
        #expect(!after.stderr.contains("DISABLED"))
        let events = try Shell.run("sqlite3", [stack.journal, "SELECT kind || ' ' || data FROM events WHERE kind LIKE 'inbound%' ORDER BY id"])
        #expect(events.contains("inbound_owed"))
        #expect(events.contains("inbound_disabled {\"by\":"))
        #expect(events.contains("inbound_settled {\"by\":"))
        #expect(try stack.run(["up", "prod"]).status == 0)

        // Owed again; `up --reenable-inbound` settles it first, then deploys.
        #expect(try stack.run(["inbound", "disable", "prod"]).status == 0)
        let both = try stack.run(["up", "prod", "--reenable-inbound"])
        #expect(both.status == 0, "\(both.stdout)\(both.stderr)")
        #expect(both.stdout.contains("re-enabling it first (--reenable-inbound)"))
        #expect(try moto.ruleEnabled() == "True")
    }

    @Test func anEnableThatCannotBeConfirmedKeepsTheDebt() throws {
        let moto = try MotoFixture()
        let stack = try StackFixture(Self.descriptor)
        stack.environment.merge(moto.environment) { _, new in new }
        #expect(try stack.run(["inbound", "disable", "prod"]).status == 0)
        try moto.reset()
        let failed = try stack.run(["inbound", "enable", "prod"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("could not be confirmed enabled"))
        #expect(failed.stderr.contains("next: deployctl inbound status x/prod"))
        let status = try stack.run(["status", "prod", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(object["inbound"] as? String == "disabled")
        let unknown = try stack.run(["inbound", "status", "prod"])
        #expect(unknown.status == 1)
        #expect(unknown.stdout.contains(": unknown (deployctl owes a re-enable"))
    }
}
