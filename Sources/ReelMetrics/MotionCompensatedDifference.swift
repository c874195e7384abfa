/// Frame-to-frame change that motion does not explain: the luma of each small block of a frame
/// against the best-matching block of the previous frame within a search radius (block
/// matching, as video encoders estimate motion). Content that moves without changing scores
/// near 0; brightness pumping, shimmer, ghosts and objects that pop in or out do not. Pure.
public struct MotionCompensatedDifference: Sendable {
    /// Side of the square blocks matched, in proxy pixels.
    public static let blockSize = 4
    /// How far a block may have moved since the previous frame, in proxy pixels.
    public static let searchRadius = 6
    /// Frames wider than this are averaged down (by a whole factor) before matching, so the
    /// search covers the same share of the frame at any resolution.
    public static let proxyWidth = 256

    public let width: Int
    public let height: Int
    let factor: Int
    let proxyWidth: Int
    let proxyHeight: Int

    /// For RGB frames of `width` × `height` pixels.
    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0)
        self.width = width
        self.height = height
        factor = max(1, (width + Self.proxyWidth - 1) / Self.proxyWidth)
        proxyWidth = max(1, width / factor)
        proxyHeight = max(1, height / factor)
    }

    /// The frame's luma (BT.601, 0-1), averaged over `factor` × `factor` pixels.
    public func luma(_ rgb: [UInt8]) -> [Float] {
        precondition(rgb.count == width * height * 3, "a frame of \(width)x\(height) RGB is \(width * height * 3) bytes, got \(rgb.count)")
        var out = [Float](repeating: 0, count: proxyWidth * proxyHeight)
        let scale = 1 / (255 * Float(factor * factor))
        for py in 0..<proxyHeight {
            for px in 0..<proxyWidth {
                var sum: Float = 0
                for y in (py * factor)..<((py + 1) * factor) {
                    for x in (px * factor)..<((px + 1) * factor) {
                        let i = (y * width + x) * 3
                        sum += 0.299 * Float(rgb[i]) + 0.587 * Float(rgb[i + 1]) + 0.114 * Float(rgb[i + 2])
                    }
                }
                out[py * proxyWidth + px] = sum * scale
            }
        }
        return out
    }

    /// Mean over `current`'s blocks of the smallest mean absolute luma difference to a block of
    /// `previous` shifted by at most ``searchRadius`` in each direction (edges replicated).
    public func difference(_ previous: [Float], _ current: [Float]) -> Double {
        let w = proxyWidth, h = proxyHeight, r = Self.searchRadius, b = Self.blockSize
        precondition(previous.count == w * h && current.count == w * h)
        // The previous frame padded by r on every side, so every shift reads in bounds.
        let paddedWidth = w + 2 * r
        var padded = [Float](repeating: 0, count: paddedWidth * (h + 2 * r))
        for py in 0..<(h + 2 * r) {
            let y = min(h - 1, max(0, py - r))
            for px in 0..<paddedWidth { padded[py * paddedWidth + px] = previous[y * w + min(w - 1, max(0, px - r))] }
        }
        let blocksAcross = (w + b - 1) / b, blocksDown = (h + b - 1) / b
        var best = [Float](repeating: .infinity, count: blocksAcross * blocksDown)
        // One band of `b` rows at a time: absolute differences summed down the band per column
        // (a loop that vectorizes), then across each block's columns.
        var band = [Float](repeating: 0, count: blocksAcross * b)
        padded.withUnsafeBufferPointer { padded in
            current.withUnsafeBufferPointer { current in
                band.withUnsafeMutableBufferPointer { band in
                    for dy in -r...r {
                        for dx in -r...r {
                            for by in 0..<blocksDown {
                                band.update(repeating: 0)
                                for y in (by * b)..<min(h, (by + 1) * b) {
                                    let source = (y + dy + r) * paddedWidth + dx + r, target = y * w
                                    addAbsoluteDifferences(
                                        current.baseAddress! + target, padded.baseAddress! + source, into: band.baseAddress!, count: w)
                                }
                                var x = 0
                                for bx in 0..<blocksAcross {
                                    var sum: Float = 0
                                    while x < (bx + 1) * b {
                                        sum += band[x]
                                        x += 1
                                    }
                                    best[by * blocksAcross + bx] = min(best[by * blocksAcross + bx], sum)
                                }
                            }
                        }
                    }
                }
            }
        }
        var total = 0.0
        for by in 0..<blocksDown {
            for bx in 0..<blocksAcross {
                let pixels = (min(h, (by + 1) * b) - by * b) * (min(w, (bx + 1) * b) - bx * b)
                total += Double(best[by * blocksAcross + bx]) / Double(pixels)
            }
        }
        return total / Double(blocksAcross * blocksDown)
    }

    /// `sums[i] += |a[i] − b[i]|` for `i < count`: a plain loop over pointers, which the
    /// optimizer vectorizes and which stays cheap in a debug build (SIMD types do not).
    @inline(__always)
    private func addAbsoluteDifferences(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into sums: UnsafeMutablePointer<Float>, count: Int
    ) {
        var x = 0
        while x < count {
            sums[x] += (a[x] - b[x]).magnitude
            x += 1
        }
    }
}
