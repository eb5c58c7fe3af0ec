import Foundation

/// What `stacks` shows of each target (its description, whether it is valid), kept by the blob
/// ids of every file the target was read from: a repository of hundreds of stacks is listed
/// without parsing what has not changed. Results depend only on those bytes, the limits in the
/// environment and the deployctl build, so all three key it; anything unreadable is a miss.
struct StackSummaryCache {
    struct Record: Codable {
        /// Every file the target was read from (the environment file and what it extends) → blob id.
        var files: [String: String]
        var description: String?
        var valid: Bool
    }

    private struct Contents: Codable {
        var build: String
        var records: [String: Record]
    }

    let file: String?

    init(state: StateDirectory) {
        file = state.directory("cache").map { "\($0)/stacks.json" }
    }

    /// The records, keyed by environment file path, when written by this build with these limits.
    func load() -> [String: Record] {
        guard let file, let data = FileManager.default.contents(atPath: file),
              let contents = try? JSONDecoder().decode(Contents.self, from: data), contents.build == Self.build else { return [:] }
        return contents.records
    }

    /// Replaces the cache with `records` (only what this listing saw: nothing grows unbounded).
    func save(_ records: [String: Record]) {
        guard let file, let data = try? JSONEncoder().encode(Contents(build: Self.build, records: records)) else { return }
        try? data.write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    /// This binary (size and modification time of /proc/self/exe) and the limits that change a verdict.
    static let build: String = {
        var info = stat()
        let binary = stat("/proc/self/exe", &info) == 0 ? "\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)" : UUID().uuidString
        let environment = ProcessInfo.processInfo.environment
        return [binary, environment["DEPLOYCTL_MAX_STEPS"] ?? "", environment["DEPLOYCTL_YAML_MAX_NODES"] ?? ""].joined(separator: "|")
    }()
}
