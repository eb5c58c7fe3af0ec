import Foundation
import Probes

/// Everything a reviewer reads about one run, gathered from the journal and the descriptor at
/// the run's revision. Renderers (Markdown, HTML, JUnit, JSON) only format this; they never
/// read the journal. The JSON form is this structure with snake_case keys (schema in README).
public struct Report: Codable, Sendable {
    /// v2: times are RFC 3339 with milliseconds, `backup.size` and probe latencies are numbers.
    /// v3: `manual`, `signoff` and `readiness` became `review` (who ticked, scored and signed).
    public static let schema = "deployctl.report/v3"

    public var schema: String = Report.schema
    public var header: Header
    public var phases: [PhaseSummary]
    public var steps: [StepSummary]
    /// Probe steps and verify-phase commands: what was measured against what it had to be.
    public var verify: [VerifyResult]
    public var performance: Performance
    /// The bake window's rounds (`bake:`): seed 001's first-hour performance metrics.
    public var bake: Bake?
    public var backup: Backup?
    public var inbound: Inbound?
    /// Failed attempts, with their redacted output tails.
    public var issues: [Issue]
    public var diff: PlanDiff?
    /// The checklist of the descriptor at the run's revision and what reviewers recorded
    /// against it (an `up` whose descriptor asks for manual items, readiness or sign-off).
    public var review: RunReview?
    public var notifications: [Notification]
    /// For a runbook run: which procedure, and what to do about its findings.
    public var runbook: RunbookInfo?
    /// Things the report could not include, and why.
    public var notes: [String]
    /// Who signed what was deployed, and whether it was off the tracked branch (GitOps).
    public var provenance: Provenance? = nil
    /// Steps that ran on hosts: each step's outcome per host (`on:`).
    public var hosts: HostsTable? = nil

    public struct Header: Codable, Sendable {
        public var runId: String
        public var kind: String
        public var target: String
        public var stack: String
        public var environment: String
        public var revision: String
        public var revisionSubject: String
        public var revisionAuthor: String?
        public var previousRevision: String?
        public var previousRevisionSubject: String?
        public var `operator`: String
        public var host: String
        public var startedAt: String
        public var endedAt: String?
        public var durationMs: Int?
        public var status: String
        public var message: String?
        public var relatedRun: String?
        /// Runs that relate to this one: the rollback that undid it, the run it resumed.
        public var rolledBackBy: String?
    }

    public struct PhaseSummary: Codable, Sendable {
        public var name: String
        /// succeeded, failed, skipped, not_run, partial
        public var status: String
        public var steps: Int
        public var succeeded: Int
        public var failed: Int
        public var skipped: Int
        public var durationMs: Int
    }

    public struct StepSummary: Codable, Sendable {
        public var phase: String
        public var name: String
        public var status: String
        public var attempts: Int
        public var durationMs: Int
        public var command: [String]
        public var exitCode: Int32?
        public var message: String?
        /// Why a secret stood in this step's argv (`secret_in_argv:`), for the reviewer.
        public var secretInArgv: String?
    }

    public struct VerifyResult: Codable, Sendable {
        public var phase: String
        public var step: String
        public var status: String
        public var durationMs: Int
        public var command: [String]
        public var measurements: [ProbeMeasurement]
        public var message: String?
    }

    public struct Performance: Codable, Sendable {
        public var totalMs: Int?
        public var slowest: [Timing]
        public var probeLatencies: [ProbeLatency]
    }

    public struct Timing: Codable, Sendable {
        public var step: String
        public var durationMs: Int
    }

    public struct ProbeLatency: Codable, Sendable {
        public var step: String
        public var name: String
        public var valueMs: Double
        /// The threshold as written (`< 250`).
        public var expected: String?
    }

    public struct Bake: Codable, Sendable {
        public var checks: [String]
        public var intervalMs: Int?
        /// Planned rounds (fewer ran when one failed or the run stopped).
        public var plannedRounds: Int?
        public var rounds: [BakeRound]
    }

    public struct BakeRound: Codable, Sendable {
        public var round: Int
        public var at: String
        /// Seconds after postdeploy ended (the release live and checked).
        public var afterSeconds: Int?
        public var status: String
        public var checks: [VerifyResult]
    }

    public struct Backup: Codable, Sendable {
        public var path: String
        /// Bytes; absent when the backup is not a regular file.
        public var size: Int?
        public var sha256: String?
        public var restoreCommand: String?
        /// restored, restore_failed, restore_skipped, not_restored
        public var restored: String
        /// How a rollback decided about the restore, in words.
        public var decision: String?
        /// Why the restore (or its check) failed.
        public var failure: String?
    }

    public struct Inbound: Codable, Sendable {
        public var timeline: [TimelineEntry]
        public var disabledSeconds: Double?
        /// still_disabled when the run ended with inbound mail owed back.
        public var finalState: String
    }

    public struct TimelineEntry: Codable, Sendable {
        public var at: String
        public var event: String
        public var detail: String?
    }

    public struct Issue: Codable, Sendable {
        public var step: String
        public var attempt: Int
        public var status: String
        public var message: String?
        public var outputTail: String?
    }

    public struct RunbookInfo: Codable, Sendable {
        public var name: String
        public var description: String?
        public var next: [String]
    }

    /// Hosts × steps: `statuses[i][j]` is step `steps[i]` on host `hosts[j]` ("" where it was not to run).
    public struct HostsTable: Codable, Sendable {
        public var hosts: [String]
        public var steps: [String]
        public var statuses: [[String]]

        /// From the run's steps named `NAME@HOST`, in the order they ran; `inventory` adds the
        /// hosts nothing ran on (a rollout stopped before them), as columns of empty cells.
        static func from(_ steps: [StepSummary], inventory: [String]) -> HostsTable? {
            var hosts: [String] = [], names: [String] = [], status: [String: String] = [:]
            for step in steps {
                guard let parts = StepRef.hostParts(of: step.name) else { continue }
                let host = String(parts.host), name = "\(step.phase)/\(parts.step)"
                if !hosts.contains(host) { hosts.append(host) }
                if !names.contains(name) { names.append(name) }
                status["\(name)@\(host)"] = step.status
            }
            guard !hosts.isEmpty else { return nil }
            hosts = inventory.filter(hosts.contains) + inventory.filter { !hosts.contains($0) } + hosts.filter { !inventory.contains($0) }
            return HostsTable(hosts: hosts, steps: names, statuses: names.map { name in hosts.map { status["\(name)@\($0)"] ?? "" } })
        }
    }

    public struct Provenance: Codable, Sendable {
        public struct Untracked: Codable, Sendable {
            /// `origin/main`, and where it was when the run started.
            public var branch: String
            public var head: String
        }
        public struct Signature: Codable, Sendable {
            public var commit: String
            public var format: String
            public var signer: String?
            public var key: String?
        }
        /// Set when the run deployed a commit the tracked branch lacked (`--allow-untracked-revision`).
        public var untracked: Untracked?
        public var signatures: [Signature]
    }

    public struct Notification: Codable, Sendable {
        public var url: String
        public var status: String
        public var detail: String?
    }
}
