import Foundation

/// Which stream a chunk of output came from.
public enum OutputChannel: String, Sendable, Codable {
    case stdout, stderr
}

/// Receives a step's output lines as they arrive (already redacted), for the terminal.
public protocol OutputObserver: AnyObject, Sendable {
    func line(_ text: String, stream: OutputChannel)
}

/// Everything a step prints goes through here exactly once: redacted, appended to the step's
/// log file, kept as a bounded tail for the journal and the expectations, split into lines
/// for whoever watches. Memory stays bounded whatever the step prints.
public final class OutputCapture: @unchecked Sendable {
    public static let tailLimit = 64 * 1024
    static let lineLimit = 8 * 1024

    private var redactors: [OutputChannel: Redactor]
    private var partial: [OutputChannel: [UInt8]] = [.stdout: [], .stderr: []]
    private var combined = TailBuffer(limit: OutputCapture.tailLimit)
    private var tails: [OutputChannel: TailBuffer] = [.stdout: TailBuffer(limit: OutputCapture.tailLimit), .stderr: TailBuffer(limit: OutputCapture.tailLimit)]
    private var searches: [OutputChannel: [StreamingSearch]]
    private let logPath: String?
    private var log: FileHandle?
    private let observer: OutputObserver?
    public private(set) var bytes: [OutputChannel: Int] = [.stdout: 0, .stderr: 0]

    /// `contains` lists the literal texts to look for in each stream over its whole length.
    public init(secrets: [String], logPath: String?, observer: OutputObserver?, contains: [OutputChannel: [String]] = [:]) {
        let redactor = Redactor(secrets: secrets)
        redactors = [.stdout: redactor, .stderr: redactor]
        searches = [.stdout: (contains[.stdout] ?? []).map(StreamingSearch.init), .stderr: (contains[.stderr] ?? []).map(StreamingSearch.init)]
        self.observer = observer
        self.logPath = logPath
    }

    /// The log file is made by the first byte the step prints: a silent step (most no-op and
    /// remote steps) leaves no empty file to create and compress, for every step and host.
    /// One open(2): FileManager.createFile writes a temporary file and renames it, three more
    /// system calls. No handle if it failed (the reader finds no file and says so).
    private func openLog() {
        guard log == nil, let path = logPath else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        log = fd >= 0 ? FileHandle(fileDescriptor: fd, closeOnDealloc: true) : nil
    }

    /// True when the step printed nothing on either stream (so it has no log file).
    public var printedNothing: Bool { bytes.values.allSatisfy { $0 == 0 } }

    /// Called from the reader with raw bytes.
    public func consume(_ raw: UnsafeRawBufferPointer, from stream: OutputChannel) {
        let clean = redactors[stream]!.feed(raw)
        accept(clean, from: stream)
    }

    /// Flushes what the redactors held back and any unterminated last line; closes the log.
    public func finish() {
        for stream in [OutputChannel.stdout, .stderr] {
            let rest = redactors[stream]!.finish()
            accept(rest, from: stream)
            if let last = partial[stream], !last.isEmpty {
                observer?.line(String(decoding: last, as: UTF8.self), stream: stream)
                partial[stream] = []
            }
        }
        try? log?.close()
    }

    private func accept(_ clean: [UInt8], from stream: OutputChannel) {
        guard !clean.isEmpty else { return }
        if printedNothing { openLog() }
        bytes[stream, default: 0] += clean.count
        try? log?.write(contentsOf: clean)  // a full disk must not crash the run mid-step
        combined.append(clean)
        tails[stream]!.append(clean)
        for index in searches[stream]!.indices { searches[stream]![index].feed(clean) }
        if observer != nil { splitLines(clean, from: stream) }
    }

    private func splitLines(_ clean: [UInt8], from stream: OutputChannel) {
        var buffer = partial[stream]!
        var start = 0
        clean.withUnsafeBytes { raw in
            while start < raw.count, let found = memchr(raw.baseAddress! + start, 10, raw.count - start) {
                let index = raw.baseAddress!.distance(to: UnsafeRawPointer(found))
                buffer += clean[start..<index]
                observer?.line(String(decoding: buffer, as: UTF8.self), stream: stream)
                buffer.removeAll(keepingCapacity: true)
                start = index + 1
            }
        }
        buffer += clean[start...]
        if buffer.count > Self.lineLimit {
            observer?.line(String(decoding: buffer, as: UTF8.self) + "…", stream: stream)
            buffer.removeAll(keepingCapacity: true)
        }
        partial[stream] = buffer
    }

    /// The last 64 KiB of both streams as they interleaved (redacted): what the journal keeps.
    public var tail: String { String(decoding: combined.contents, as: UTF8.self) }

    public func tail(of stream: OutputChannel) -> String { String(decoding: tails[stream]!.contents, as: UTF8.self) }

    /// True when the whole stream had more than the tail holds.
    public func truncated(_ stream: OutputChannel) -> Bool { (bytes[stream] ?? 0) > Self.tailLimit }

    public func found(_ needle: String, in stream: OutputChannel) -> Bool {
        searches[stream]!.first { $0.needle == Array(needle.utf8) }?.found ?? false
    }
}

/// The last `limit` bytes of a stream, in a fixed ring buffer.
struct TailBuffer {
    let limit: Int
    private var storage: [UInt8] = []
    /// Where the next byte goes once the buffer is full (also the oldest byte).
    private var next = 0

    init(limit: Int) { self.limit = limit }

    mutating func append(_ bytes: [UInt8]) {
        var input = bytes[...]
        if input.count >= limit { input = input.suffix(limit) }
        if storage.count < limit {
            let room = limit - storage.count
            storage += input.prefix(room)
            input = input.dropFirst(room)
            if input.isEmpty { return }
        }
        while !input.isEmpty {
            let run = min(input.count, limit - next)
            storage.withUnsafeMutableBufferPointer { buffer in
                _ = UnsafeMutableBufferPointer(rebasing: buffer[next..<(next + run)]).initialize(from: input.prefix(run))
            }
            next = (next + run) % limit
            input = input.dropFirst(run)
        }
    }

    var contents: [UInt8] {
        storage.count < limit ? storage : Array(storage[next...] + storage[..<next])
    }
}

/// Whether a literal appears anywhere in a stream read in chunks (it may straddle two).
struct StreamingSearch {
    let needle: [UInt8]
    private(set) var found = false
    private var carry: [UInt8] = []

    init(_ text: String) { needle = Array(text.utf8) }

    mutating func feed(_ chunk: [UInt8]) {
        guard !found, !needle.isEmpty else { found = found || needle.isEmpty; return }
        let haystack = carry + chunk
        if haystack.count >= needle.count {
            let last = haystack.count - needle.count
            var i = 0
            while i <= last {
                if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) {
                    found = true
                    return
                }
                i += 1
            }
        }
        carry = Array(haystack.suffix(needle.count - 1))
    }
}
