import Foundation

/// This process's environment, read once, straight from `environ`. Foundation's
/// `ProcessInfo.environment` builds a new dictionary on every call, finding each `=` Character
/// by Character (for 38 variables: ~1.5 M instructions the first time, ~180,000 each time after),
/// and a `plan` asked for it seven times.
/// deployctl never changes its own environment; steps get theirs built from this. A name listed
/// twice reads as its first entry, as `getenv` (and so libgit2, libcurl, libpq) reads it;
/// Foundation's dictionary kept the last.
public enum ProcessEnvironment {
    public static let current: [String: String] = {
        var variables: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let bytes = UnsafeRawBufferPointer(start: pointer, count: strlen(pointer))
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(decoding: bytes[..<equals], as: UTF8.self)
                if variables[name] == nil { variables[name] = String(decoding: bytes[(equals + 1)...], as: UTF8.self) }
            }
            entry += 1
        }
        return variables
    }()
}
