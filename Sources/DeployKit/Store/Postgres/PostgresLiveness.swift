import Foundation
import Postgres

/// Who is alive, as the server says: every lock and every running run holds a session-level
/// advisory lock, which ends with its session; a heartbeat keeps this process's session busy
/// and a watchdog notices when the store stops answering.
extension PostgresStore {
    /// 64-bit advisory keys, per store (schema) and target or run: two stores on one server
    /// never collide, and a lock is never mistaken for a run.
    func key(target: String) -> Int64 { Self.advisoryKey("\(schema)/lock/\(target)") }
    func key(run id: String) -> Int64 { Self.advisoryKey("\(schema)/run/\(id)") }

    static func advisoryKey(_ name: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ("deployctl:" + name).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    public var knowsOtherMachines: Bool { true }

    /// Alive while a session holds its advisory lock — the server's word, whichever machine
    /// asks — unless that session belongs to a process of this machine that is provably gone.
    public func isAlive(_ lock: LockRecord) throws -> Bool {
        try holderAlive(key(target: lock.target))
    }

    public func isAlive(_ run: RunRecord) throws -> Bool {
        try holderAlive(key(run: run.id))
    }

    func holderAlive(_ key: Int64) throws -> Bool {
        guard let holder = try advisoryHolder(key) else { return false }
        guard let name = holder.name, let process = ProcessName(name), process.isHere else { return true }
        return ProcessIdentity.isAlive(host: ProcessIdentity.hostName, pid: process.pid, start: process.start)
    }

    /// The session holding an advisory key: its server pid and the process it names.
    func advisoryHolder(_ key: Int64) throws -> (backend: Int, name: String?)? {
        let bits = UInt64(bitPattern: key)
        return try connection.query("""
            SELECT l.pid, a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
            """, [String(bits >> 32), String(bits & 0xffff_ffff)]).first.flatMap { row in
                row.int("pid").map { (backend: $0, name: row["application_name"]) }
            }
    }

    /// Every session names its process (`application_name`: host, pid, start time). A session
    /// holding `key` whose process is on this machine and provably gone — the server has not
    /// noticed a cut yet — is ended, which frees what it held. True when one was.
    func endSessionOfGoneProcess(holding key: Int64) throws -> Bool {
        guard let holder = try advisoryHolder(key), let name = holder.name, let process = ProcessName(name), process.isHere,
              !ProcessIdentity.isAlive(host: ProcessIdentity.hostName, pid: process.pid, start: process.start) else { return false }
        return (try? connection.query("SELECT pg_terminate_backend($1) AS ended", [String(holder.backend)]).first?.bool("ended")) == true
    }

    func tryAdvisory(_ key: String) throws -> Bool {
        try connection.query("SELECT pg_try_advisory_lock($1) AS got", [key]).first?.bool("got") == true
    }

    // MARK: - Heartbeat and fencing

    public func watch(onLost: @escaping @Sendable (String) -> Void) {
        state.withLock { self.onLost = onLost }
    }

    public var lost: String? { state.withLock { lostReason } }

    /// Every 2 s: the heartbeat of the locks this process holds (or a bare round trip), which
    /// also keeps the session from the server's idle timeout. A watchdog apart from it, since a
    /// statement sent into a network cut may never return: one in flight longer than the lease,
    /// or a connection that broke, means the store is lost.
    func startHeartbeat() {
        let beat = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: Self.heartbeatSeconds)
                guard let store = self else { return }
                if store.state.withLock({ store.lostReason != nil }) { return }
                let targets = store.state.withLock { Array(store.heldTargets) }
                do {
                    if targets.isEmpty {
                        try store.connection.query("SELECT 1")
                    } else {
                        try store.connection.query("""
                            UPDATE \(store.schema).locks SET heartbeat = extract(epoch FROM clock_timestamp())
                            WHERE backend_pid = pg_backend_pid() AND target = ANY($1::text[])
                            """, [Self.arrayLiteral(targets)])
                    }
                } catch let error as PostgresError where error.isConnectionLoss {
                    store.lose("\(error)")
                } catch {}
            }
        }
        beat.start()
        let watchdog = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                guard let store = self else { return }
                if let waited = store.connection.inFlightSeconds, waited > Self.leaseSeconds {
                    store.lose("no answer from the store for \(Int(waited)) s")
                }
                if store.state.withLock({ store.lostReason != nil }) { return }
            }
        }
        watchdog.start()
    }

    /// `{"a","b"}`: a text[] parameter.
    static func arrayLiteral(_ items: [String]) -> String {
        "{" + items.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }

    func lose(_ why: String) {
        let (first, handler): (Bool, (@Sendable (String) -> Void)?) = state.withLock {
            guard lostReason == nil else { return (false, nil) }
            lostReason = why
            return (true, onLost)
        }
        guard first else { return }
        // Whatever waits on the connection now fails at once instead of waiting on a cut.
        connection.sever()
        handler?(why)
    }

}

/// What a session tells the server about its process (`application_name`): enough for another
/// deployctl on the same machine to prove the process gone. `deployctl/PID/START/MACHINE/HOST`:
/// MACHINE names this kernel boot and pid namespace (8 hex digits), so a pid is looked up only
/// where it means the same process — two containers given one `DEPLOYCTL_HOST` each see only
/// their own pids, and one would otherwise take the other's live session for a gone one and end
/// it. HOST is for people; the server cuts the name at 63 bytes.
struct ProcessName: Equatable {
    let pid: Int32
    let start: UInt64
    let machine: String
    let host: String

    static var current: ProcessName {
        let me = ProcessIdentity.current
        return ProcessName(pid: me.pid, start: me.start, machine: here, host: me.host)
    }

    /// This boot (`/proc/sys/kernel/random/boot_id`) and pid namespace (`/proc/self/ns/pid`),
    /// hashed; "unknown" (never matches) when either cannot be read.
    static let here: String = {
        guard let boot = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8),
              let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid") else { return "unknown" }
        var hash: UInt32 = 0x811c_9dc5
        for byte in (boot.trimmingCharacters(in: .whitespacesAndNewlines) + "|" + namespace).utf8 {
            hash = (hash ^ UInt32(byte)) &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }()

    /// A holder whose pid this process can check: the same boot and pid namespace.
    var isHere: Bool { machine == Self.here && machine != "unknown" }

    init(pid: Int32, start: UInt64, machine: String, host: String) {
        self.pid = pid
        self.start = start
        self.machine = machine
        self.host = host
    }

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "deployctl", let pid = Int32(parts[1]), let start = UInt64(parts[2]) else { return nil }
        self.init(pid: pid, start: start, machine: String(parts[3]), host: String(parts[4]))
    }

    var text: String { "deployctl/\(pid)/\(start)/\(machine)/\(host)" }
}
