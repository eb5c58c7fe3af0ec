import Foundation

/// How a run may proceed.
public struct RunOptions: Sendable {
    /// Answers every `confirm` gate (and the question about re-running a step that may have
    /// been mid-flight) with yes.
    public var yes: Bool
    /// At most this many steps of a phase at once.
    public var parallel: Int
    /// Between SIGTERM and SIGKILL for a step's process group (timeouts and Ctrl-C).
    public var graceMs: Int

    public init(yes: Bool = false, parallel: Int = ProcessInfo.processInfo.activeProcessorCount, graceMs: Int = 30_000) {
        self.yes = yes
        self.parallel = max(1, parallel)
        self.graceMs = graceMs
    }
}

/// How a run ended, for the action to report and journal.
public struct RunOutcome: Sendable {
    public var status: RunStatus
    public var message: String
    public var failedStep: StepRef?
    /// Set when the run stopped because nobody could answer a `confirm` gate.
    public var needsConfirmation: Bool = false
    /// The signal (SIGINT, SIGTERM, SIGHUP) that stopped it, when one did.
    public var signal: Int32? = nil
    public var backupRestored: Bool = false
    /// For a rollback: every rollback step succeeded (even if re-enabling inbound then failed).
    public var rolledBack: Bool = false
}

/// Runs the phases of one run in order, each phase's steps in waves bounded by `parallel`,
/// journaling every attempt before and after it runs. It never decides what is printed:
/// observers show, the journal remembers.
final class RunEngine: @unchecked Sendable {
    let journal: Journal
    let run: RunRecord
    let steps: RunnableSteps
    let options: RunOptions
    let observer: RunObserver
    let cancellation: Cancellation
    let baseEnvironment: [String: String]
    let secretValues: [String]
    let logDirectory: String
    /// Steps already finished in an earlier process of this run (resume).
    let done: Set<StepRef>
    /// The next attempt number per step (resume continues the count).
    var attempts: [StepRef: Int]
    /// False for read-only checks (`inbound status`): nothing is written, not even a log.
    let journaled: Bool

    init(journal: Journal, run: RunRecord, steps: RunnableSteps, options: RunOptions, observer: RunObserver,
         cancellation: Cancellation, baseEnvironment: [String: String], secretValues: [String], logDirectory: String,
         done: Set<StepRef> = [], attempts: [StepRef: Int] = [:], journaled: Bool = true) {
        self.journaled = journaled
        self.journal = journal
        self.run = run
        self.steps = steps
        self.options = options
        self.observer = observer
        self.cancellation = cancellation
        self.baseEnvironment = baseEnvironment
        self.secretValues = secretValues
        self.logDirectory = logDirectory
        self.done = done
        self.attempts = attempts
    }

    func execute() async throws -> RunOutcome {
        let backup = DatabaseBackup(engine: self, steps: steps)
        for phase in Phase.allCases {
            if let stop = cancelledOutcome() { return stop }
            let commands = steps.phase(phase)
            if phase == .migrate, commands.contains(where: { !$0.skipped }) {
                if let failure = try await backup.take() { return failure }
            }
            if var failure = try await runPhase(commands) {
                // Restore only when a migration step itself failed, never when nothing ran.
                if phase == .migrate, failure.status == .failed, !failure.needsConfirmation,
                   failure.failedStep?.phase == Phase.migrate.rawValue, steps.descriptor.backup?.onFailure == .restore {
                    let taken = try journal.events(runID: run.id).last { $0.kind == .backupTaken }
                    var problem: String? = "the descriptor has no backup.restore"
                    if let restore = steps.backup(.restore) {
                        problem = try await DatabaseBackup.restore(taken, with: restore, check: steps.backup(.check), engine: self, backupOfRun: run.id)
                    }
                    failure.backupRestored = problem == nil
                    failure.message += problem == nil
                        ? "; the backup taken before the migration was restored"
                        : "; restoring the backup FAILED (\(problem!)): the database may be half-migrated"
                }
                return failure
            }
        }
        if let bake = steps.descriptor.bake, let failure = try await BakeWindow(engine: self, spec: bake).run() { return failure }
        return RunOutcome(status: .succeeded, message: steps.descriptor.bake == nil ? "all phases succeeded" : "all phases and every bake round succeeded")
    }

    /// The outcome of a run stopped by a signal, or nil while nobody asked it to stop.
    func cancelledOutcome() -> RunOutcome? {
        guard let signal = cancellation.signal else { return nil }
        var outcome = RunOutcome(status: .cancelled, message: "stopped by \(Termination.signalName(signal))")
        outcome.signal = signal
        return outcome
    }

    // MARK: - Phases

