import ReelCore

/// Serves the seam pass's committed frames in place of the blend, one seam in memory at a time.
public final class SeamOverride {
    public let plan: Plan
    public let read: (Int) throws -> [Float]
    private var current: (seam: Int, latents: [Float])?

    /// `read(unit)` returns a committed unit's latents.
    public init(plan: Plan, read: @escaping (Int) throws -> [Float]) {
        self.plan = plan
        self.read = read
    }

    /// The committed seam output for `frame`, or nil outside every seam window.
    public func frame(_ frame: Int) throws -> [Float]? {
        guard let seam = plan.seam(containing: frame).map({ plan.seams[$0] }) else { return nil }
        if current?.seam != seam.index { current = (seam.index, try read(plan.unit(.seams, seam.index)!)) }
        let perFrame = plan.grid.voxelsPerFrame, local = frame - seam.frames.lowerBound
        return Array(current!.latents[(local * perFrame)..<((local + 1) * perFrame)])
    }
}
