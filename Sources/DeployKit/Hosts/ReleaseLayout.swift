/// `release:` the kept-releases layout on hosts, built in: each deploy uploads into
/// `PATH/releases/<sha>` (`$DEPLOYCTL_RELEASE_DIR` on those hosts), `release.activate` points
/// `PATH/current` at it host by host (the rollout's waves and canary) and prunes all but the
/// newest `keep` — never the release it replaced, nor the one a rollback of this deploy would go
/// back to (`$DEPLOYCTL_ROLLBACK_REVISION`), so a rollback target is never pruned away.
/// A rollback first checks its target release exists on every host (`release.check`, before
/// anything changes) and then points `current` back (`release.switch`).
public struct ReleaseSpec: Sendable, Hashable {
    public var path: String
    public var keep: Int
    public var placement: HostPlacement
    public var location: FileLocation
}

enum ReleaseLayout {
    static let activate = "release.activate"
    static let check = "release.check"
    static let switchBack = "release.switch"

    /// `release_planned`, journaled as a run starts: the hosts whose `current` it may move. On
    /// them only `release.activate`/`release.switch` change what runs (`HostRevisions`), even
    /// when the run stopped before reaching them. Nil for a descriptor without `release:`.
    static func planned(_ descriptor: StackDescriptor) -> EventData? {
        guard let spec = descriptor.release else { return nil }
        return ["hosts": .string(spec.placement.selector.select(descriptor.hosts).map(\.name).joined(separator: " "))]
    }

    /// The hosts a run's `release_planned` names (none: the run had no kept releases).
    static func plannedHosts(_ events: [EventRecord]) -> Set<String> {
        Set(events.filter { $0.kind == .releasePlanned }.flatMap { $0.data["hosts"]?.string?.split(separator: " ").map(String.init) ?? [] })
    }

    /// The release directory of `revision` under `path`, as a double-quoted shell word: the
    /// host expands `~/` and `$NAME` in the path (its own home, its own variables).
    static func directory(_ spec: ReleaseSpec, revision: String) -> String { "\"\(shellPath(spec.path))/releases/\(revision)\"" }

    /// `~/x` → `$HOME/x`; the rest is safe inside double quotes (see the decoder's check).
    static func shellPath(_ path: String) -> String { path.hasPrefix("~/") ? "$HOME/" + path.dropFirst(2) : path }

    /// A path the layout accepts: absolute or `~/…`, of letters, digits, `/-_.`, and `$NAME`.
    static func isAcceptable(_ path: String) -> Bool {
        guard path.hasPrefix("/") || path.hasPrefix("~/") || path.hasPrefix("$"), path.count > 1, path.count <= 512,
              !path.split(separator: "/").contains("..") else { return false }
        let body = path.hasPrefix("~/") ? path.dropFirst(2) : Substring(path)
        var previousDollar = false
        for c in body {
            if previousDollar, !(c.isLetter || c == "_") { return false }
            previousDollar = c == "$"
            guard c.isASCII, c.isLetter || c.isNumber || "/-_.$".contains(c) else { return false }
        }
        return !previousDollar
    }

    /// `release.activate`, after every other deploy step (but those that need it: a restart
    /// that must start from `current`).
    static func activateStep(_ spec: ReleaseSpec, after deploy: [Step]) -> Step {
        let before = deploy.filter { !$0.needs.contains(activate) }
        return step(activate, spec, script: """
            set -e
            cd "$root"
            test -d "releases/$DEPLOYCTL_REVISION" || { echo "releases/$DEPLOYCTL_REVISION is missing on $DEPLOYCTL_HOST: nothing was uploaded into it" >&2; exit 1; }
            previous=$(readlink current 2>/dev/null || true)
            ln -sfn "releases/$DEPLOYCTL_REVISION" current.deployctl && mv -T current.deployctl current
            ls -1t releases | tail -n +$(($1 + 1)) | while read -r old; do
              [ "releases/$old" = "$previous" ] || [ "$old" = "$DEPLOYCTL_REVISION" ] || [ "$old" = "${DEPLOYCTL_ROLLBACK_REVISION:-}" ] || rm -rf "releases/$old"
            done
            echo "current -> releases/$DEPLOYCTL_REVISION on $DEPLOYCTL_HOST (was ${previous:-nothing}); kept: $(ls -1t releases | tr '\\n' ' ')"
            """, phase: .deploy, needs: before.map(\.name))
    }

    /// `release.check`, a rollback's prepare step: the target's release is still on the host.
    static func checkStep(_ spec: ReleaseSpec) -> Step {
        var placement = spec.placement
        placement.canary = 0
        placement.maxParallel = nil
        return step(check, spec, placement: placement, script: """
            test -d "$root/releases/$DEPLOYCTL_REVISION" || { echo "releases/$DEPLOYCTL_REVISION is gone on $DEPLOYCTL_HOST (pruned, or never deployed there): rolling back to it would leave nothing to run. Kept there: $(ls -1t "$root/releases" 2>/dev/null | tr '\\n' ' ')(rollback --to one of them)" >&2; exit 1; }
            """)
    }

    /// `release.switch`, the first of a rollback's stack steps: `current` back to the target,
    /// `max_parallel` hosts at a time, with no canary and no question or pause between waves:
    /// an automatic rollback runs where nobody can answer, and going back must not wait.
    static func switchStep(_ spec: ReleaseSpec) -> Step {
        var placement = spec.placement
        placement.canary = 0
        placement.pauseMs = nil
        placement.confirm = nil
        return step(switchBack, spec, placement: placement, script: """
            set -e
            cd "$root"
            test -d "releases/$DEPLOYCTL_REVISION" || { echo "releases/$DEPLOYCTL_REVISION is gone on $DEPLOYCTL_HOST: current left as it was" >&2; exit 1; }
            ln -sfn "releases/$DEPLOYCTL_REVISION" current.deployctl && mv -T current.deployctl current
            echo "current -> releases/$DEPLOYCTL_REVISION on $DEPLOYCTL_HOST"
            """)
    }

    private static func step(_ name: String, _ spec: ReleaseSpec, placement: HostPlacement? = nil, script: String, phase: Phase? = nil,
                             needs: [String] = []) -> Step {
        let at = spec.location
        let script = "root=\"\(shellPath(spec.path))\"\n" + script
        let argv = ["sh", "-c", script, "sh", "\(spec.keep)"].map { Template(literal: $0, at: at) }
        // needsLocation set: a built-in waits for exactly `needs`, never "every earlier step".
        return Step(name: name, phase: phase, description: "built in (release:)", command: .argv(argv), probe: nil, env: [], stdin: nil,
                    secretInArgv: nil, dir: nil, timeoutMs: 120_000, retries: nil, backoffMs: nil, expect: Expectation(), needs: needs,
                    needsLocation: at, when: nil, confirm: nil, rollback: nil, continueOnError: false, idempotent: true,
                    on: placement ?? spec.placement, location: at)
    }
}
