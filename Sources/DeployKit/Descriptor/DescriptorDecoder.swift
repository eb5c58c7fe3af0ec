import Foundation
import Synchronization
import GitKit

/// Turns a merged, located YAML tree into a `StackDescriptor`, reporting every problem it can
/// find in one pass. Cross-references (needs, `${…}`, duplicates) are checked afterwards by
/// `DescriptorValidator`.
struct DescriptorDecoder {
    static let topLevelKeys = ["version", "stack", "environment", "description", "extends", "inputs", "secrets",
                               "defaults", "inbound", "backup", "phases", "rollback", "rollback_prepare", "auto_rollback", "manual", "signoff", "readiness", "promotion", "bake", "notify", "runbooks", "paths",
                               "track", "signatures", "hosts", "ssh", "release"]
    static let stepKeys = ["name", "description", "run", "shell", "env", "dir", "timeout", "retries", "backoff",
                           "expect", "needs", "when", "confirm", "rollback", "continue_on_error", "idempotent",
                           "stdin", "secret_in_argv", "rolls_back", "on", "max_parallel", "canary", "between_waves", "upload"] + probeKeys
    static let probeKeys = ["http", "rate_limit", "dns", "tcp", "tls"]
    static let commandKeys = ["run", "shell", "env", "dir", "timeout", "expect", "secret_in_argv"]
    static let expectKeys = ["exit", "stdout_contains", "stderr_contains", "stdout_matches", "stderr_matches", "json"]

    let reader: NodeReader

    func decode(_ root: YAMLNode, files: [String], stack: String, environment: String) -> StackDescriptor? {
        guard let top = reader.mapping(root, "the descriptor", allowed: Self.topLevelKeys) else { return nil }

        if let versionNode = top["version"], let version = reader.int(versionNode, "'version'", range: 0...99), version != 1 {
            reader.error("descriptor version \(version) is not supported by this deployctl (it reads version 1)", at: versionNode.location)
        }
        checkName(top, "stack", expected: stack, fileHint: "the directory name under stacks/")
        checkName(top, "environment", expected: environment, fileHint: "the file name")

        var descriptor = StackDescriptor(
            stack: stack, environment: environment,
            description: reader.string(top["description"], "'description'"),
            files: files, inputs: [], secrets: [], defaults: StepDefaults(), phases: [:],
            backup: nil, inbound: nil, rollback: [], autoRollback: StackDescriptor.defaultAutoRollback, manual: [], signoff: [], readiness: nil)

        descriptor.inputs = inputs(top["inputs"])
        descriptor.secrets = secrets(top["secrets"])
        if let node = top["defaults"] { descriptor.defaults = defaults(node) }
        if let node = top["phases"] { descriptor.phases = phases(node) }
        if let node = top["backup"], !node.isNull { descriptor.backup = backup(node) }
        if let node = top["inbound"], !node.isNull { descriptor.inbound = inbound(node) }
        if let node = top["rollback"] { descriptor.rollback = steps(node, phase: nil, "'rollback'") }
        if let node = top["rollback_prepare"] { descriptor.rollbackPrepare = steps(node, phase: nil, "'rollback_prepare'") }
        descriptor.autoRollback = autoRollback(top["auto_rollback"])
        descriptor.manual = manual(top["manual"])
        descriptor.signoff = reader.strings(top["signoff"], "'signoff'")
        if let node = top["readiness"], !node.isNull { descriptor.readiness = readiness(node) }
        if let node = top["bake"], !node.isNull { descriptor.bake = bake(node) }
        if let node = top["promotion"], !node.isNull { descriptor.promotion = promotion(node, stack: stack, environment: environment) }
        if let node = top["hosts"], !node.isNull { descriptor.hosts = hosts(node) }
        if let node = top["ssh"], !node.isNull { descriptor.ssh = ssh(node) }
        if let node = top["release"], !node.isNull, let spec = release(node) {
            // Built-in steps: activation after the deploy steps, the check before a rollback
            // changes anything, the switch back first among the rollback steps.
            descriptor.release = spec
            descriptor.phases[.deploy, default: []].append(ReleaseLayout.activateStep(spec, after: descriptor.steps(in: .deploy)))
            descriptor.rollbackPrepare.append(ReleaseLayout.checkStep(spec))
            descriptor.rollback.insert(ReleaseLayout.switchStep(spec), at: 0)
        }
        if let node = top["track"], !node.isNull { descriptor.track = track(node) }
        if let node = top["signatures"], !node.isNull { descriptor.signatures = signatures(node) }
        descriptor.notify = notify(top["notify"])
        descriptor.runbooks = runbooks(top["runbooks"])
        descriptor.paths = paths(top["paths"])
        checkStepCount(descriptor)
        checkPlacements(descriptor)
        return descriptor
    }

    /// `hosts: {web1: {address: 10.0.0.5, port: 22, user: deploy, roles: [web]}, …}`.
    private func hosts(_ node: YAMLNode) -> [HostSpec] {
        guard case .mapping(let pairs, _) = node else {
            reader.error("'hosts' is a mapping of host names to {address, port, user, roles}, not \(node.kindName)", at: node.location)
            return []
        }
        return pairs.compactMap { pair in
            let what = "host '\(pair.key)'"
            guard isStepName(pair.key), pair.key.count <= 64 else {
                reader.error("host name '\(pair.key.prefix(40))' may use only letters, digits, '-', '_' and '.' (at most 64)", at: pair.keyLocation)
                return nil
            }
            guard let m = reader.mapping(pair.value, what, allowed: ["address", "port", "user", "roles", "env"]) else { return nil }
            guard let address = reader.string(m["address"], "'address' of \(what)") else {
                if m["address"] == nil { reader.error("\(what) needs 'address' (a host name or IP address)", at: m.location) }
                return nil
            }
            let user = reader.string(m["user"], "'user' of \(what)")
            for (value, label) in [(address, "address"), (user ?? "", "user")] where value.hasPrefix("-") || value.contains(where: { $0 == " " || $0 == "@" }) {
                reader.error("'\(label)' of \(what) cannot start with '-' or hold spaces or '@' (it goes to ssh)", at: m[label]!.location)
                return nil
            }
            var env: [String: String] = [:]
            for entry in self.env(m["env"], "'env' of \(what)") {
                guard entry.value.references.isEmpty else {
                    reader.error("'env' of \(what) '\(entry.name)' is taken as written (no ${…}): it belongs to the host, not to a run", at: entry.value.location)
                    continue
                }
                env[entry.name] = entry.value.raw
            }
            return HostSpec(name: pair.key, address: address, port: reader.int(m["port"], "'port' of \(what)", range: 1...65535) ?? 22,
                            user: user, roles: reader.strings(m["roles"], "'roles' of \(what)"), env: env, location: pair.keyLocation)
        }
    }

