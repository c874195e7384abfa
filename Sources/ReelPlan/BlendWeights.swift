import Foundation

/// Smooth blend weights for overlapping windows along one axis.
///
/// Inside an overlap of length `n`, the earlier window's weight falls and the later one's rises
/// along a raised-cosine ramp; the two sum to exactly 1 at every position (up to rounding), so a
/// blend of identical content returns that content.
public enum BlendWeights {
    /// Raised-cosine ramp value at position `i` (0-based) of a rising ramp of length `n`.
    public static func ramp(_ i: Int, length n: Int) -> Double {
        guard n > 0, i < n else { return 1 }
        return 0.5 - 0.5 * cos(Double.pi * (Double(i) + 0.5) / Double(n))
    }

    /// Weight of each position of `windows[index]`, ramping over its overlaps with its neighbours.
    public static func weights(windows: [Range<Int>], index: Int) -> [Double] {
        let window = windows[index]
        let before = index > 0 ? max(0, windows[index - 1].upperBound - window.lowerBound) : 0
        let after = index + 1 < windows.count ? max(0, window.upperBound - windows[index + 1].lowerBound) : 0
        return (0..<window.count).map { i in
            ramp(i, length: before) * ramp(window.count - 1 - i, length: after)
        }
    }
}
