import Foundation
import Probes

extension RunEngine {
    /// One attempt of a probe step: journaled like a command (started, then finished), with
    /// what it measured. Secrets in measured values (an echoed header, a URL) are masked.
    func attemptProbe(_ command: RunnableCommand, _ probe: ProbeRequest, cancellation: Cancellation, journaled: Bool) async throws -> StepStatus {
        let attempt = nextAttempt(command.ref)
        // A log like a command's, so `deployctl logs` shows what a probe found.
        let logPath: String? = journaled ? "\(logDirectory)/\(command.ref.phase).\(command.ref.name).\(attempt).log" : nil
        let row = journaled ? try await journal.stepStarted(runID: run.id, phase: command.ref.phase, name: command.ref.name,
                                                      attempt: attempt, argv: command.shownArgv, logPath: logPath) : -1
        observer.stepStarted(command.ref, attempt: attempt, argv: command.shownArgv)
        let outcome = await Self.runWatched(probe, timeoutMs: command.timeoutMs, cancellation: cancellation)
        let redactor = Redactor(secrets: secretValues)
        let status: StepStatus
        var measurements: [ProbeMeasurement] = [], message: String?
        switch outcome {
        case .cancelled:
            status = .cancelled
            message = "stopped by \(Termination.signalName(cancellation.signal ?? SIGTERM))"
        case .timedOut:
            status = .timedOut
            message = "timed out after \(DurationValue.format(milliseconds: command.timeoutMs))"
        case .finished(var result, let answer):
            if !command.probeJSON.isEmpty, let answer {
                result.measurements += Self.jsonMeasurements(command.probeJSON, body: answer.body)
            }
            measurements = result.measurements.map { m in
                var m = m
                m.value = redactor.redact(m.value)
                m.expected = m.expected.map { redactor.redact($0) }
                return m
            }
            result.measurements = measurements
            status = result.ok ? .succeeded : .failed
            message = result.ok ? nil : redactor.redact(result.failures.joined(separator: "; "))
            for m in measurements {
                observer.output(command.ref, line: "\(m.expected == nil ? "·" : m.ok ? "✓" : "✗") \(m.sentence)", stream: .stdout)
            }
            if let why = result.unavailable { observer.output(command.ref, line: "✗ \(redactor.redact(why))", stream: .stderr) }
        }
        let durationMs: Int
        if case .finished(let result, _) = outcome { durationMs = result.durationMs } else { durationMs = command.timeoutMs }
        if journaled {
            var lines = measurements.map { "\($0.expected == nil ? "    " : $0.ok ? "ok  " : "FAIL") \($0.sentence)" }
            if let message, measurements.isEmpty { lines.append("FAIL \(message)") }
            let tail = lines.joined(separator: "\n")
            let log = (tail + "\n").utf8Data
            if let logPath { try? log.write(to: URL(fileURLWithPath: logPath)) }
            try await journal.stepFinished(row, StepOutcome(status: status, durationMs: durationMs, outputTail: tail.isEmpty ? nil : tail,
                                                      message: message, measurements: measurements, log: StoredLog(text: log)))
        }
        observer.stepFinished(command.ref, attempt: attempt, status: status, durationMs: durationMs, detail: message)
        return status
    }

    enum ProbeOutcome: Sendable {
        case finished(ProbeResult, HTTPAnswer?)
        case timedOut
        case cancelled
    }

    /// Runs the probe, giving up at the step's timeout or when the run is cancelled.
    static func runWatched(_ probe: ProbeRequest, timeoutMs: Int, cancellation: Cancellation) async -> ProbeOutcome {
        await withTaskGroup(of: ProbeOutcome?.self) { group in
            group.addTask {
                let (result, answer) = await ProbeRunner.run(probe)
                return .finished(result, answer)
            }
            group.addTask {
                var waited = 0
                while waited < timeoutMs {
                    if cancellation.isRequested { return .cancelled }
                    try? await Task.sleep(nanoseconds: 50_000_000)
                    if Task.isCancelled { return nil }
                    waited += 50
                }
                return .timedOut
            }
            var outcome: ProbeOutcome = .cancelled
            for await next in group {
                guard let next else { continue }
                outcome = next
                break
            }
            group.cancelAll()
            return outcome
        }
    }

    /// `json:` checks of an HTTP probe, as measurements.
    static func jsonMeasurements(_ checks: [JSONCheck], body: Data) -> [ProbeMeasurement] {
        guard let json = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
            return checks.map { ProbeMeasurement($0.path.raw, "body is not JSON", expected: $0.equals, ok: false) }
        }
        return checks.map { check in
            let value = check.path.lookup(in: json).map(ExpectationCheck.render)
            return ProbeMeasurement(check.path.raw, value ?? "absent", expected: check.equals, ok: value == check.equals)
        }
    }
}