    /// `release: {path: /srv/app, keep: 5, on: app, canary: 1, max_parallel: 2}`.
    private func release(_ node: YAMLNode) -> ReleaseSpec? {
        guard let m = reader.mapping(node, "'release'", allowed: ["path", "keep", "on", "canary", "max_parallel", "between_waves"]) else { return nil }
        guard let pathNode = m["path"], let path = reader.string(pathNode, "'release.path'") else {
            if m["path"] == nil { reader.error("'release' needs 'path' (the directory on each host that holds releases/ and current)", at: m.location) }
            return nil
        }
        guard ReleaseLayout.isAcceptable(path) else {
            reader.error("'release.path' must be absolute (or ~/… or $NAME/…, expanded on each host) of letters, digits, '/', '-', '_', '.' and $NAME", at: pathNode.location)
            return nil
        }
        let keep = reader.int(m["keep"], "'release.keep'", range: 2...100) ?? 5
        guard let placement = placement(m, "'release'") else {
            if m["on"] == nil { reader.error("'release' needs 'on' (the hosts that get the layout: a role, or all)", at: m.location) }
            return nil
        }
        return ReleaseSpec(path: path.hasSuffix("/") ? String(path.dropLast()) : path, keep: keep, placement: placement, location: m.location)
    }

    /// `ssh: {known_hosts: ssh/known_hosts, user: deploy, identity_file: /etc/deployctl/id_ed25519}`.
    private func ssh(_ node: YAMLNode) -> SSHSpec? {
        guard let m = reader.mapping(node, "'ssh'", allowed: ["known_hosts", "user", "identity_file"]) else { return nil }
        guard let knownHosts = reader.string(m["known_hosts"], "'ssh.known_hosts'"), !knownHosts.isEmpty else {
            if m["known_hosts"] == nil {
                reader.error("'ssh' needs 'known_hosts' (the hosts' keys: deployctl checks them strictly and never trusts on first use)", at: m.location)
            }
            return nil
        }
        let user = reader.string(m["user"], "'ssh.user'")
        if let user, user.hasPrefix("-") || user.contains(where: { $0 == " " || $0 == "@" }) {
            reader.error("'ssh.user' cannot start with '-' or hold spaces or '@' (it goes to ssh)", at: m["user"]!.location)
        }
        return SSHSpec(knownHosts: knownHosts, user: user,
                       identityFile: reader.string(m["identity_file"], "'ssh.identity_file'"), location: m.location)
    }

    /// `on:` needs hosts that match it and an `ssh:` to reach them; it runs commands, not probes.
    private func checkPlacements(_ descriptor: StackDescriptor) {
        let steps = Phase.allCases.flatMap { descriptor.steps(in: $0) } + descriptor.rollback + descriptor.rollbackPrepare
        for step in steps {
            guard let on = step.on else {
                if step.upload != nil { reader.error("'upload' of step '\(step.name)' copies to hosts: give it 'on:'", at: step.location) }
                continue
            }
            let chosen = on.selector.select(descriptor.hosts)
            if descriptor.hosts.isEmpty {
                reader.error("step '\(step.name)' runs 'on: \(on.selector)', but the descriptor declares no 'hosts:'", at: on.location)
            } else if chosen.isEmpty {
                let roles = Array(Set(descriptor.hosts.flatMap(\.roles))).sorted()
                reader.error("step '\(step.name)' runs 'on: \(on.selector)', which names no host (roles: \(roles.isEmpty ? "none" : roles.joined(separator: ", ")); or 'all')", at: on.location)
            }
            if descriptor.ssh == nil, !descriptor.hosts.isEmpty {
                reader.error("step '\(step.name)' runs on hosts, but the descriptor has no 'ssh: {known_hosts: …}' to check their keys", at: on.location)
            }
            if step.probe != nil { reader.error("step '\(step.name)' is a probe: probes run from here, so 'on:' does not apply", at: on.location) }
            if step.stdin != nil { reader.error("step '\(step.name)' runs on hosts, where standard input carries the step's environment; drop 'stdin:'", at: on.location) }
            if let upload = step.upload, upload.to == nil, descriptor.release == nil {
                reader.error("'upload' of step '\(step.name)' has no 'to' and the descriptor no 'release:' to upload into", at: step.location)
            }
            if on.canary > 0, on.canary >= chosen.count, !chosen.isEmpty {
                reader.error("'canary: \(on.canary)' of step '\(step.name)' leaves no host after the canaries (it runs on \(chosen.count))", at: on.location)
            }
        }
    }

    /// `bake: {duration: 1h, interval: 5m, checks: [health]}`.
    private func bake(_ node: YAMLNode) -> BakeSpec? {
        guard let m = reader.mapping(node, "'bake'", allowed: ["duration", "interval", "checks"]) else { return nil }
        let duration = reader.duration(m["duration"], "'bake.duration'")
        let interval = reader.duration(m["interval"], "'bake.interval'")
        var checks: [String] = [], locations: [FileLocation] = []
        if case .sequence(let items, _)? = m["checks"] {
            for item in items { if let name = reader.string(item, "each of 'bake.checks'") { checks.append(name); locations.append(item.location) } }
        } else if let node = m["checks"] {
            reader.error("'bake.checks' is a list of verify or postdeploy step names, not \(node.kindName)", at: node.location)
        }
        guard let duration, let interval, !checks.isEmpty else {
            for (key, what) in [("duration", "how long to watch, e.g. 1h"), ("interval", "how often, e.g. 5m"), ("checks", "the step names to repeat")] where m[key] == nil {
                reader.error("'bake' needs '\(key)' (\(what))", at: m.location)
            }
            if m["checks"] != nil, checks.isEmpty { reader.error("'bake.checks' names no step", at: m.location) }
            return nil
        }
        guard interval >= 1_000, interval <= duration else {
            reader.error("'bake.interval' must be at least 1s and at most 'bake.duration' (\(DurationValue.format(milliseconds: duration)))", at: m["interval"]!.location)
            return nil
        }
        guard duration / interval <= 1_000 else {
            reader.error("'bake' would run \(duration / interval) rounds; at most 1000 (a longer interval, or a shorter duration)", at: m["interval"]!.location)
            return nil
        }
        return BakeSpec(durationMs: duration, intervalMs: interval, checks: checks, checkLocations: locations, location: m.location)
    }

