/// Which revision each host runs, as the journal says: the newest deploy or rollback that
/// changed it (a step `NAME@HOST` that succeeded in deploy, or an `undo.NAME@HOST`). After a
/// deploy that failed part-way this shows the mixed versions as they are. On a host the run
/// keeps releases on (its `release_planned` event, or a kept-releases step there), only the
/// success of `release.activate` or `release.switch` moves it: an upload into `releases/<sha>`
/// changes nothing the host runs, even when the run stopped before activating.
public struct HostRevision: Sendable, Codable, Hashable {
    public let host: String
    public let revision: String
    public let run: String
    public let kind: RunKind
}

enum HostRevisions {
    /// `runs` newest first; `hostSteps` reads one run's steps that ran on hosts (a store query:
    /// a run of a thousand local steps is not read to find none), `releaseHosts` the hosts its
    /// `release_planned` names. Looks at most `limit` deploying runs. A target whose last 3
    /// deploying runs ran nothing on hosts has none.
    static func derive(runs: [RunRecord], hostSteps: (String) throws -> [StepRecord], releaseHosts: (String) throws -> Set<String>,
                       limit: Int = 20) rethrows -> [HostRevision] {
        var found: [String: HostRevision] = [:]
        var withoutHosts = 0
        for run in runs.lazy.filter({ $0.kind.deploys }).prefix(limit) {
            let ran = try hostSteps(run.id)
            if ran.isEmpty {
                withoutHosts += 1
                if found.isEmpty, withoutHosts >= 3 { break }
                continue
            }
            let releasing = try releaseHosts(run.id).union(ran.compactMap { step in
                StepRef.hostParts(of: step.name).flatMap { Self.releaseSteps.contains(String($0.step)) ? String($0.host) : nil }
            })
            for step in ran where step.status == .succeeded && step.attempt > 0 {
                guard step.phase == Phase.deploy.rawValue || step.phase == StepRef.Section.rollback,
                      let parts = StepRef.hostParts(of: step.name) else { continue }
                let host = String(parts.host)
                if releasing.contains(host), !Self.releaseSteps.contains(String(parts.step)) { continue }
                if found[host] == nil { found[host] = HostRevision(host: host, revision: run.revision, run: run.id, kind: run.kind) }
            }
        }
        return found.values.sorted { $0.host < $1.host }
    }

    /// The steps that point a host's `current` at a release.
    private static let releaseSteps: Set<String> = [ReleaseLayout.activate, ReleaseLayout.switchBack]
}
