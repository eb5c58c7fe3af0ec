@testable import DeployKit

/// In-memory descriptors for pure tests: no git, no processes.
enum Fixtures {
    static let path = "stacks/x/prod.yaml"

    static func load(_ files: [String: String], stack: String = "x", environment: String = "prod") -> DescriptorLoader.Result {
        DescriptorLoader { files[$0] }.load(stack: stack, environment: environment)
    }

    static func load(_ yaml: String) -> DescriptorLoader.Result {
        load([path: yaml])
    }

    /// The printed diagnostics, exactly as `deployctl validate` shows them.
    static func problems(_ yaml: String) -> [String] {
        load(yaml).diagnostics.map(\.description)
    }

    static func problems(_ files: [String: String]) -> [String] {
        load(files).diagnostics.map(\.description)
    }

    static func descriptor(_ yaml: String) throws -> StackDescriptor {
        let result = load(yaml)
        guard let descriptor = result.descriptor, !result.diagnostics.hasErrors else {
            throw FixtureError(problems: result.diagnostics.map(\.description))
        }
        return descriptor
    }

    struct FixtureError: Error, CustomStringConvertible {
        let problems: [String]
        var description: String { problems.joined(separator: "\n") }
    }

    static func plan(_ yaml: String, inputs: [(String, String)] = [], environment: [String: String] = [:],
                     secrets: [String: String] = [:]) throws -> (Plan, [Diagnostic]) {
        let d = try descriptor(yaml)
        let (resolved, inputProblems) = InputResolver(descriptor: d).resolve(InputSupply(flags: inputs, environment: environment))
        let (resolvedSecrets, _) = SecretResolver(descriptor: d) { _ in nil }.resolve(environment: secrets)
        let context = PlanContext(revision: String(repeating: "ab", count: 20), revisionSubject: "subject", revisionAuthor: "Ada",
                                  descriptorBlob: String(repeating: "cd", count: 20), inputs: resolved, secrets: resolvedSecrets,
                                  environment: environment, stateDirectory: "/state", runID: "R1", operatorName: "ada@host")
        let (plan, planProblems) = Planner.plan(d, context)
        return (plan, inputProblems + planProblems)
    }
}