    /// Runs a phase; nil when it succeeded.
    func runPhase(_ commands: [RunnableCommand]) async throws -> RunOutcome? {
        var finished: [String: Bool] = [:]  // name → may dependants run
        for command in commands where done.contains(command.ref) { finished[command.ref.name] = true }
        // Indices into `commands`: a phase of 1,000 steps is scanned at every start, and
        // copying or shifting the commands themselves made each start cost O(steps).
        var pending = commands.indices.filter { finished[commands[$0].ref.name] == nil }
        var failure: RunOutcome? = nil
        var running = 0
        // `--parallel` bounds what runs here; commands on hosts are bounded by their waves.
        var runningHere = 0

        return try await withThrowingTaskGroup(of: (RunnableCommand, StepStatus).self) { group in
            while true {
                var started = false
                if failure == nil, cancellation.signal == nil {
                    var index = 0
                    while index < pending.count {
                        let position = pending[index]
                        guard commands[position].host != nil || runningHere < options.parallel,
                              commands[position].after.allSatisfy({ finished[$0] == true }) else { index += 1; continue }
                        // A gate waits until nothing else runs: its question must not be lost
                        // in other steps' output, and they must not wait on a person.
                        if commands[position].confirm != nil, running > 0 { index += 1; continue }
                        pending.remove(at: index)
                        let command = commands[position]
                        if command.skipped {
                            try journal.stepSkipped(runID: run.id, phase: command.ref.phase, name: command.ref.name,
                                                    argv: command.shownArgv, reason: command.skipReason ?? "skipped")
                            observer.stepSkipped(command.ref, reason: command.skipReason ?? "skipped")
                            finished[command.ref.name] = true
                            index = 0
                            continue
                        }
                        if let question = command.confirm, let stop = try gate(question, command) {
                            failure = stop
                            break
                        }
                        group.addTask { (command, try await self.attemptAll(command)) }
                        running += 1
                        if command.host == nil { runningHere += 1 }
                        started = true
                    }
                }
                if running == 0 {
                    if let failure { return failure }
                    if let stop = cancelledOutcome() { return stop }
                    if !pending.isEmpty, !started {
                        // Only steps whose dependencies did not succeed are left.
                        return failure ?? RunOutcome(status: .failed, message: "steps \(pending.map { commands[$0].ref.name }.joined(separator: ", ")) could not run: a step they need failed")
                    }
                    if pending.isEmpty { return nil }
                    continue
                }
                guard let (command, status) = try await group.next() else { continue }
                running -= 1
                if command.host == nil { runningHere -= 1 }
                switch status {
                case .succeeded:
                    finished[command.ref.name] = true
                case .cancelled:
                    finished[command.ref.name] = false
                    if failure == nil { failure = cancelledOutcome() }
                default:
                    if command.continueOnError {
                        finished[command.ref.name] = true
                        // A runbook's checks all run by design; saying so after each would be noise.
                        if command.ref.phase != StepRef.Section.runbook { observer.note("\(command.ref) failed; continuing (continue_on_error)") }
                    } else {
                        finished[command.ref.name] = false
                        if failure == nil {
                            failure = RunOutcome(status: .failed, message: "\(command.ref) \(status == .timedOut ? "timed out" : "failed")", failedStep: command.ref)
                        }
                    }
                }
            }
        }
    }

    /// A `confirm` gate: --yes answers, else a person at a terminal, else the run stops here.
    private func gate(_ question: String, _ command: RunnableCommand) throws -> RunOutcome? {
        if options.yes {
            try journal.event(.confirmed, target: run.target, runID: run.id, data: ["step": .string("\(command.ref)"), "by": "--yes", "question": .string(question)])
            return nil
        }
        switch observer.confirm(question, step: command.ref) {
        case true?:
            try journal.event(.confirmed, target: run.target, runID: run.id, data: ["step": .string("\(command.ref)"), "by": .string(run.operatorName), "question": .string(question)])
            return nil
        case false?:
            try journal.event(.declined, target: run.target, runID: run.id, data: ["step": .string("\(command.ref)"), "by": .string(run.operatorName), "question": .string(question)])
            return RunOutcome(status: .cancelled, message: "\(command.ref) was declined at its confirm gate (\"\(question)\")", failedStep: command.ref)
        case nil:
            return RunOutcome(status: .failed, message: "\(command.ref) asks \"\(question)\" and there is no terminal to answer; nothing of it ran",
                              failedStep: command.ref, needsConfirmation: true)
        }
    }

    // MARK: - One step

    /// Every attempt of one step (retries with exponential backoff); the last attempt's status.
    func attemptAll(_ command: RunnableCommand) async throws -> StepStatus {
        var status = StepStatus.failed
        for retry in 0...command.retries {
            if cancellation.isRequested || Task.isCancelled { return .cancelled }
            status = try await attemptOnce(command)
            if status == .succeeded || status == .cancelled { return status }
            if retry < command.retries {
                let delay = min(command.backoffMs << min(retry, 20), 10 * 60_000)
                observer.note("\(command.ref) will be retried in \(DurationValue.format(milliseconds: delay)) (attempt \(retry + 2) of \(command.retries + 1))")
                if await sleep(milliseconds: delay) == false { return .cancelled }
            }
        }
        return status
    }

