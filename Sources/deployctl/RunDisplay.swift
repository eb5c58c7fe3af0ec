import DeployKit
import Foundation
import Synchronization

/// Shows a run as it happens on a terminal: each step's lines prefixed with its name, and on
/// a TTY a bottom line with what is running and for how long.
final class TerminalRunDisplay: RunObserver, Sendable {
    private struct State {
        var running: [StepRef: Date] = [:]
        var statusShown = false
    }

    private let state = Mutex(State())
    private let tty = isatty(STDOUT_FILENO) == 1
    private let interactive = isatty(STDIN_FILENO) == 1
    private let ticking = Atomic<Bool>(false)

    init() {
        if tty { startTicker() }
    }

    func stop() {
        ticking.store(false, ordering: .relaxed)
        clear()
    }

    /// Clears the status line for other output; the ticker goes on (a sync loop's next round).
    func clear() {
        state.withLock { clearStatus(&$0) }
    }

    func runStarted(_ run: RunRecord) {
        state.withLock { s in write(&s, "· \(run.kind.rawValue) run \(run.id) of \(run.target) at \(run.revision.prefix(10)) \"\(run.revisionSubject)\"") }
    }

    func stepStarted(_ step: StepRef, attempt: Int, argv: [String]) {
        state.withLock { s in
            s.running[step] = Date()
            write(&s, "▶ \(step)" + (attempt > 1 ? " (attempt \(attempt))" : "") + "  $ \(ShellQuote.join(argv))")
        }
    }

    func output(_ step: StepRef, line: String, stream: OutputChannel) {
        state.withLock { s in write(&s, "  \(step.name) │ \(line)") }
    }

    func stepFinished(_ step: StepRef, attempt: Int, status: StepStatus, durationMs: Int, detail: String?) {
        state.withLock { s in
            s.running[step] = nil
            let mark = status == .succeeded ? "✓" : status == .timedOut ? "⏱" : "✗"
            write(&s, "\(mark) \(step) \(Self.seconds(durationMs))" + (status == .succeeded ? "" : " \(status.rawValue)") + (detail.map { ": \($0)" } ?? ""))
        }
    }

    func stepSkipped(_ step: StepRef, reason: String) {
        state.withLock { s in write(&s, "– \(step) skipped: \(reason)") }
    }

    func note(_ text: String) {
        state.withLock { s in write(&s, "· \(text)") }
    }

    func confirm(_ question: String, step: StepRef) -> Bool? {
        guard interactive else { return nil }
        state.withLock { s in
            clearStatus(&s)
            Terminal.raw("? \(question) [y/N] ".utf8Data)
        }
        // Read outside the lock: output of anything still running must not wait on a person.
        // End of input (Ctrl-D) at a terminal is the default the prompt shows, N: never the
        // unattended answer (which for the restore question is "restore").
        guard let answer = readLine() else { Terminal.raw("\n".utf8Data); return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }

    static func seconds(_ ms: Int) -> String {
        ms < 1000 ? "\(ms)ms" : String(format: "%.1fs", Double(ms) / 1000)
    }

    private func write(_ s: inout State, _ line: String) {
        clearStatus(&s)
        Terminal.raw((line + "\n").utf8Data)
        drawStatus(&s)
    }

    private func clearStatus(_ s: inout State) {
        if s.statusShown {
            Terminal.raw("\r\u{1B}[K".utf8Data)
            s.statusShown = false
        }
    }

    private func drawStatus(_ s: inout State) {
        guard tty, !s.running.isEmpty else { return }
        let now = Date()
        let parts = s.running.sorted { $0.value < $1.value }.map { "\($0.key) \(String(format: "%.1fs", now.timeIntervalSince($0.value)))" }
        Terminal.raw("… \(parts.joined(separator: ", "))".utf8Data)
        s.statusShown = true
    }

    private func startTicker() {
        ticking.store(true, ordering: .relaxed)
        let thread = Thread { [self] in
            while ticking.load(ordering: .relaxed) {
                usleep(250_000)
                state.withLock { s in
                    clearStatus(&s)
                    drawStatus(&s)
                }
            }
        }
        thread.start()
    }
}

/// `--format json`: one JSON object per line, for CI.
final class JSONRunDisplay: RunObserver, Sendable {
    private let lock = Mutex(())

    func emit(_ object: [String: Any]) {
        var object = object
        object["time"] = Timestamp.rfc3339(Date())
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        lock.withLock { _ in Terminal.raw(data + "\n".utf8Data) }
    }

    func runStarted(_ run: RunRecord) {
        emit(["event": "run_started", "run": run.id, "kind": run.kind.rawValue, "target": run.target, "revision": run.revision,
              "operator": run.operatorName, "related_run": run.relatedRun ?? NSNull()])
    }

    func stepStarted(_ step: StepRef, attempt: Int, argv: [String]) {
        emit(["event": "step_started", "phase": step.phase, "step": step.name, "attempt": attempt, "argv": argv])
    }

    func output(_ step: StepRef, line: String, stream: OutputChannel) {
        emit(["event": "output", "phase": step.phase, "step": step.name, "stream": stream.rawValue, "line": line])
    }

    func stepFinished(_ step: StepRef, attempt: Int, status: StepStatus, durationMs: Int, detail: String?) {
        var event: [String: Any] = ["event": "step_finished", "phase": step.phase, "step": step.name, "attempt": attempt,
                                    "status": status.rawValue, "duration_ms": durationMs]
        if let detail { event["detail"] = detail }
        emit(event)
    }

    func stepSkipped(_ step: StepRef, reason: String) {
        emit(["event": "step_skipped", "phase": step.phase, "step": step.name, "reason": reason])
    }

    func note(_ text: String) {
        emit(["event": "note", "text": text])
    }

    func confirm(_ question: String, step: StepRef) -> Bool? { nil }
}

/// SIGINT, SIGTERM and SIGHUP (a closed SSH session) stop the run: running steps get SIGTERM,
/// then SIGKILL after the grace, and the run is recorded as cancelled, never left running.
enum SignalForwarding {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func install(_ cancellation: Cancellation, graceMs: Int, observer: RunObserver) {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let first = !cancellation.isRequested
                cancellation.request(signal: number)
                if first {
                    observer.note("\(Termination.signalName(number)) received: stopping running steps (SIGTERM now, SIGKILL after \(TerminalRunDisplay.seconds(graceMs))), then recording the run as cancelled")
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
