/// The flow-matching timestep schedule: `t` from 1 to 0 in `steps` Euler steps, shifted by
/// `t' = shift·t / (1 + (shift−1)·t)` so more steps are spent at high noise.
public struct FlowSchedule: Sendable, Hashable {
    public var steps: Int
    public var shift: Double

    public init(steps: Int, shift: Double) {
        precondition(steps >= 1 && shift > 0)
        self.steps = steps
        self.shift = shift
    }

    /// The shifted time for an unshifted `t` in [0, 1].
    public func shifted(_ t: Double) -> Double {
        shift * t / (1 + (shift - 1) * t)
    }

    /// `steps + 1` times, starting at 1 and ending at exactly 0.
    public var times: [Double] {
        (0...steps).map { shifted(1 - Double($0) / Double(steps)) }
    }
}
