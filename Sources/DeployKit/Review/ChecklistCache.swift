import Foundation

/// The checklist an up run's descriptor asks for, kept in the state directory by the run's
/// revision and target: both name immutable bytes, so `status` and `show` print a deployed run's
/// review without parsing its descriptor again (that parse was ~4 ms, a sixth of a `status`).
/// Also keyed by `StateDirectory.cacheStamp` (this build, the limits); anything unreadable, or
/// written for another key, is a miss. One file per target, holding the newest read: it does not
/// grow with deploys or builds. Only for display: whoever edits the state directory can change
/// it, so a gate (promotion) and review records read the descriptor itself.
struct ChecklistCache {
    let file: String?
    private let key: String

    init(state: StateDirectory, revision: String, target: String) {
        let key = [Self.header, CacheFields.escape(StateDirectory.cacheStamp), revision, CacheFields.escape(target)].joined(separator: "\t")
        self.key = key
        file = state.directory("cache").map { "\($0)/checklist-\(StateDirectory.fingerprint(target)).tsv" }
    }

    private static let header = "deployctl checklist 1"

    // The key line, then one line a fact: `manual` (section as `-` for none or `=NAME`, text),
    // `signoff` (role), `readiness` (scale, pass, categories…).
    func load() -> Checklist? {
        guard let file, let data = FileManager.default.contents(atPath: file) else { return nil }
        let lines = [UInt8](data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard let first = lines.first, String(decoding: first, as: UTF8.self) == key, lines.last?.isEmpty == true else { return nil }
        var checklist = Checklist(manual: [], signoff: [], readiness: nil)
        for line in lines.dropFirst().dropLast() {
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map(CacheFields.unescape)
            switch (fields.first, fields.count) {
            case ("manual", 3) where fields[1] == "-" || fields[1].hasPrefix("="):
                checklist.manual.append(ManualItem(text: fields[2], section: fields[1] == "-" ? nil : String(fields[1].dropFirst())))
            case ("signoff", 2):
                checklist.signoff.append(fields[1])
            case ("readiness", 3...):
                guard checklist.readiness == nil, let scale = Int(fields[1]), let pass = Int(fields[2]) else { return nil }
                checklist.readiness = Readiness(categories: Array(fields.dropFirst(3)), scale: scale, pass: pass)
            default:
                return nil
            }
        }
        return checklist
    }

    /// Written whole and renamed into place: a reader sees the old file, the new one or none.
    func save(_ checklist: Checklist) {
        guard let file else { return }
        var lines = [key]
        lines += checklist.manual.map { ["manual", $0.section.map { "=" + $0 } ?? "-", $0.text].map(CacheFields.escape).joined(separator: "\t") }
        lines += checklist.signoff.map { "signoff\t" + CacheFields.escape($0) }
        if let readiness = checklist.readiness {
            lines.append((["readiness", "\(readiness.scale)", "\(readiness.pass)"] + readiness.categories.map(CacheFields.escape)).joined(separator: "\t"))
        }
        try? (lines.joined(separator: "\n") + "\n").utf8Data.write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
