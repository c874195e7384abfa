/// The flow-matching timestep schedule: `t` from 1 to 0 in `steps` Euler steps. Reel's own
/// backends shift a uniform grid by `t' = shift·t / (1 + (shift−1)·t)`, so more steps are spent
/// at high noise; a real model brings its own scheduler's sigmas.
public struct FlowSchedule: Sendable, Hashable {
    /// `steps + 1` times, starting at the highest noise and ending at exactly 0.
    public let times: [Double]

    public var steps: Int { times.count - 1 }

    public init(steps: Int, shift: Double) {
        precondition(steps >= 1 && shift > 0)
        times = (0...steps).map { Self.shifted(1 - Double($0) / Double(steps), shift: shift) }
    }

    /// A model's own schedule (its scheduler's sigmas, the final 0 included).
    public init(times: [Double]) {
        precondition(times.count >= 2 && times.last == 0, "a schedule ends at 0")
        self.times = times
    }

    /// The shifted time for an unshifted `t` in [0, 1].
    public static func shifted(_ t: Double, shift: Double) -> Double {
        shift * t / (1 + (shift - 1) * t)
    }

    /// The first step whose time is at most `strength`: where a refine task (the seam pass) starts.
    public func startIndex(strength: Double) -> Int { times.firstIndex { $0 <= strength } ?? steps }
}
