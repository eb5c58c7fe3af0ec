import Foundation
import GitKit

/// The files on disk that path patterns match, as git would store them (blob id and mode):
/// what `plan --worktree --against REV` compares with a commit. `.git` is never entered, and
/// what git ignores (`__pycache__`, build output) is not a change.
enum WorktreeFiles {
    static func files(in root: String, matching patterns: [PathPattern], repository: Repository) -> [String: FileState] {
        var found: [String: FileState] = [:]
        let manager = FileManager.default
        for directory in Set(patterns.map(\.literalPrefix)) {
            let start = ([root] + directory).joined(separator: "/")
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: start, isDirectory: &isDirectory) else { continue }
            var relativePaths: [String] = [""]
            if isDirectory.boolValue, let walk = manager.enumerator(atPath: start) {
                relativePaths = []
                while let relative = walk.nextObject() as? String {
                    let full = (directory + [relative]).joined(separator: "/")
                    if relative.split(separator: "/").last == ".git" || repository.isIgnored(full) { walk.skipDescendants(); continue }
                    relativePaths.append(relative)
                }
            }
            for relative in relativePaths {
                let components = directory.map { Substring($0) } + relative.split(separator: "/")
                guard patterns.contains(where: { $0.matches(components) }) else { continue }
                let path = start + (relative.isEmpty ? "" : "/" + relative)
                guard let attributes = try? manager.attributesOfItem(atPath: path), let type = attributes[.type] as? FileAttributeType,
                      type == .typeRegular || type == .typeSymbolicLink else { continue }
                let mode: UInt32 = type == .typeSymbolicLink ? 0o120000
                    : ((attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0) & 0o111 != 0 ? 0o100755 : 0o100644
                let bytes = type == .typeSymbolicLink ? Array(((try? manager.destinationOfSymbolicLink(atPath: path)) ?? "").utf8)
                    : [UInt8](manager.contents(atPath: path) ?? Data())
                found[components.joined(separator: "/")] = FileState(id: .blob(of: bytes), mode: mode)
            }
        }
        return found
    }
}
