import Foundation

/// Files of this repository (the real `stacks/`, the stand-in CLIs), for tests that run them.
public enum RepositoryFiles {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every file under `directory` (relative to the repository root), keyed by its path.
    public static func files(under directory: String) throws -> [String: String] {
        var files: [String: String] = [:]
        let base = root.appendingPathComponent(directory)
        let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true else { continue }
            let relative = directory + "/" + url.path.dropFirst(base.path.count + 1)
            files[relative] = try String(contentsOf: url, encoding: .utf8)
        }
        return files
    }

    /// The stand-ins for CLIs that cannot run here (Tests/stand-ins), for the front of PATH.
    public static var standIns: String { root.appendingPathComponent("Tests/stand-ins").path }
}
