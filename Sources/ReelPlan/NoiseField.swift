import Foundation
import ReelCore

/// The global Gaussian noise field ε(seed, frame, channel, y, x).
///
/// A pure function of the seed and the global latent coordinate: counter
/// `(x, y, frame, channel)` and key `(seed low, seed high)` go through Philox-4x32-10, and the
/// first two outputs through the cosine branch of Box–Muller. Overlapping chunks therefore start
/// from identical noise, whatever the chunking or the worker.
public struct NoiseField: Sendable, Hashable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The standard normal value at one global coordinate.
    @inlinable
    public func value(frame: Int, channel: Int, y: Int, x: Int) -> Float {
        let key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        let counter = SIMD4(
            UInt32(truncatingIfNeeded: x), UInt32(truncatingIfNeeded: y),
            UInt32(truncatingIfNeeded: frame), UInt32(truncatingIfNeeded: channel))
        let bits = Philox4x32.block(counter: counter, key: key)
        let scale = 1.0 / 4_294_967_296.0
        let u1 = (Double(bits[0]) + 0.5) * scale
        let u2 = (Double(bits[1]) + 0.5) * scale
        return Float((-2.0 * Foundation.log(u1)).squareRoot() * Foundation.cos(2.0 * Double.pi * u2))
    }

    /// The noise of a whole region, in the region's local frames × channels × rows × columns order.
    /// `progress` is called after each frame (long fills must not look like a hang).
    public func fill(_ region: Region, channels: Int, frames: [Int]? = nil, progress: () -> Void = {}) -> [Float] {
        let frames = frames ?? Array(region.frames)
        var values = [Float](repeating: 0, count: frames.count * channels * region.rows.count * region.columns.count)
        var index = 0
        for frame in frames {
            for channel in 0..<channels {
                for y in region.rows {
                    for x in region.columns {
                        values[index] = value(frame: frame, channel: channel, y: y, x: x)
                        index += 1
                    }
                }
            }
            progress()
        }
        return values
    }
}
