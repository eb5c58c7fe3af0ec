import DeployKit
import Foundation
import FuzzSupport
@_spi(Fuzzing) import GitKit

/// The parsers a descriptor (anyone's proposal) reaches, and the git objects it arrives in, driven by arbitrary bytes: the first
/// byte picks the parser, the rest is its text. `make fuzz` links this with libFuzzer
/// (-sanitize=fuzzer, FUZZING defined); otherwise it replays the files it is given, which is
/// how every input that once crashed stays a regression test (Tests/Fuzz/Regressions).
enum FuzzEntry {
    enum Parser: UInt8, CaseIterable {
        case descriptor, template, condition, duration, jsonPath
        /// GitKit's native reader: what a commit, a tree or a delta in a pull request's objects holds.
        case gitCommit, gitTree, gitDelta
    }

    static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let first = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch Parser(rawValue: first % UInt8(Parser.allCases.count))! {
        case .descriptor: descriptor(text)
        case .template: template(text)
        case .condition: condition(text)
        case .duration: _ = DurationValue.parse(text)
        case .jsonPath: jsonPath(text)
        case .gitCommit: NativeParsers.commit(Array(bytes.dropFirst()))
        case .gitTree: NativeParsers.tree(Array(bytes.dropFirst()))
        case .gitDelta: NativeParsers.delta(Array(bytes.dropFirst()))
        }
    }

    static func lookup(_ reference: Reference) -> String? {
        reference.name.hasPrefix("empty") ? "" : "\(reference.namespace)-\(reference.name)"
    }

    /// Load (decode and validate), then plan and render what loaded: the whole pure path.
    static func descriptor(_ text: String) {
        let result = DescriptorLoader { $0 == "stacks/x/prod.yaml" ? text : nil }.load(stack: "x", environment: "prod")
        guard let d = result.descriptor else { return }
        let environment = ["HOME": "/root", "PATH": "/usr/bin"]
        let inputs = InputResolver(descriptor: d).resolveLeavingMissing(InputSupply(environment: environment)).inputs
        let secrets = SecretResolver(descriptor: d) { _ in "file-secret" }.resolve(environment: environment).secrets
        let context = PlanContext(revision: String(repeating: "ab", count: 20), revisionSubject: "fuzz", revisionAuthor: "fuzz",
                                  descriptorBlob: String(repeating: "cd", count: 20), inputs: inputs, secrets: secrets,
                                  environment: environment, stateDirectory: "/state", runID: "R1", operatorName: "fuzz@host")
        let (plan, _) = Planner.plan(d, context)
        _ = PlanRenderer.text(plan)
        _ = try? PlanRenderer.json(plan)
    }

    static func template(_ text: String) {
        guard case .success(let template) = Template.parse(text, at: FileLocation(file: "f", line: 1, column: 1)) else { return }
        for mode in [Interpolator.SecretMode.mask, .reveal] {
            var interpolator = Interpolator(inputs: ["a": "1"], secrets: ["s": "x"], environment: ["E": "e"],
                                            run: ["id": "R1"], backupPath: "/b", mode: mode)
            _ = interpolator.render(template)
        }
    }

    static func condition(_ text: String) {
        guard case .success(let condition) = Condition.parse(text) else { return }
        _ = condition.evaluate(lookup)
    }

    nonisolated(unsafe) static let document: Any = try! JSONSerialization.jsonObject(with: Data(#"{"a": {"b": [1, {"c": "d"}], "e.f": true}, "g": null}"#.utf8))

    static func jsonPath(_ text: String) {
        guard case .success(let path) = JSONPath.parse(text) else { return }
        _ = path.lookup(in: document)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.run(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

@main struct FuzzMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) })
        #else
        // Replay: every file named (or every file in a named directory) once; a crash is the failure.
        let paths = CommandLine.arguments.dropFirst().flatMap { path -> [String] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
            return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" }
        }
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: deployctl-fuzz FILE|DIR… (replays inputs; `make fuzz` builds the fuzzing binary)\n".utf8))
            exit(2)
        }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("deployctl-fuzz: cannot read \(path)\n".utf8))
                exit(2)
            }
            data.withUnsafeBytes { FuzzEntry.run($0.bindMemory(to: UInt8.self)) }
        }
        print("replayed \(paths.count) input(s)")
        #endif
    }
}
