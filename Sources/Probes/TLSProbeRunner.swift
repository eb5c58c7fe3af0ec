import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import X509

extension TLSProbe {
    var name: String { serverName ?? host }

    func run() async -> ProbeResult {
        let certificate: NIOSSLCertificate
        do {
            // First handshake without verification: the certificate is read even when it is
            // expired or for another name, so the report says which.
            certificate = try await TLSHandshake.peerCertificate(host: host, port: port, serverName: name,
                                                                 options: TLSOptions(verify: false), timeoutMs: timeoutMs)
        } catch {
            return ProbeResult(unavailable: "TLS handshake with \(host):\(port) failed: \(ProbeError.describe(error))")
        }
        var measurements: [ProbeMeasurement] = []
        let expiry = Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
        let days = Int((expiry.timeIntervalSinceNow / 86_400).rounded(.down))
        measurements.append(ProbeMeasurement("days to expiry", "\(days)", expected: minDays.map { "≥ \($0)" }, ok: days >= (minDays ?? 0)))
        measurements.append(ProbeMeasurement("expires", ISO8601DateFormatter().string(from: expiry)))
        let names = (try? CertificateNames(der: certificate.toDERBytes())) ?? CertificateNames(dns: [], ips: [], commonName: nil)
        let matches = names.matches(name)
        measurements.append(ProbeMeasurement("hostname \(name)", matches ? "matches" : "not in \(names.summary)", expected: "matches", ok: matches))
        if tls.verify {
            do {
                _ = try await TLSHandshake.peerCertificate(host: host, port: port, serverName: name, options: tls,
                                                           timeoutMs: timeoutMs, checkHostname: false)
                measurements.append(ProbeMeasurement("chain", "trusted", expected: "trusted", ok: true))
            } catch {
                measurements.append(ProbeMeasurement("chain", "untrusted: \(ProbeError.describe(error))", expected: "trusted", ok: false))
            }
        }
        return ProbeResult(measurements: measurements)
    }
}

/// The names a certificate is valid for (subjectAltName; the CN only when there is none).
struct CertificateNames {
    var dns: [String]
    var ips: [String]
    var commonName: String?

    init(dns: [String], ips: [String], commonName: String?) {
        self.dns = dns
        self.ips = ips
        self.commonName = commonName
    }

    init(der: [UInt8]) throws {
        let certificate = try Certificate(derEncoded: der)
        dns = []
        ips = []
        if let names = try certificate.extensions.subjectAlternativeNames {
            for name in names {
                switch name {
                case .dnsName(let value): dns.append(value.lowercased())
                case .ipAddress(let bytes): ips.append(Self.ipText(Array(bytes.bytes)))
                default: break
                }
            }
        }
        commonName = certificate.subject.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.map { "\($0.value)" }
    }

    /// RFC 6125: exact, or one leading `*` label matching exactly one label.
    func matches(_ host: String) -> Bool {
        let host = host.lowercased()
        if ips.contains(host) { return true }
        let candidates = dns.isEmpty && ips.isEmpty ? [commonName?.lowercased()].compactMap { $0 } : dns
        return candidates.contains { pattern in
            if pattern == host { return true }
            guard pattern.hasPrefix("*.") else { return false }
            let suffix = pattern.dropFirst(1)
            guard host.hasSuffix(suffix) else { return false }
            let label = host.dropLast(suffix.count)
            return !label.isEmpty && !label.contains(".")
        }
    }

    var summary: String {
        let all = dns + ips
        return all.isEmpty ? "CN=\(commonName ?? "?")" : all.joined(separator: ", ")
    }

    static func ipText(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes.prefix(16)) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
        return String(cString: text)
    }
}

/// One TLS handshake with NIOSSL, returning the leaf certificate the server presented.
enum TLSHandshake {
    static func peerCertificate(host: String, port: Int, serverName: String, options: TLSOptions,
                                timeoutMs: Int, checkHostname: Bool = false) async throws -> NIOSSLCertificate {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !options.verify {
            configuration.certificateVerification = .none
        } else {
            configuration.certificateVerification = checkHostname ? .fullVerification : .noHostnameVerification
            if let caFile = options.caFile {
                configuration.additionalTrustRoots = [.file(caFile)]
            }
        }
        let context = try NIOSSLContext(configuration: configuration)
        let sni = serverName.first?.isNumber == true || serverName.contains(":") ? nil : serverName
        // One loop for the channel, the promise and the timer: the watcher needs no lock.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let watcher = HandshakeWatcher(promise: loop.makePromise(of: NIOSSLCertificate.self))
        let connecting = ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(Int64(timeoutMs)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: sni)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(watcher)
                }
            }
            .connect(host: host, port: port)
        let channel: Channel
        do {
            channel = try await connecting.get()
        } catch {
            loop.execute { watcher.finish(.failure(error)) }
            throw error
        }
        let timeout = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeoutMs))) {
            watcher.finish(.failure(ChannelError.connectTimeout(.milliseconds(Int64(timeoutMs)))))
        }
        defer { timeout.cancel() }
        do {
            let certificate = try await watcher.promise.futureResult.get()
            try? await channel.close()
            return certificate
        } catch {
            try? await channel.close()
            throw error
        }
    }
}

/// Fulfils the promise with the peer certificate once the handshake completes, or fails it.
/// Everything runs on the channel's event loop; `finish` completes the promise once.
private final class HandshakeWatcher: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<NIOSSLCertificate>
    private var finished = false

    init(promise: EventLoopPromise<NIOSSLCertificate>) { self.promise = promise }

    func finish(_ result: Result<NIOSSLCertificate, Error>) {
        guard !finished else { return }
        finished = true
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            if let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self),
               let certificate = handler.peerCertificate {
                finish(.success(certificate))
            } else {
                finish(.failure(ChannelError.inappropriateOperationForState))
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }
}
