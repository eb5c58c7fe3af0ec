/// A target's descriptor at one revision with journaled inputs (a run's, not the command
/// line's) and secrets from the environment, planned masked and revealed: what resume, rollback
/// and the inbound commands run from.
struct ResolvedRevision {
        let revision: PinnedRevision
        let descriptor: StackDescriptor
        let masked: Plan
        let revealed: Plan
        let secrets: [ResolvedSecret]

        init(workspace: Workspace, entry: StackCatalog.Entry, revision: PinnedRevision, inputs: [String: String], runID: String, kind: String) throws {
            self.revision = revision
            descriptor = try workspace.load(entry, at: revision)
            let flags = inputs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            let (resolved, inputProblems) = InputResolver(descriptor: descriptor).resolve(InputSupply(flags: flags, environment: workspace.environment))
            let (secrets, secretProblems) = SecretResolver(descriptor: descriptor) { try? String(contentsOfFile: $0, encoding: .utf8) }
                .resolve(environment: workspace.environment)
            if (inputProblems + secretProblems).hasErrors {
                throw DeployError(.usage, "cannot run \(entry.target) with the descriptor at \(revision.short): its inputs or secrets are missing or unacceptable; nothing was changed",
                                  diagnostics: inputProblems + secretProblems)
            }
            self.secrets = secrets
            var context = PlanContext(revision: revision.sha, revisionSubject: revision.commit.subject, revisionAuthor: revision.commit.authorName,
                                      descriptorBlob: try workspace.stacks.blobID(entry.path, at: revision), inputs: resolved, secrets: secrets,
                                      environment: workspace.environment, stateDirectory: workspace.stateDirectory, runID: runID,
                                      operatorName: workspace.operatorName)
            context.runKind = kind
            (masked, revealed) = try RunSession.plans(descriptor, context, target: entry.target)
        }

        func steps(tree: String) -> RunnableSteps {
            RunnableSteps(descriptor: descriptor, masked: masked, revealed: revealed, tree: tree)
        }
    }
