/// The protocol's liveness rule, shared by both ends (decision 0036).
public enum Liveness {
    /// An idle worker (no task held, none queued, every result acknowledged) heartbeats this
    /// many times less often than a busy one, and the coordinator heartbeats it as rarely;
    /// each end's silence bound for an idle peer grows by the same factor. Idle workers are
    /// most of a farm's chatter when little is ready (a serial job on a big farm).
    public static let idleFactor = 8.0
}