    /// One attempt, journaled before and after. `judge` decides success from the process's
    /// end and output (default: the command's `expect`); it returns the reasons for failure.
    func attemptOnce(_ command: RunnableCommand, cancellation: Cancellation? = nil, record: Bool? = nil,
                     judge: ((Termination, OutputCapture) -> [String])? = nil) async throws -> StepStatus {
        let cancellation = cancellation ?? self.cancellation
        let journaled = record ?? self.journaled
        if let probe = command.probe {
            return try await attemptProbe(command, probe, cancellation: cancellation, journaled: journaled)
        }
        let attempt = nextAttempt(command.ref)
        let logPath: String? = journaled ? "\(logDirectory)/\(command.ref.phase).\(command.ref.name).\(attempt).log" : nil
        let row = journaled ? try await journal.stepStarted(runID: run.id, phase: command.ref.phase, name: command.ref.name,
                                                      attempt: attempt, argv: command.shownArgv, logPath: logPath) : -1
        observer.stepStarted(command.ref, attempt: attempt, argv: command.shownArgv)
        let capture = OutputCapture(secrets: secretValues, logPath: logPath, observer: StepLines(step: command.ref, observer: observer),
                                    contains: [.stdout: command.expect.stdoutContains, .stderr: command.expect.stderrContains])
        let request = LaunchRequest(argv: command.argv, environment: baseEnvironment.merging(command.env) { _, own in own },
                                    directory: command.directory, timeoutMs: command.timeoutMs, graceMs: options.graceMs,
                                    stdin: command.stdinHeldOpen ? command.stdin.map { SSHRemote.withGrace($0, graceMs: options.graceMs) } : command.stdin,
                                    stdinHeldOpen: command.stdinHeldOpen, viaMaster: command.viaMaster)
        let result: LaunchResult
        do {
            let journal = journaled ? self.journal : nil
            result = try await ProcessLauncher.launch(request, capture: capture, cancellation: cancellation) { pid in
                // Which process group ran it, so a later resume can tell whether it still runs.
                try? journal?.stepSpawned(row, pid: pid, start: ProcessIdentity.start(of: pid))
            }
        } catch {
            capture.finish()
            let message = Redactor(secrets: secretValues).redact("\(error)")
            if journaled { try await journal.stepFinished(row, StepOutcome(status: .failed, durationMs: 0, message: message)) }
            observer.stepFinished(command.ref, attempt: attempt, status: .failed, durationMs: 0, detail: message)
            return .failed
        }
        let status: StepStatus
        var message: String?
        if result.cancelled {
            status = .cancelled
            message = "stopped by \(Termination.signalName(cancellation.signal ?? SIGTERM)) (\(result.termination))"
        } else if result.timedOut {
            status = .timedOut
            message = "timed out after \(DurationValue.format(milliseconds: command.timeoutMs)); its process group got SIGTERM"
                + (result.termination.signal == SIGKILL ? ", then SIGKILL" : "")
        } else {
            let failures = judge?(result.termination, capture)
                ?? ExpectationCheck.failures(command.expect, termination: result.termination, capture: capture)
            status = failures.isEmpty ? .succeeded : .failed
            message = failures.isEmpty ? nil : failures.joined(separator: "; ")
        }
        if result.survivors { message = (message.map { $0 + "; " } ?? "") + "some of its processes survived SIGKILL" }
        if journaled {
            try await journal.stepFinished(row, StepOutcome(status: status, exitCode: result.termination.exitCode, signal: result.termination.signal,
                                                      durationMs: result.durationMs, outputTail: capture.tail, message: message,
                                                      log: capture.printedNothing ? .empty : StoredLog.reading(file: logPath)))
        }
        observer.stepFinished(command.ref, attempt: attempt, status: status, durationMs: result.durationMs, detail: message)
        return status
    }

    private let attemptLock = NSLock()

    func nextAttempt(_ ref: StepRef) -> Int {
        attemptLock.lock()
        defer { attemptLock.unlock() }
        let next = (attempts[ref] ?? 0) + 1
        attempts[ref] = next
        return next
    }

    /// Sleeps unless the run is cancelled first; false when cancelled.
    func sleep(milliseconds: Int) async -> Bool {
        var left = milliseconds
        while left > 0 {
            if cancellation.isRequested || Task.isCancelled { return false }
            let slice = min(left, 50)
            try? await Task.sleep(nanoseconds: UInt64(slice) * 1_000_000)
            left -= slice
        }
        return !cancellation.isRequested && !Task.isCancelled
    }
}