    /// `track: release/prod` or `track: {branch: release/prod}`.
    private func track(_ node: YAMLNode) -> TrackSpec? {
        var branchNode = node
        if case .mapping = node {
            guard let m = reader.mapping(node, "'track'", allowed: ["branch"]), let b = m["branch"] else {
                if case .mapping(let pairs, _) = node, !pairs.contains(where: { $0.key == "branch" }) {
                    reader.error("'track' needs 'branch' (the remote branch this environment follows, e.g. main)", at: node.location)
                }
                return nil
            }
            branchNode = b
        }
        guard let branch = reader.string(branchNode, "'track'") else { return nil }
        // A branch name git accepts, and nothing an argv or a ref path could misread.
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")
        guard !branch.isEmpty, branch.count <= 200, branch.allSatisfy(allowed.contains), !branch.hasPrefix("-"), !branch.hasPrefix("/"),
              !branch.hasSuffix("/"), !branch.contains(".."), !branch.contains("//"), !branch.hasPrefix("refs/") else {
            reader.error("'track' must be a branch name such as main or release/prod (letters, digits, - _ . /; no '..', no refs/ prefix)", at: branchNode.location)
            return nil
        }
        return TrackSpec(branch: branch, location: branchNode.location)
    }

    /// `signatures: {allowed_signers: /etc/…, gpg_keyring: /etc/…, every_commit: false}`.
    private func signatures(_ node: YAMLNode) -> SignaturePolicy? {
        guard let m = reader.mapping(node, "'signatures'", allowed: ["allowed_signers", "gpg_keyring", "every_commit"]) else { return nil }
        var paths: [String: String] = [:]
        for key in ["allowed_signers", "gpg_keyring"] {
            guard let value = m[key], let path = reader.string(value, "'signatures.\(key)'") else { continue }
            guard path.hasPrefix("/"), path.count <= 1024, !path.split(separator: "/").contains("..") else {
                reader.error("'signatures.\(key)' must be an absolute path outside the repository (the trust root cannot come from the commit it judges)", at: value.location)
                continue
            }
            paths[key] = path
        }
        guard !paths.isEmpty else {
            if m["allowed_signers"] == nil, m["gpg_keyring"] == nil {
                reader.error("'signatures' needs 'allowed_signers' (an OpenSSH allowed-signers file) or 'gpg_keyring' (an OpenPGP keyring), as an absolute path", at: m.location)
            }
            return nil
        }
        return SignaturePolicy(allowedSigners: paths["allowed_signers"], gpgKeyring: paths["gpg_keyring"],
                               everyCommit: reader.bool(m["every_commit"], "'signatures.every_commit'") ?? false, location: m.location)
    }

    /// `promotion: {from: staging, same_revision: true}`: `up` needs that environment's last up accepted.
    private func promotion(_ node: YAMLNode, stack: String, environment: String) -> Promotion? {
        guard let m = reader.mapping(node, "'promotion'", allowed: ["from", "same_revision"]) else { return nil }
        guard let fromNode = m["from"], let from = reader.string(fromNode, "'promotion.from'") else {
            if m["from"] == nil { reader.error("'promotion' needs 'from' (the environment whose accepted run this one follows, e.g. staging)", at: m.location) }
            return nil
        }
        let target = from.contains("/") ? from : "\(stack)/\(from)"
        guard target != "\(stack)/\(environment)" else {
            reader.error("'promotion.from' names this environment itself; it names the one before it (e.g. staging)", at: fromNode.location)
            return nil
        }
        return Promotion(from: target, sameRevision: reader.bool(m["same_revision"], "'promotion.same_revision'") ?? true, location: fromNode.location)
    }

    /// Every step is planned, journaled and shown: a descriptor of a million one-line steps
    /// must be refused, not planned. The largest seed stack has 42; the bench runs 1,000.
    static let maxSteps: Int = ProcessEnvironment.current["DEPLOYCTL_MAX_STEPS"].flatMap(Int.init) ?? 5_000

    private func checkStepCount(_ descriptor: StackDescriptor) {
        let steps = descriptor.allSteps + descriptor.runbooks.flatMap(\.steps)
        guard steps.count > Self.maxSteps else { return }
        reader.error("this descriptor has \(steps.count) steps, more than the \(Self.maxSteps) deployctl plans and journals per stack; split the stack, or for a legitimately huge one set DEPLOYCTL_MAX_STEPS",
                     at: steps[Self.maxSteps].location)
    }

    /// `paths: [db/migrations, "scripts/*.sh", "site/**"]`: repository paths or globs.
    private func paths(_ node: YAMLNode?) -> [PathPattern] {
        guard let node, !node.isNull else { return [] }
        guard case .sequence(let items, _) = node else {
            reader.error("'paths' must be a list of repository paths or globs (db/migrations, \"scripts/*.sh\"), not \(node.kindName)", at: node.location)
            return []
        }
        return items.compactMap { item in
            guard let text = reader.string(item, "each entry of 'paths'") else { return nil }
            guard let pattern = PathPattern(text) else {
                reader.error("'paths' entry \"\(text)\" must be relative to the repository root, without '..'", at: item.location)
                return nil
            }
            return pattern
        }
    }

    /// `runbooks: {NAME: {description, steps, next}}`.
    private func runbooks(_ node: YAMLNode?) -> [Runbook] {
        guard let node, !node.isNull else { return [] }
        guard case .mapping(let pairs, _) = node else {
            reader.error("'runbooks' must map runbook names to {description, steps, next}, not \(node.kindName)", at: node.location)
            return []
        }
        return pairs.compactMap { pair in
            let what = "runbook '\(pair.key)'"
            if !isStepName(pair.key) {
                reader.error("runbook name '\(pair.key)' may use only letters, digits, '-', '_' and '.'", at: pair.keyLocation)
            }
            guard let m = reader.mapping(pair.value, what, allowed: ["description", "steps", "next"]) else { return nil }
            guard let stepsNode = m["steps"] else {
                reader.error("\(what) has no 'steps' (the read-only checks it runs)", at: m.location)
                return nil
            }
            return Runbook(name: pair.key, description: reader.string(m["description"], "'description' of \(what)"),
                           steps: steps(stepsNode, phase: nil, "'steps' of \(what)"),
                           next: reader.strings(m["next"], "'next' of \(what)"), location: pair.keyLocation)
        }
    }

