import Foundation

/// Where an input's value came from, for plans and reports.
public enum InputSource: String, Sendable, Codable {
    case flag = "--input"
    case file = "--input-file"
    case environment = "environment"
    case defaultValue = "default"
}

public struct ResolvedInput: Sendable, Hashable {
    public let name: String
    public let value: String
    public let source: InputSource
}

/// What the person supplied: `--input KEY=VALUE` flags, an `--input-file`, the environment.
public struct InputSupply: Sendable {
    public var flags: [(key: String, value: String)]
    public var file: InputFile?
    public var environment: [String: String]

    public init(flags: [(key: String, value: String)] = [], file: InputFile? = nil, environment: [String: String] = [:]) {
        self.flags = flags
        self.file = file
        self.environment = environment
    }

    /// Parses `KEY=VALUE` flags; a flag without `=` is an error naming it.
    public static func parseFlags(_ raw: [String]) throws -> [(key: String, value: String)] {
        try raw.map { flag in
            guard let equals = flag.firstIndex(of: "="), equals != flag.startIndex else {
                throw DeployError(.usage, "--input \(flag) is not KEY=VALUE", next: ["e.g. --input tenant=acme"])
            }
            return (String(flag[..<equals]), String(flag[flag.index(after: equals)...]))
        }
    }
}

/// The environment variable an input can always be given by: `DEPLOYCTL_INPUT_<NAME>`.
public func inputEnvironmentVariable(_ name: String) -> String {
    "DEPLOYCTL_INPUT_" + name.uppercased()
}

/// Resolves each declared input from, in order of precedence: `--input`, `--input-file`, the
/// environment (`env:` of the input, then `DEPLOYCTL_INPUT_<NAME>`), the default. Reports every
/// missing required input and every pattern mismatch at once.
public struct InputResolver {
    public let descriptor: StackDescriptor

    public init(descriptor: StackDescriptor) {
        self.descriptor = descriptor
    }

    /// Every problem, a missing required input included, as an error.
    public func resolve(_ supply: InputSupply) -> (inputs: [ResolvedInput], diagnostics: [Diagnostic]) {
        let (inputs, problems, missing) = resolveLeavingMissing(supply)
        var diagnostics = problems
        if !missing.isEmpty {
            let names = missing.map(\.name).joined(separator: ", ")
            for spec in missing {
                let about = spec.description.map { " (\($0))" } ?? ""
                diagnostics.append(.error("required input '\(spec.name)'\(about) is missing; give --input \(spec.name)=VALUE, an --input-file line, or \(spec.env ?? inputEnvironmentVariable(spec.name))", at: spec.location))
            }
            diagnostics.append(.error("\(missing.count) required input(s) missing: \(names)", at: nil))
        }
        return (inputs, diagnostics)
    }

    /// The problems with what was given, and apart from them the required inputs that have no
    /// value anywhere: for `validate`, which may not be where they are given.
    public func resolveLeavingMissing(_ supply: InputSupply) -> (inputs: [ResolvedInput], diagnostics: [Diagnostic], missing: [InputSpec]) {
        var diagnostics: [Diagnostic] = []
        let declared = descriptor.inputs.map(\.name)
        for (key, _) in supply.flags where !declared.contains(key) {
            diagnostics.append(.error("--input \(key)=…: the descriptor declares no input '\(key)'\(Suggestion.hint(for: key, in: declared))"
                                      + (declared.isEmpty ? "" : "; inputs: \(declared.joined(separator: ", "))"), at: nil))
        }
        if let file = supply.file {
            for (key, entry) in file.values.sorted(by: { $0.value.line < $1.value.line }) where !declared.contains(key) {
                diagnostics.append(.error("input file sets '\(key)', which the descriptor does not declare\(Suggestion.hint(for: key, in: declared))",
                                          at: FileLocation(file: file.path, line: entry.line, column: 1)))
            }
        }
        var resolved: [ResolvedInput] = []
        var missing: [InputSpec] = []
        for spec in descriptor.inputs {
            let value: (String, InputSource)?
            if let flag = supply.flags.last(where: { $0.key == spec.name }) {
                value = (flag.value, .flag)
            } else if let entry = supply.file?.values[spec.name] {
                value = (entry.value, .file)
            } else if let name = spec.env, let env = supply.environment[name] {
                value = (env, .environment)
            } else if let env = supply.environment[inputEnvironmentVariable(spec.name)] {
                value = (env, .environment)
            } else if let fallback = spec.defaultValue {
                value = (fallback, .defaultValue)
            } else {
                value = nil
            }
            guard let (text, source) = value else {
                if spec.required { missing.append(spec) }
                continue
            }
            if let pattern = spec.pattern, !Regex.wholeMatch(pattern, text) {
                diagnostics.append(.error("input '\(spec.name)' is \"\(text)\" (from \(source.rawValue)), which does not match /\(pattern)/", at: spec.location))
            }
            resolved.append(ResolvedInput(name: spec.name, value: text, source: source))
        }
        return (resolved, diagnostics, missing)
    }
}

/// An `--input-file`: `KEY=VALUE` lines (dotenv style; `#` comments; optional quotes), the
/// format of seed 002's per-tenant "Required Inputs" sheets.
public struct InputFile: Sendable {
    public struct Entry: Sendable { public let value: String; public let line: Int }

    public let path: String
    public let values: [String: Entry]

    /// `--input-file PATH`: a regular file or a pipe (`<(…)`) of at most 16 MiB, read and
    /// parsed; a usage error (exit 2) that names the file otherwise.
    public static func load(_ path: String) throws -> InputFile {
        let next = ["check the path; the file holds KEY=VALUE lines"]
        let bytes: [UInt8]
        do {
            guard let read = try BoundedFile.read(path, limit: 16 << 20, pipes: true) else {
                throw DeployError(.usage, "--input-file \(path) does not exist", next: next)
            }
            bytes = read
        } catch let refusal as BoundedFile.Refusal {
            throw DeployError(.usage, "cannot read --input-file: \(refusal)", next: next)
        }
        switch parse(String(decoding: bytes, as: UTF8.self), path: path) {
        case .success(let parsed): return parsed
        case .failure(let diagnostic): throw DeployError(.usage, "--input-file \(path) is not KEY=VALUE lines", diagnostics: [diagnostic])
        }
    }

    public static func parse(_ text: String, path: String) -> Result<InputFile, Diagnostic> {
        var values: [String: Entry] = [:]
        // "\r\n" is one Character in Swift: a file saved with Windows line ends splits there too.
        for (offset, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            var line = rawLine.trimmingBlanks
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                return .failure(.error("expected KEY=VALUE, found \"\(line)\"", at: FileLocation(file: path, line: offset + 1, column: 1)))
            }
            let key = line[..<equals].trimmingBlanks
            var value = line[line.index(after: equals)...].trimmingBlanks
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = Entry(value: value, line: offset + 1)
        }
        return .success(InputFile(path: path, values: values))
    }
}
