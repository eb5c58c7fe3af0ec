import Foundation

/// Finds the executable a command names the way the system would start it: a path (absolute, or
/// relative to the step's directory), or the first match on `PATH`. Doctor and the rollback
/// preflight ask the same question.
enum ProgramLookup {
    enum Missing: Error, CustomStringConvertible {
        case notExecutable(String)
        case notInTree(String, at: String)
        case notOnPath(String)

        var description: String {
            switch self {
            case .notExecutable(let program): return "\(program) is not an executable file"
            case .notInTree(let program, let full): return "\(program) is not an executable file in the revision's tree (\(full))"
            case .notOnPath(let program): return "\(program) is not on PATH"
            }
        }
    }

    static func find(_ program: String, directory: String?, path: String) -> Result<String, Missing> {
        let manager = FileManager.default
        if program.hasPrefix("/") {
            return manager.isExecutableFile(atPath: program) ? .success(program) : .failure(.notExecutable(program))
        }
        if program.contains("/") {
            let full = (directory ?? manager.currentDirectoryPath) + "/" + program
            return manager.isExecutableFile(atPath: full) ? .success(full) : .failure(.notInTree(program, at: full))
        }
        guard let found = path.split(separator: ":").map({ "\($0)/\(program)" }).first(where: { manager.isExecutableFile(atPath: $0) }) else {
            return .failure(.notOnPath(program))
        }
        return .success(found)
    }
}