    /// A URL, or {url, on: [success, failure]}; a list of either.
    private func notify(_ node: YAMLNode?) -> [NotifySpec] {
        guard let node, !node.isNull else { return [] }
        let items: [YAMLNode]
        if case .sequence(let list, _) = node { items = list } else { items = [node] }
        return items.compactMap { item in
            if case .scalar = item {
                return reader.template(item, "a 'notify' URL").map { NotifySpec(url: $0, on: Set(NotifySpec.When.allCases), location: item.location) }
            }
            guard let m = reader.mapping(item, "a 'notify' entry", allowed: ["url", "on"]) else { return nil }
            guard let url = reader.template(m["url"], "'url' of a 'notify' entry") else {
                reader.error("a 'notify' entry needs 'url' (the webhook to POST to)", at: m.location)
                return nil
            }
            var on = Set(NotifySpec.When.allCases)
            if let onNode = m["on"] {
                let names = reader.strings(onNode, "'on' of a 'notify' entry")
                on = Set(names.compactMap { name in
                    guard let when = NotifySpec.When(rawValue: name) else {
                        reader.error("'on' of a 'notify' entry lists \"\(name)\"; use success and/or failure\(Suggestion.hint(for: name, in: NotifySpec.When.allCases.map(\.rawValue)))", at: onNode.location)
                        return nil
                    }
                    return when
                })
            }
            if let url = m["url"], case .scalar(let s) = url, !s.value.contains("${"), !s.value.hasPrefix("http://"), !s.value.hasPrefix("https://") {
                reader.error("'url' of a 'notify' entry must start with http:// or https://", at: url.location)
            }
            return NotifySpec(url: url, on: on, location: m.location)
        }
    }

    private func checkName(_ top: NodeReader.Mapping, _ key: String, expected: String, fileHint: String) {
        guard let node = top[key], let value = reader.string(node, "'\(key)'") else { return }
        if value != expected {
            reader.error("'\(key): \(value)' does not match the file's path, which says '\(expected)' (\(fileHint))", at: node.location)
        }
    }

    // MARK: - Inputs and secrets

    private func inputs(_ node: YAMLNode?) -> [InputSpec] {
        guard let node, !node.isNull else { return [] }
        guard case .mapping(let pairs, _) = node else {
            reader.error("'inputs' must be a mapping of input names, not \(node.kindName)", at: node.location)
            return []
        }
        return pairs.compactMap { pair -> InputSpec? in
            guard checkIdentifier(pair.key, "input name", at: pair.keyLocation) else { return nil }
            var spec = InputSpec(name: pair.key, description: nil, required: false, defaultValue: nil,
                                 pattern: nil, env: nil, location: pair.keyLocation)
            if pair.value.isNull { return spec }
            let what = "input '\(pair.key)'"
            guard let m = reader.mapping(pair.value, what, allowed: ["description", "required", "default", "pattern", "env"]) else { return spec }
            spec.description = reader.string(m["description"], "'description' of \(what)")
            spec.required = reader.bool(m["required"], "'required' of \(what)") ?? false
            spec.defaultValue = reader.string(m["default"], "'default' of \(what)")
            spec.pattern = reader.regex(m["pattern"], "'pattern' of \(what)")
            spec.env = reader.string(m["env"], "'env' of \(what)")
            if spec.required, spec.defaultValue != nil, let at = m.keyLocation("default") {
                reader.error("\(what) is required and also has a default; drop one of them", at: at)
            }
            if let pattern = spec.pattern, let value = spec.defaultValue, let at = m["default"]?.location,
               !Regex.wholeMatch(pattern, value) {
                reader.error("the default of \(what), \"\(value)\", does not match its own pattern /\(pattern)/", at: at)
            }
            return spec
        }
    }

    private func secrets(_ node: YAMLNode?) -> [SecretSpec] {
        guard let node, !node.isNull else { return [] }
        guard case .mapping(let pairs, _) = node else {
            reader.error("'secrets' must be a mapping of secret names, not \(node.kindName)", at: node.location)
            return []
        }
        return pairs.compactMap { pair -> SecretSpec? in
            guard checkIdentifier(pair.key, "secret name", at: pair.keyLocation) else { return nil }
            var spec = SecretSpec(name: pair.key, description: nil, env: nil, file: nil, reject: [],
                                  minLength: nil, optional: false, location: pair.keyLocation)
            if pair.value.isNull { return spec }
            let what = "secret '\(pair.key)'"
            guard let m = reader.mapping(pair.value, what, allowed: ["description", "env", "file", "reject", "min_length", "optional"]) else { return spec }
            spec.description = reader.string(m["description"], "'description' of \(what)")
            spec.env = reader.string(m["env"], "'env' of \(what)")
            spec.file = reader.string(m["file"], "'file' of \(what)")
            spec.reject = reader.strings(m["reject"], "'reject' of \(what)")
            spec.minLength = reader.int(m["min_length"], "'min_length' of \(what)", range: 1...4096)
            spec.optional = reader.bool(m["optional"], "'optional' of \(what)") ?? false
            if spec.env != nil, spec.file != nil, let at = m.keyLocation("file") {
                reader.error("\(what) names both 'env' and 'file'; give one source", at: at)
            }
            return spec
        }
    }

    private func checkIdentifier(_ name: String, _ what: String, at location: FileLocation) -> Bool {
        if Reference.isIdentifier(name) { return true }
        reader.error("'\(name)' is not a valid \(what): use letters, digits and '_', starting with a letter", at: location)
        return false
    }

    // MARK: - Defaults

    private func defaults(_ node: YAMLNode) -> StepDefaults {
        var result = StepDefaults()
        guard !node.isNull, let m = reader.mapping(node, "'defaults'", allowed: ["timeout", "retries", "backoff", "env", "dir"]) else { return result }
        if let v = reader.duration(m["timeout"], "'defaults.timeout'") { result.timeoutMs = v }
        if let v = reader.int(m["retries"], "'defaults.retries'", range: 0...100) { result.retries = v }
        if let v = reader.duration(m["backoff"], "'defaults.backoff'") { result.backoffMs = v }
        result.env = env(m["env"], "'defaults.env'")
        result.dir = reader.template(m["dir"], "'defaults.dir'")
        return result
    }

