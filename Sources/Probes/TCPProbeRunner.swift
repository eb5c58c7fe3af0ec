import Foundation
import Glibc

extension TCPProbe {
    func run() async -> ProbeResult {
        let (host, port, timeoutMs) = (self.host, self.port, self.timeoutMs)
        let outcome = try? await Curl.offPool { TCPConnect.connect(host: host, port: port, timeoutMs: timeoutMs) }
        switch outcome ?? .failure(TCPConnect.Failure("could not start")) {
        case .success(let ms):
            return ProbeResult(measurements: [ProbeMeasurement("connect", Percentiles.format(ms), expected: "≤ \(timeoutMs)", unit: "ms", ok: true)])
        case .failure(let failure):
            return ProbeResult(measurements: [ProbeMeasurement("connect", "failed: \(failure.reason)", expected: "connected within \(timeoutMs) ms", ok: false)])
        }
    }
}

/// A plain TCP connect with a deadline, every resolved address in turn (no library needed).
enum TCPConnect {
    struct Failure: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Milliseconds to the first address that accepts. Blocking.
    static func connect(host: String, port: Int, timeoutMs: Int) -> Result<Double, Failure> {
        let clock = ContinuousClock(), start = clock.now
        let deadline = start + .milliseconds(timeoutMs)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { return .failure(Failure("cannot resolve \(host): \(String(cString: gai_strerror(status)))")) }
        defer { freeaddrinfo(list) }
        var last = Failure("no address for \(host)")
        for address in sequence(first: first, next: { $0.pointee.ai_next }) {
            let remaining = clock.now.duration(to: deadline).milliseconds
            guard remaining > 0 else { return .failure(Failure("connection timed out")) }
            switch attempt(address.pointee, timeoutMs: Int32(remaining.rounded(.up))) {
            case .success: return .success((clock.now - start).milliseconds)
            case .failure(let failure): last = failure
            }
        }
        return .failure(last)
    }

    private static func attempt(_ address: addrinfo, timeoutMs: Int32) -> Result<Void, Failure> {
        let fd = socket(address.ai_family, address.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), address.ai_protocol)
        guard fd >= 0 else { return .failure(Failure(String(cString: strerror(errno)))) }
        defer { close(fd) }
        if Glibc.connect(fd, address.ai_addr, address.ai_addrlen) == 0 { return .success(()) }
        guard errno == EINPROGRESS else { return .failure(Failure(String(cString: strerror(errno)).lowercased())) }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&poller, 1, timeoutMs)
        guard ready > 0 else { return .failure(Failure("connection timed out")) }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? .success(()) : .failure(Failure(String(cString: strerror(error)).lowercased()))
    }
}
