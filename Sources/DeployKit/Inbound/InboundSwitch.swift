import Foundation

/// What a status command says about inbound mail processing.
public enum InboundState: String, Sendable, Codable {
    case enabled, disabled, unknown

    /// Reads the state from a finished status command: a failed command (exit code outside the
    /// status block's `expect.exit`) is `unknown`, never "not enabled".
    static func read(_ check: StatusCheck, _ termination: Termination, _ capture: OutputCapture) -> InboundState {
        guard let code = termination.exitCode, check.block.expect.exitCodes.contains(code) else { return .unknown }
        func holds(_ expectation: Expectation?) -> Bool? {
            guard var expectation else { return nil }
            expectation.exitCodes = [code]  // the exit code was judged above; these look at the output
            return ExpectationCheck.failures(expectation, termination: termination, capture: capture).isEmpty
        }
        // A state counts only when its own expectation holds and the other's does not.
        switch (holds(check.enabled), holds(check.disabled)) {
        case (true?, false?): return .enabled
        case (false?, true?): return .disabled
        default: return .unknown
        }
    }
}

/// The inbound mail switch of one descriptor, flipped and read through a run's engine (so
/// every flip and status read is a journaled attempt of that run).
struct InboundSwitch {
    let engine: RunEngine
    /// Whose `inbound:` commands: usually the engine's own, the undone revision's when the
    /// rollback target has none.
    let steps: RunnableSteps

    init?(engine: RunEngine, steps: RunnableSteps? = nil) {
        let steps = steps ?? engine.steps
        guard steps.descriptor.inbound != nil else { return nil }
        self.engine = engine
        self.steps = steps
    }

    /// Flips inbound mail processing and confirms the new state with the status command,
    /// asking again every `interval` until `wait` runs out. True only when confirmed.
    ///
    /// `mustFinish` ignores Ctrl-C: re-enabling inbound is the one thing that runs on every exit.
    func set(enabled wanted: Bool, mustFinish: Bool = false) async throws -> Bool {
        guard let spec = steps.descriptor.inbound, let flip = steps.inbound(wanted ? .enable : .disable),
              let status = steps.inbound(.status) else { return false }
        let stop = mustFinish ? Cancellation() : engine.cancellation
        guard mustFinish else {
            _ = try await engine.attemptOnce(flip, cancellation: stop)
            return try await confirm(wanted ? .enabled : .disabled, status: status, check: spec.status, cancellation: stop)
        }
        // The one thing that must happen: if the journal cannot record it, do it unrecorded.
        do {
            _ = try await engine.attemptOnce(flip, cancellation: stop)
            return try await confirm(wanted ? .enabled : .disabled, status: status, check: spec.status, cancellation: stop)
        } catch {
            engine.observer.note("the journal failed (\(error)); switching inbound without recording it")
            _ = try? await engine.attemptOnce(flip, cancellation: stop, record: false)
            return (try? await confirm(wanted ? .enabled : .disabled, status: status, check: spec.status,
                                       cancellation: stop, record: false)) ?? false
        }
    }

    private func confirm(_ wanted: InboundState, status: RunnableCommand, check: StatusCheck, cancellation stop: Cancellation,
                         record: Bool? = nil) async throws -> Bool {
        let deadline = Date().addingTimeInterval(Double(check.timeoutMs) / 1000)
        while true {
            let result = try await engine.attemptOnce(status, cancellation: stop, record: record) { termination, capture in
                let state = InboundState.read(check, termination, capture)
                return state == wanted ? [] : ["inbound processing reads \(state.rawValue); waiting for \(wanted.rawValue)"]
            }
            if result == .succeeded { return true }
            if stop.isRequested || Date() >= deadline { return false }
            try? await Task.sleep(nanoseconds: UInt64(check.intervalMs) * 1_000_000)
        }
    }

    /// Runs the status command once and reads the state.
    func read() async throws -> InboundState {
        guard let spec = steps.descriptor.inbound, let status = steps.inbound(.status) else { return .unknown }
        var state = InboundState.unknown
        _ = try await engine.attemptOnce(status) { termination, capture in
            state = InboundState.read(spec.status, termination, capture)
            return state == .unknown ? ["the status command did not say enabled or disabled"] : []
        }
        return state
    }

    /// `inbound.drain` until its `until` holds; true when it did, nil when none is declared.
    func drain() async throws -> Bool? {
        guard let drain = steps.descriptor.inbound?.drain, let command = steps.inbound(.drain) else { return nil }
        let deadline = Date().addingTimeInterval(Double(drain.timeoutMs) / 1000)
        while true {
            let status = try await engine.attemptOnce(command) { termination, capture in
                ExpectationCheck.failures(drain.until, termination: termination, capture: capture)
            }
            if status == .succeeded { return true }
            if engine.cancellation.isRequested || Date() >= deadline { return false }
            try? await Task.sleep(nanoseconds: UInt64(drain.intervalMs) * 1_000_000)
        }
    }
}