    private func env(_ node: YAMLNode?, _ what: String) -> [EnvEntry] {
        guard let node, !node.isNull else { return [] }
        guard case .mapping(let pairs, _) = node else {
            reader.error("\(what) must be a mapping of NAME: value, not \(node.kindName)", at: node.location)
            return []
        }
        return pairs.compactMap { pair in
            // ASCII, as POSIX shells take names: a host's sh refuses `export É=…`.
            guard pair.key.first.map({ $0.isASCII && ($0.isLetter || $0 == "_") }) == true,
                  pair.key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                reader.error("'\(pair.key)' is not a valid environment variable name (ASCII letters, digits and _, not starting with a digit)", at: pair.keyLocation)
                return nil
            }
            guard let value = reader.template(pair.value, "\(what) '\(pair.key)'") else {
                if pair.value.isNull { reader.error("\(what) '\(pair.key)' has no value", at: pair.keyLocation) }
                return nil
            }
            return EnvEntry(name: pair.key, value: value)
        }
    }

    // MARK: - Phases and steps

    private func phases(_ node: YAMLNode) -> [Phase: [Step]] {
        guard !node.isNull else { return [:] }
        let names = Phase.allCases.map(\.rawValue)
        guard let m = reader.mapping(node, "'phases' (the phases are \(names.joined(separator: ", ")))", allowed: names) else { return [:] }
        var result: [Phase: [Step]] = [:]
        for pair in m.pairs {
            guard let phase = Phase(rawValue: pair.key) else { continue }
            result[phase] = steps(pair.value, phase: phase, "phase '\(phase.rawValue)'")
        }
        return result
    }

    private func steps(_ node: YAMLNode, phase: Phase?, _ what: String) -> [Step] {
        guard !node.isNull else { return [] }
        guard case .sequence(let items, _) = node else {
            reader.error("\(what) must be a list of steps, not \(node.kindName)", at: node.location)
            return []
        }
        return items.compactMap { step($0, phase: phase, in: what) }
    }

    private func step(_ node: YAMLNode, phase: Phase?, in container: String) -> Step? {
        let nameNode = node["name"]
        let name = nameNode.flatMap { reader.string($0, "a step's 'name'") }
        let what = name.map { "step '\($0)'" } ?? "a step in \(container)"
        guard let m = reader.mapping(node, what, allowed: Self.stepKeys) else { return nil }
        if name == nil, nameNode == nil {
            reader.error("\(what) has no 'name'", at: m.location)
        } else if let name, !isStepName(name), let at = nameNode?.location {
            reader.error("step name '\(name)' may use only letters, digits, '-', '_' and '.'", at: at)
        } else if let name, name.utf8.count > Self.maxStepName, let at = nameNode?.location {
            // It names the step's log files (phase.name.attempt.log; a file name ends at 255 bytes).
            reader.error("step name '\(name.prefix(40))…' is \(name.utf8.count) characters; at most \(Self.maxStepName) (it names the step's log files)", at: at)
        }
        let probeKeys = Self.probeKeys.filter { m[$0] != nil }
        var command: CommandSpec? = nil, probe: ProbeSpec? = nil, upload: UploadSpec? = nil
        if let first = probeKeys.first {
            if probeKeys.count > 1, let at = m.keyLocation(probeKeys[1]) {
                reader.error("\(what) has both '\(first)' and '\(probeKeys[1])'; a step is one probe", at: at)
            } else if m["run"] != nil || m["shell"] != nil, let at = m.keyLocation(first) {
                reader.error("\(what) has both a command ('\(m["run"] != nil ? "run" : "shell")') and the probe '\(first)'; give one", at: at)
            } else if let node = m[first] {
                probe = self.probe(first, node, what)
                if m["expect"] != nil, let at = m.keyLocation("expect") {
                    reader.error("'expect' of \(what) checks a command's exit and output; a '\(first)' probe states its checks inside '\(first):'", at: at)
                }
            }
        } else if let node = m["upload"] {
            if m["run"] != nil || m["shell"] != nil, let at = m.keyLocation("upload") {
                reader.error("\(what) has both a command ('\(m["run"] != nil ? "run" : "shell")') and 'upload'; give one", at: at)
            } else {
                (command, upload) = self.upload(node, what)
            }
        } else {
            command = self.command(m, what, required: true)
        }
        var when: StepCondition? = nil
        if let whenText = reader.string(m["when"], "'when' of \(what)"), let at = m["when"]?.location {
            switch Condition.parse(whenText) {
            case .success(let c): when = StepCondition(condition: c, source: whenText, location: at)
            case .failure(let e): reader.error(e.message, at: at)
            }
        }
        var confirm: String? = nil
        if let node = m["confirm"], !node.isNull {
            if case .scalar(let s) = node, s.plain, s.value == "true" {
                confirm = "Run step '\(name ?? "?")'?"
            } else if case .scalar(let s) = node, s.plain, s.value == "false" {
                confirm = nil
            } else {
                confirm = reader.string(node, "'confirm' of \(what)")
            }
        }
        var rollback: CommandBlock? = nil
        if let node = m["rollback"], !node.isNull { rollback = commandBlock(node, "'rollback' of \(what)") }
        guard let name, command != nil || probe != nil else { return nil }
        return Step(
            name: name, phase: phase,
            description: reader.string(m["description"], "'description' of \(what)"),
            command: command, probe: probe,
            env: env(m["env"], "'env' of \(what)"),
            stdin: stdin(m, what, hasCommand: command != nil),
            secretInArgv: reason(m["secret_in_argv"], "'secret_in_argv' of \(what)"),
            dir: reader.template(m["dir"], "'dir' of \(what)"),
            timeoutMs: reader.duration(m["timeout"], "'timeout' of \(what)"),
            retries: reader.int(m["retries"], "'retries' of \(what)", range: 0...100),
            backoffMs: reader.duration(m["backoff"], "'backoff' of \(what)"),
            expect: expectation(m["expect"], "'expect' of \(what)"),
            needs: reader.strings(m["needs"], "'needs' of \(what)"),
            needsLocation: m["needs"]?.location,
            when: when,
            confirm: confirm, rollback: rollback,
            continueOnError: reader.bool(m["continue_on_error"], "'continue_on_error' of \(what)") ?? false,
            idempotent: reader.bool(m["idempotent"], "'idempotent' of \(what)") ?? false,
            rollsBack: rollsBack(m, what, phase: phase),
            on: placement(m, what),
            upload: upload,
            location: nameNode?.location ?? m.location)
    }

    /// `upload: {files: [bin/app, "${inputs.artifact}"], to: "$DEPLOYCTL_RELEASE_DIR"}`: the
    /// command is the local `tar` that packs the files flat; the host side unpacks them (`SSHRemote`).
    private func upload(_ node: YAMLNode, _ what: String) -> (CommandSpec?, UploadSpec?) {
        guard let m = reader.mapping(node, "'upload' of \(what)", allowed: ["files", "to"]) else { return (nil, nil) }
        guard case .sequence(let items, _)? = m["files"], !items.isEmpty else {
            reader.error("'upload' of \(what) needs 'files' (a list of paths in the repository, or absolute paths on this machine)", at: m.location)
            return (nil, nil)
        }
        let files = items.compactMap { reader.template($0, "each of 'upload.files' of \(what)") }
        var to: String? = nil
        if let toNode = m["to"], let value = reader.string(toNode, "'upload.to' of \(what)") {
            guard ReleaseLayout.isAcceptable(value) else {
                reader.error("'upload.to' of \(what) must be absolute (or ~/… or $NAME/…, expanded on the host)", at: toNode.location)
                return (nil, nil)
            }
            to = value
        }
        let at = m.location
        let tar = ["tar", "-cf", "-", "--dereference", "--transform=s,.*/,,", "--"].map { Template(literal: $0, at: at) }
        return (.argv(tar + files), UploadSpec(to: to))
    }

    /// `on: web` with `max_parallel: 2` and `canary: 1`.
    private func placement(_ m: NodeReader.Mapping, _ what: String) -> HostPlacement? {
        guard let node = m["on"], let text = reader.string(node, "'on' of \(what)") else {
            for key in ["max_parallel", "canary", "between_waves"] where m[key] != nil {
                reader.error("'\(key)' of \(what) applies to a step that runs 'on:' hosts", at: m.keyLocation(key)!)
            }
            return nil
        }
        guard let selector = HostSelector.parse(text) else {
            reader.error("'on' of \(what) is a role, 'all' or 'first of ROLE', not '\(text)'", at: node.location)
            return nil
        }
        var placement = HostPlacement(selector: selector, maxParallel: reader.int(m["max_parallel"], "'max_parallel' of \(what)", range: 1...1000),
                                      canary: reader.int(m["canary"], "'canary' of \(what)", range: 0...1000) ?? 0, location: node.location)
        if let between = m["between_waves"], let b = reader.mapping(between, "'between_waves' of \(what)", allowed: ["pause", "confirm"]) {
            placement.pauseMs = reader.duration(b["pause"], "'between_waves.pause' of \(what)")
            placement.confirm = reader.string(b["confirm"], "'between_waves.confirm' of \(what)")
            if let pause = placement.pauseMs, pause > 3_600_000, let at = b["pause"]?.location {
                reader.error("'between_waves.pause' of \(what) is at most 1h", at: at)
            }
        }
        return placement
    }

    static let maxStepName = 100
    /// More arguments than this cannot be a command anyone reviews (and Linux caps argv + env at 2 MiB).
    static let maxArguments = 4_096

    private func isStepName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }

    /// `run:` (argv list) or `shell:` (a string), exactly one.
    private func command(_ m: NodeReader.Mapping, _ what: String, required: Bool) -> CommandSpec? {
        let run = m["run"], shell = m["shell"]
        if run != nil, shell != nil, let at = m.keyLocation("shell") {
            reader.error("\(what) has both 'run' and 'shell'; give one", at: at)
            return nil
        }
        if let run {
            return argv(run, "'run' of \(what)")
        }
        if let shell {
            guard let script = reader.template(shell, "'shell' of \(what)") else {
                if shell.isNull { reader.error("'shell' of \(what) is empty", at: shell.location) }
                return nil
            }
            return .shell(script)
        }
        if required { reader.error("\(what) has neither 'run' (an argv list) nor 'shell' (a command line)", at: m.location) }
        return nil
    }

    private func argv(_ node: YAMLNode, _ what: String) -> CommandSpec? {
        switch node {
        case .sequence(let items, _):
            guard !items.isEmpty else {
                reader.error("\(what) is an empty list; give the program and its arguments", at: node.location)
                return nil
            }
            guard items.count <= Self.maxArguments else {
                reader.error("\(what) has \(items.count) arguments, more than \(Self.maxArguments); pass long lists through a file", at: items[Self.maxArguments].location)
                return nil
            }
            let templates = items.compactMap { reader.template($0, "each argument of \(what)") }
            return templates.count == items.count ? .argv(templates) : nil
        case .scalar(let s) where !s.isNull:
            let words = s.value.split(separator: " ").map { "\"\($0)\"" }.joined(separator: ", ")
            reader.error("\(what) must be a list of arguments, e.g. [\(words)]; deployctl never splits a string or runs a shell unless the step says 'shell:'", at: node.location)
            return nil
        default:
            reader.error("\(what) must be a list of arguments, not \(node.kindName)", at: node.location)
            return nil
        }
    }

    /// A command written either as an argv list or as a mapping with run/shell, env, dir,
    /// timeout and expect (plus `extraKeys` the caller reads itself).
    private func commandBlock(_ node: YAMLNode, _ what: String, extraKeys: [String] = []) -> CommandBlock? {
        if case .sequence = node {
            guard let command = argv(node, what) else { return nil }
            return CommandBlock(command: command, env: [], dir: nil, timeoutMs: nil, expect: Expectation(), secretInArgv: nil, location: node.location)
        }
        guard let m = reader.mapping(node, what, allowed: Self.commandKeys + extraKeys) else { return nil }
        guard let command = command(m, what, required: true) else { return nil }
        return CommandBlock(
            command: command,
            env: env(m["env"], "'env' of \(what)"),
            dir: reader.template(m["dir"], "'dir' of \(what)"),
            timeoutMs: reader.duration(m["timeout"], "'timeout' of \(what)"),
            expect: expectation(m["expect"], "'expect' of \(what)"),
            secretInArgv: reason(m["secret_in_argv"], "'secret_in_argv' of \(what)"),
            location: m.location)
    }

    /// `auto_rollback: true|false`, or the list of phases whose failure rolls back.
    private func autoRollback(_ node: YAMLNode?) -> Set<Phase> {
        guard let node, !node.isNull else { return StackDescriptor.defaultAutoRollback }
        if case .scalar(let s) = node, s.plain, s.value == "true" || s.value == "false" {
            return s.value == "true" ? StackDescriptor.defaultAutoRollback : []
        }
        guard case .sequence(let items, _) = node else {
            reader.error("'auto_rollback' is true, false, or the phases whose failure rolls back (e.g. [deploy, verify, postdeploy]), not \(node.kindName)", at: node.location)
            return StackDescriptor.defaultAutoRollback
        }
        var phases: Set<Phase> = []
        for item in items {
            guard let name = reader.string(item, "each phase of 'auto_rollback'") else { continue }
            guard let phase = Phase(rawValue: name), StackDescriptor.rollbackPhases.contains(phase) else {
                reader.error("'auto_rollback' lists '\(name)'; a failure rolls back only from \(StackDescriptor.rollbackPhases.map(\.rawValue).joined(separator: ", ")) (preflight changes nothing; a failed migration restores its backup)", at: item.location)
                continue
            }
            phases.insert(phase)
        }
        return phases
    }

    /// `rolls_back: true` — a postdeploy step opting in (deploy and verify follow `auto_rollback`).
    private func rollsBack(_ m: NodeReader.Mapping, _ what: String, phase: Phase?) -> Bool {
        guard let value = reader.bool(m["rolls_back"], "'rolls_back' of \(what)"), value else { return false }
        if phase != .postdeploy, let at = m.keyLocation("rolls_back") {
            reader.error("'rolls_back' of \(what) is for postdeploy steps; whether a \(phase?.rawValue ?? "rollback or runbook") failure rolls back is the descriptor's 'auto_rollback'", at: at)
            return false
        }
        return true
    }

    /// `stdin:` — only where a process reads it.
    private func stdin(_ m: NodeReader.Mapping, _ what: String, hasCommand: Bool) -> Template? {
        guard let node = m["stdin"], !node.isNull else { return nil }
        if !hasCommand, let at = m.keyLocation("stdin") {
            reader.error("'stdin' of \(what) feeds a command; a probe reads no input", at: at)
            return nil
        }
        return reader.template(node, "'stdin' of \(what)")
    }

    /// A reason a reviewer reads: a non-empty sentence, not `true`.
    private func reason(_ node: YAMLNode?, _ what: String) -> String? {
        guard let node, !node.isNull else { return nil }
        guard let text = reader.string(node, what) else { return nil }
        if text.trimmingBlanks.isEmpty || ["true", "yes"].contains(text.lowercased()) {
            reader.error("\(what) must say why (it is shown in the plan and the report), e.g. secret_in_argv: \"the vendor CLI reads the token only from --token\"", at: node.location)
            return nil
        }
        return text
    }

    private func expectation(_ node: YAMLNode?, _ what: String) -> Expectation {
        var result = Expectation()
        guard let node, !node.isNull, let m = reader.mapping(node, what, allowed: Self.expectKeys) else { return result }
        if let exit = m["exit"] {
            let nodes: [YAMLNode]
            if case .sequence(let items, _) = exit { nodes = items } else { nodes = [exit] }
            let codes = nodes.compactMap { reader.int($0, "each exit code in \(what)", range: 0...255) }
            if codes.count == nodes.count, !codes.isEmpty { result.exitCodes = codes.map(Int32.init) }
            if nodes.isEmpty { reader.error("'exit' of \(what) lists no exit codes", at: exit.location) }
        }
        result.stdoutContains = reader.strings(m["stdout_contains"], "'stdout_contains' of \(what)")
        result.stderrContains = reader.strings(m["stderr_contains"], "'stderr_contains' of \(what)")
        result.stdoutMatches = patterns(m["stdout_matches"], "'stdout_matches' of \(what)")
        result.stderrMatches = patterns(m["stderr_matches"], "'stderr_matches' of \(what)")
        result.json = jsonChecks(m["json"], what)
        return result
    }

    /// `json: {"$.path": value, …}`.
    func jsonChecks(_ node: YAMLNode?, _ what: String) -> [JSONCheck] {
        guard let json = node, !json.isNull else { return [] }
        guard case .mapping(let pairs, _) = json else {
            reader.error("'json' of \(what) must map JSON paths to values, e.g. {\"$.status\": ok}", at: json.location)
            return []
        }
        var checks: [JSONCheck] = []
        for pair in pairs {
            switch JSONPath.parse(pair.key) {
            case .failure(let e): reader.error(e.message, at: pair.keyLocation)
            case .success(let path):
                if let value = reader.string(pair.value, "the value for '\(pair.key)'") {
                    checks.append(JSONCheck(path: path, equals: value))
                }
            }
        }
        return checks
    }

    private func patterns(_ node: YAMLNode?, _ what: String) -> [String] {
        guard let node, !node.isNull else { return [] }
        let items: [YAMLNode]
        if case .sequence(let list, _) = node { items = list } else { items = [node] }
        return items.compactMap { reader.regex($0, what) }
    }

    // MARK: - Backup and inbound

    private func backup(_ node: YAMLNode) -> BackupSpec? {
        guard let m = reader.mapping(node, "'backup'", allowed: ["path", "take", "verify", "restore", "check", "push", "fetch", "on_failure", "on_rollback"]) else { return nil }
        var blocks: [String: CommandBlock] = [:]
        for key in ["take", "verify", "restore"] {
            if let value = m[key], !value.isNull {
                if let block = commandBlock(value, "'backup.\(key)'") { blocks[key] = block }
            } else {
                reader.error("'backup' has no '\(key)' command; a backup needs take, verify and restore", at: m.location)
            }
        }
        var onFailure = BackupSpec.OnFailure.restore
        if let node = m["on_failure"], let text = reader.string(node, "'backup.on_failure'") {
            if let value = BackupSpec.OnFailure(rawValue: text) {
                onFailure = value
            } else {
                reader.error("'backup.on_failure' must be 'restore' or 'stop', not \"\(text)\"", at: node.location)
            }
        }
        var onRollback = RestorePolicy.ask
        if let node = m["on_rollback"], let text = reader.string(node, "'backup.on_rollback'") {
            if let value = RestorePolicy(rawValue: text) {
                onRollback = value
            } else {
                let names = RestorePolicy.allCases.map(\.rawValue)
                reader.error("'backup.on_rollback' must be \(names.joined(separator: ", ")), not \"\(text)\"\(Suggestion.hint(for: text, in: names))", at: node.location)
            }
        }
        let (check, push, fetch) = (optional("check"), optional("push"), optional("fetch"))
        func optional(_ key: String) -> CommandBlock? { m[key].flatMap { $0.isNull ? nil : commandBlock($0, "'backup.\(key)'") } }
        if (push == nil) != (fetch == nil), let node = m[push == nil ? "fetch" : "push"] {
            reader.error("'backup.\(push == nil ? "fetch" : "push")' needs '\(push == nil ? "push" : "fetch")' too: what one copies to shared storage the other brings back", at: node.location)
        }
        guard let take = blocks["take"], let verify = blocks["verify"], let restore = blocks["restore"] else { return nil }
        return BackupSpec(path: reader.template(m["path"], "'backup.path'"), take: take, verify: verify,
                          restore: restore, check: check, push: push, fetch: fetch, onFailure: onFailure, onRollback: onRollback,
                          location: m.location)
    }

    private func inbound(_ node: YAMLNode) -> InboundSpec? {
        guard let m = reader.mapping(node, "'inbound'", allowed: ["disable", "enable", "status", "drain"]) else { return nil }
        var blocks: [String: CommandBlock] = [:]
        for key in ["disable", "enable"] {
            if let value = m[key], !value.isNull {
                blocks[key] = commandBlock(value, "'inbound.\(key)'")
            } else {
                reader.error("'inbound' has no '\(key)' command; the guard needs disable, enable and status", at: m.location)
            }
        }
        var status: StatusCheck? = nil
        if let node = m["status"], !node.isNull {
            let waitKeys = ["enabled", "disabled", "wait", "interval"]
            if let block = commandBlock(node, "'inbound.status'", extraKeys: waitKeys), let sm = node.pairs.map({ NodeReader.Mapping(pairs: $0, location: node.location) }) {
                let enabled = sm["enabled"].map { expectation($0, "'inbound.status.enabled'") }
                let disabled = sm["disabled"].map { expectation($0, "'inbound.status.disabled'") }
                if enabled == nil || disabled == nil {
                    // Both, so each state is seen, never inferred from output that matched neither.
                    reader.error("'inbound.status' needs both 'enabled' and 'disabled' (expectations on its output) to tell the two states apart", at: node.location)
                }
                status = StatusCheck(block: block, enabled: enabled, disabled: disabled,
                                     timeoutMs: reader.duration(sm["wait"], "'inbound.status.wait'") ?? 60_000,
                                     intervalMs: reader.duration(sm["interval"], "'inbound.status.interval'") ?? 2_000)
            } else if case .sequence = node {
                reader.error("'inbound.status' must be a mapping with 'run' and 'enabled'/'disabled' expectations", at: node.location)
            }
        } else {
            reader.error("'inbound' has no 'status' command; deployctl verifies every switch it flips", at: m.location)
        }
        var drain: DrainCheck? = nil
        if let node = m["drain"], !node.isNull {
            if let block = commandBlock(node, "'inbound.drain'", extraKeys: ["until", "wait", "interval"]),
               let dm = node.pairs.map({ NodeReader.Mapping(pairs: $0, location: node.location) }) {
                if let until = dm["until"] {
                    drain = DrainCheck(block: block, until: expectation(until, "'inbound.drain.until'"),
                                       timeoutMs: reader.duration(dm["wait"], "'inbound.drain.wait'") ?? 600_000,
                                       intervalMs: reader.duration(dm["interval"], "'inbound.drain.interval'") ?? 5_000)
                } else {
                    reader.error("'inbound.drain' needs 'until' (an expectation that says the queue is empty)", at: node.location)
                }
            }
        }
        guard let disable = blocks["disable"], let enable = blocks["enable"], let status else { return nil }
        return InboundSpec(disable: disable, enable: enable, status: status, drain: drain, location: m.location)
    }

    // MARK: - Review

    private func manual(_ node: YAMLNode?) -> [ManualItem] {
        guard let node, !node.isNull else { return [] }
        guard case .sequence(let items, _) = node else {
            reader.error("'manual' must be a list of checklist items, not \(node.kindName)", at: node.location)
            return []
        }
        return items.compactMap { item in
            if case .scalar = item { return reader.string(item, "a manual item").map { ManualItem(text: $0, section: nil) } }
            guard let m = reader.mapping(item, "a manual item", allowed: ["item", "section"]) else { return nil }
            guard let text = reader.string(m["item"], "'item' of a manual item") else {
                reader.error("a manual item needs 'item' (the text a person confirms)", at: m.location)
                return nil
            }
            return ManualItem(text: text, section: reader.string(m["section"], "'section' of a manual item"))
        }
    }

    private func readiness(_ node: YAMLNode) -> Readiness? {
        guard let m = reader.mapping(node, "'readiness'", allowed: ["categories", "scale", "pass"]) else { return nil }
        let categories = reader.strings(m["categories"], "'readiness.categories'")
        let scale = reader.int(m["scale"], "'readiness.scale'", range: 2...100) ?? 5
        guard !categories.isEmpty else {
            reader.error("'readiness' needs 'categories' (the names people rate)", at: m.location)
            return nil
        }
        let maximum = categories.count * scale
        guard let passNode = m["pass"], let pass = reader.int(passNode, "'readiness.pass'", range: 0...10_000) else {
            if m["pass"] == nil { reader.error("'readiness' needs 'pass' (the lowest passing score out of \(maximum))", at: m.location) }
            return nil
        }
        if pass > maximum {
            reader.error("'readiness.pass' is \(pass) but the most a run can score is \(maximum) (\(categories.count) categories × \(scale))", at: passNode.location)
        }
        return Readiness(categories: categories, scale: scale, pass: pass)
    }
}

