import Foundation
import ReelCore

/// The procedural video distribution a prompt selects: the ground truth the farm is measured against.
///
/// The frame is cut into horizontal lanes; each lane holds one sprite. A video is fixed by
/// discrete choices: a global *take* (one of ``takeCount`` palettes for sky and sprites) and, for
/// each sprite, a keypoint (one of ``keypointCount`` columns) at every segment boundary
/// (every ``segmentFrames`` frames). Between boundaries a sprite eases from one keypoint to the
/// next; keypoints follow a lazy random walk (stay, left, right with probability 1/3 each).
/// Lanes are disjoint, so the likelihood factorizes per sprite and the posterior is exact.
public struct ProceduralWorld: Sendable {
    public static let takeCount = 4
    public static let keypointCount = 6
    public static let segmentFrames = 12

    public let grid: LatentGrid
    /// Rows of each lane, top to bottom.
    public let lanes: [Range<Int>]
    /// Sky colour per take, row and channel: `sky[(take * 3 + channel) * height + y]`.
    let sky: [Float]
    /// Take-independent texture (hills, ripples): `pattern[(channel * height + y) * width + x]`.
    let pattern: [Float]
    /// Sprite colour per take, lane and channel: `spriteColor[(take * lanes + lane) * 3 + channel]`.
    let spriteColor: [Float]
    let radius: [Double]
    let shape: [Int]
    let bobAmplitude: [Double]
    let bobPhase: [Double]
    let keypointX: [Double]

    /// Builds the world of `prompt` on `grid` (3 latent channels: the RGB frame in [-1, 1]).
    public init(prompt: String, grid: LatentGrid) {
        precondition(grid.channels == 3)
        self.grid = grid
        var random = SplitMix64(seed: Self.hash(prompt))
        let laneCount = 3, height = grid.height, width = grid.width
        lanes = (0..<laneCount).map { (($0 * height) / laneCount)..<((($0 + 1) * height) / laneCount) }

        var sky = [Float](repeating: 0, count: Self.takeCount * 3 * height)
        var spriteColor = [Float](repeating: 0, count: Self.takeCount * laneCount * 3)
        for take in 0..<Self.takeCount {
            let hue = (Double(take) + random.unit() * 0.6) / Double(Self.takeCount)
            let top = hsv(hue, 0.55, 0.95), bottom = hsv(hue + 0.08, 0.35, 0.55)
            for y in 0..<height {
                let u = Double(y) / Double(max(1, height - 1))
                for c in 0..<3 { sky[(take * 3 + c) * height + y] = Float(2 * (top[c] * (1 - u) + bottom[c] * u) - 1) }
            }
            for lane in 0..<laneCount {
                let color = hsv(hue + 0.5 + 0.12 * Double(lane) + random.unit() * 0.05, 0.85, 1.0)
                for c in 0..<3 { spriteColor[(take * laneCount + lane) * 3 + c] = Float(2 * color[c] - 1) }
            }
        }
        self.sky = sky
        self.spriteColor = spriteColor

        var pattern = [Float](repeating: 0, count: 3 * height * width)
        let hillPhase = random.unit() * 2 * Double.pi, ripple = 2 + random.unit() * 4
        for x in 0..<width {
            let horizon = Double(height) * (0.72 + 0.08 * sin(4 * Double.pi * Double(x) / Double(width) + hillPhase))
            for y in 0..<height {
                let ground = Double(y) > horizon ? -0.45 : 0
                let texture = 0.06 * sin(2 * Double.pi * ripple * Double(x) / Double(width)) * sin(Double(y) * 0.5)
                for c in 0..<3 { pattern[(c * height + y) * width + x] = Float(ground + texture * Double(c + 1) / 3) }
            }
        }
        self.pattern = pattern

        let laneHeights = lanes.map { Double($0.count) }
        radius = laneHeights.map { 0.3 * $0 }
        bobAmplitude = laneHeights.map { 0.1 * $0 }
        bobPhase = (0..<laneCount).map { _ in random.unit() * 2 * Double.pi }
        shape = (0..<laneCount).map { _ in Int(random.next() % 3) }
        keypointX = (0..<Self.keypointCount).map { (Double($0) + 0.5) * Double(width) / Double(Self.keypointCount) }
    }

    /// Number of segment boundaries (keypoint states per sprite) over the whole video.
    public var boundaryCount: Int { (grid.frames + Self.segmentFrames - 1) / Self.segmentFrames + 1 }

    /// Sprite centre (x, y) at a global frame, easing from keypoint `from` to keypoint `to`.
    public func center(lane: Int, frame: Int, from: Int, to: Int) -> (x: Double, y: Double) {
        let segment = frame / Self.segmentFrames
        let u = Double(frame - segment * Self.segmentFrames) / Double(Self.segmentFrames)
        let ease = u * u * (3 - 2 * u)
        let x = keypointX[from] + (keypointX[to] - keypointX[from]) * ease
        let laneCenter = Double(lanes[lane].lowerBound + lanes[lane].upperBound) / 2
        let y = laneCenter + bobAmplitude[lane] * sin(2 * Double.pi * Double(frame) / 40 + bobPhase[lane])
        return (x, y)
    }

    /// Coverage (0...1) of the pixel at (x, y) by a sprite centred at `center`: anti-aliased edge.
    func coverage(lane: Int, x: Int, y: Int, center: (x: Double, y: Double)) -> Float {
        let dx = abs(Double(x) + 0.5 - center.x), dy = abs(Double(y) + 0.5 - center.y)
        let distance: Double
        switch shape[lane] {
        case 0: distance = (dx * dx + dy * dy).squareRoot()
        case 1: distance = max(dx, dy)
        default: distance = (dx + dy) * 0.75
        }
        return Float(min(1, max(0, radius[lane] + 0.5 - distance)))
    }

    /// Background value (sky plus texture) of take `take` at a global pixel and channel.
    @inline(__always)
    func background(take: Int, channel: Int, y: Int, x: Int) -> Float {
        sky[(take * 3 + channel) * grid.height + y] + pattern[(channel * grid.height + y) * grid.width + x]
    }

    static func hash(_ text: String) -> UInt64 { Checksum.fnv1a(Array(text.utf8)) }
}

/// One outcome of the world's randomness: the take and every sprite's keypoint per boundary.
public struct WorldState: Sendable, Hashable, Codable {
    public var take: Int
    /// `paths[lane][boundary]`: the keypoint index at each segment boundary.
    public var paths: [[Int]]

    public init(take: Int, paths: [[Int]]) {
        self.take = take
        self.paths = paths
    }
}

/// SplitMix64: a small deterministic generator for building worlds (not for noise).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

private func hsv(_ hue: Double, _ saturation: Double, _ value: Double) -> [Double] {
    let h = (hue - floor(hue)) * 6, sector = Int(h) % 6, f = h - floor(h)
    let p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f))
    switch sector {
    case 0: return [value, t, p]
    case 1: return [q, value, p]
    case 2: return [p, value, t]
    case 3: return [p, q, value]
    case 4: return [t, p, value]
    default: return [value, p, q]
    }
}
