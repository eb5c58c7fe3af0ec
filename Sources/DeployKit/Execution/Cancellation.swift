import Synchronization

/// Set once when the run must stop (SIGINT, SIGTERM): running steps get the signal forwarded,
/// nothing new starts. Safe to read from any thread.
public final class Cancellation: Sendable {
    private let state = Mutex<Int32?>(nil)

    public init() {}

    /// The signal that asked to stop, or nil.
    public var signal: Int32? { state.withLock { $0 } }
    public var isRequested: Bool { signal != nil }

    public func request(signal: Int32) {
        state.withLock { current in
            if current == nil { current = signal }
        }
    }
}