/// Regular expressions in descriptors (input patterns, `*_matches`), in Swift's Regex dialect
/// (Perl/ICU-style syntax). Swift Regex rather than NSRegularExpression: the first
/// NSRegularExpression in a process spends ~2 ms building ICU's static sets, a tenth of a plan.
enum Regex {
    static func isValid(_ pattern: String) -> Bool {
        compiled(pattern) != nil
    }

    /// The whole value matches.
    static func wholeMatch(_ pattern: String, _ value: String) -> Bool {
        guard let regex = compiled(pattern) else { return false }
        return (try? regex.wholeMatch(in: value)) != nil
    }

    /// Some part of the text matches; `^` and `$` also match at line boundaries.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        guard let regex = compiled(pattern) else { return false }
        return (try? regex.anchorsMatchLineEndings().firstMatch(in: text)) != nil
    }

    /// Each pattern parsed once per process: a descriptor's pattern is checked when it is decoded
    /// and used again for its input or probe (Swift's regex parser: ~700,000 instructions for a
    /// short pattern), and a probe checks its body on every attempt.
    private static func compiled(_ pattern: String) -> _StringProcessing.Regex<AnyRegexOutput>? {
        if let known = cache.withLock({ $0[pattern] }) { return known.regex }
        let regex = try? _StringProcessing.Regex(pattern)
        cache.withLock { patterns in
            if patterns.count >= 512 { patterns.removeAll() }
            patterns[pattern] = Compiled(regex: regex)
        }
        return regex
    }

    private struct Compiled: @unchecked Sendable {
        let regex: _StringProcessing.Regex<AnyRegexOutput>?
    }

    private static let cache = Mutex<[String: Compiled]>([:])
}
