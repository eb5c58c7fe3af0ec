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

extension RunEngine {
    /// Flips inbound mail processing and confirms the new state with the status command,
    /// asking again every `interval` until `wait` runs out. True only when confirmed.
    ///
    /// `mustFinish` ignores Ctrl-C: re-enabling inbound is the one thing that runs on every exit.
    func switchInbound(enabled wanted: Bool, mustFinish: Bool = false) async throws -> Bool {
        guard let spec = steps.descriptor.inbound,
              let flip = steps.inbound(wanted ? "enable" : "disable", phase: "inbound"),
              let status = steps.inbound("status", phase: "inbound") else { return false }
        let stop = mustFinish ? Cancellation() : cancellation
        guard mustFinish else {
            _ = try await attemptOnce(flip, cancellation: stop)
            return try await confirmInbound(wanted ? .enabled : .disabled, status: status, check: spec.status, cancellation: stop)
        }
        // The one thing that must happen: if the journal cannot record it, do it unrecorded.
        do {
            _ = try await attemptOnce(flip, cancellation: stop)
            return try await confirmInbound(wanted ? .enabled : .disabled, status: status, check: spec.status, cancellation: stop)
        } catch {
            observer.note("the journal failed (\(error)); switching inbound without recording it")
            _ = try? await attemptOnce(flip, cancellation: stop, record: false)
            return (try? await confirmInbound(wanted ? .enabled : .disabled, status: status, check: spec.status,
                                              cancellation: stop, record: false)) ?? false
        }
    }

    func confirmInbound(_ wanted: InboundState, status: RunnableCommand, check: StatusCheck, cancellation stop: Cancellation,
                        record: Bool? = nil) async throws -> Bool {
        let deadline = Date().addingTimeInterval(Double(check.timeoutMs) / 1000)
        while true {
            let result = try await attemptOnce(status, cancellation: stop, record: record) { termination, capture in
                let state = InboundState.read(check, termination, capture)
                return state == wanted ? [] : ["inbound processing reads \(state.rawValue); waiting for \(wanted.rawValue)"]
            }
            if result == .succeeded { return true }
            if stop.isRequested || Date() >= deadline { return false }
            try? await Task.sleep(nanoseconds: UInt64(check.intervalMs) * 1_000_000)
        }
    }

    /// Runs the status command once and reads the state.
    func readInbound() async throws -> InboundState {
        guard let spec = steps.descriptor.inbound, let status = steps.inbound("status", phase: "inbound") else { return .unknown }
        var state = InboundState.unknown
        _ = try await attemptOnce(status) { termination, capture in
            state = InboundState.read(spec.status, termination, capture)
            return state == .unknown ? ["the status command did not say enabled or disabled"] : []
        }
        return state
    }
}
