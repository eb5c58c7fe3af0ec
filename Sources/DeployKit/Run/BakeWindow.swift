import Foundation

/// `bake:` after postdeploy: the named checks again every interval until the window ends, each
/// round journaled as steps `bake/CHECK#ROUND` (their measurements feed the report's "first
/// hour"). The first failed round ends the window and the run, which then rolls back where a
/// failed verify would.
struct BakeWindow {
    let engine: RunEngine
    let spec: BakeSpec

    /// The checks as one round runs them: copies of the steps, renamed, unordered, unattended.
    func round(_ number: Int) -> [RunnableCommand] {
        let steps = engine.steps.phase(.verify) + engine.steps.phase(.postdeploy)
        return spec.checks.compactMap { name in
            guard var command = steps.first(where: { $0.ref.name == name }) else { return nil }
            command.ref = StepRef(phase: StepRef.Section.bake, name: "\(name)#\(number)")
            command.after = []
            command.continueOnError = false
            return command
        }
    }

    /// Nil when every round passed.
    func run() async throws -> RunOutcome? {
        let rounds = spec.rounds
        // A resumed run goes on from the first round that did not pass.
        guard let first = (1...rounds).first(where: { n in !round(n).allSatisfy { engine.done.contains($0.ref) } }) else { return nil }
        let last = first - 1
        engine.observer.note("bake: \(spec.checks.joined(separator: ", ")) every \(DurationValue.format(milliseconds: spec.intervalMs)) for \(DurationValue.format(milliseconds: spec.durationMs)) (\(rounds) round\(rounds == 1 ? "" : "s"))"
                             + (last > 0 ? "; rounds 1–\(last) passed before the resume" : ""))
        for number in (last + 1)...rounds {
            guard await engine.sleep(milliseconds: spec.intervalMs) else { return engine.cancelledOutcome() }
            if var failure = try await engine.runPhase(round(number)) {
                if failure.status == .failed { failure.message = "bake round \(number) of \(rounds): \(failure.message)" }
                return failure
            }
        }
        return nil
    }
}
