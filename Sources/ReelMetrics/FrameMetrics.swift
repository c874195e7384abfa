import ReelCore

/// Consistency measured on decoded RGB frames, accumulated one frame at a time (streaming).
///
/// - seam jump ratio: the mean absolute frame difference (MAFD) across each seam's overlap
///   over the median MAFD elsewhere; 1.0 means the seam cannot be told from any other frame.
/// - motion: the mean MAFD over the whole video (0-1 scale): how much changes, moving content included.
/// - flicker: the mean motion-compensated luma difference (``MotionCompensatedDifference``,
///   0-1 scale): change that motion does not explain (pumping, shimmer, ghosts, popping).
/// - drift: the largest total-variation distance between the colour histogram of the first
///   two seconds and that of any later two-second window (0 = same colours, 1 = disjoint).
public struct FrameMetrics: Sendable {
    public struct Report: Sendable, Hashable, Codable {
        public var seamJumpRatio: Double
        public var worstSeamJumpRatio: Double
        public var motion: Double
        public var flicker: Double
        public var drift: Double
    }

    let seams: [Range<Int>]
    let cuts: Set<Int>
    let windowFrames: Int
    let blockMatcher: MotionCompensatedDifference
    private var previous: [UInt8]?
    private var previousLuma: [Float] = []
    private var differences: [Double] = []
    private var compensated: [Double] = []
    private var reference: [Double]?
    private var histogram = [Double](repeating: 0, count: 48)
    private var histogramFrames = 0
    private var drift = 0.0

    /// `seams`: the frame ranges whose transitions are seams; `cuts`: first frames of shots
    /// (hard cuts are not counted); `fps` sets the two-second drift windows; frames are RGB of
    /// `width` × `height` pixels.
    public init(seams: [Range<Int>], cuts: Set<Int> = [], fps: Int, width: Int, height: Int) {
        self.seams = seams
        self.cuts = cuts
        windowFrames = max(1, 2 * fps)
        blockMatcher = MotionCompensatedDifference(width: width, height: height)
    }

    public mutating func add(_ rgb: [UInt8]) {
        let frame = differences.count + (previous == nil ? 0 : 1)
        let luma = blockMatcher.luma(rgb)
        if let previous, !cuts.contains(frame) {
            var sum = 0
            for i in 0..<rgb.count { sum += abs(Int(rgb[i]) - Int(previous[i])) }
            differences.append(Double(sum) / Double(rgb.count) / 255)
            compensated.append(blockMatcher.difference(previousLuma, luma))
        } else if previous != nil {
            differences.append(.nan)
            compensated.append(.nan)
        }
        previous = rgb
        previousLuma = luma
        for pixel in stride(from: 0, to: rgb.count, by: 3) {
            for channel in 0..<3 { histogram[channel * 16 + Int(rgb[pixel + channel]) >> 4] += 1 }
        }
        histogramFrames += 1
        if histogramFrames == windowFrames { closeWindow() }
    }

    private mutating func closeWindow() {
        let total = histogram.reduce(0, +)
        let normalized = histogram.map { $0 / total }
        if let reference {
            drift = max(drift, zip(normalized, reference).reduce(0) { $0 + abs($1.0 - $1.1) } / 2 / 3)
        } else {
            reference = normalized
        }
        histogram = [Double](repeating: 0, count: 48)
        histogramFrames = 0
    }

    /// The metrics of every frame added so far, in time linear in the frames and the seams'
    /// frames (the encode waits for it before its MP4 counts as done).
    public func report() -> Report {
        // differences[i] is the change from frame i to frame i + 1: seam s holds those with
        // i + 1 in s, that is i in s shifted down by one (clamped to what was measured).
        let measured = differences.indices
        let indices = { (seam: Range<Int>) -> Range<Int> in
            let end = max(0, min(measured.upperBound, seam.upperBound - 1))
            return min(end, max(0, seam.lowerBound - 1))..<end
        }
        var inSeam = [Bool](repeating: false, count: differences.count)
        for seam in seams { for i in indices(seam) { inSeam[i] = true } }
        let valid = measured.filter { !differences[$0].isNaN }
        let outside = valid.filter { !inSeam[$0] }.map { differences[$0] }.sorted()
        let median = outside.isEmpty ? 0 : outside[outside.count / 2]
        let ratios = seams.map { seam -> Double in
            let inside = indices(seam).filter { !differences[$0].isNaN }.map { differences[$0] }
            guard !inside.isEmpty, median > 0 else { return 1 }
            return inside.reduce(0, +) / Double(inside.count) / median
        }
        let mean = { (values: [Double]) in valid.isEmpty ? 0 : valid.map { values[$0] }.reduce(0, +) / Double(valid.count) }
        return Report(
            seamJumpRatio: ratios.isEmpty ? 1 : ratios.reduce(0, +) / Double(ratios.count), worstSeamJumpRatio: ratios.max() ?? 1,
            motion: mean(differences), flicker: mean(compensated), drift: drift)
    }
}
