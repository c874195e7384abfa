import Testing

@testable import ReelMetrics

@Suite struct FrameMetricsTests {
    /// A 4×4 frame whose first pixel moves one step per frame; `jump` adds a colour change.
    func frame(_ index: Int, jump: Bool = false) -> [UInt8] {
        var rgb = [UInt8](repeating: 100, count: 48)
        rgb[(index % 16) * 3] = 200
        if jump { for i in stride(from: 1, to: 48, by: 3) { rgb[i] = 180 } }
        return rgb
    }

    @Test func smoothVideoHasSeamRatioOneAndNoDrift() {
        var metrics = FrameMetrics(seams: [10..<14], fps: 2, width: 4, height: 4)
        for i in 0..<40 { metrics.add(frame(i)) }
        let report = metrics.report()
        #expect(abs(report.seamJumpRatio - 1) < 1e-9)
        #expect(report.drift < 1e-9)
        #expect(report.motion > 0)
    }

    @Test func aColourJumpAtTheSeamShowsUpAsRatioAndDrift() {
        var metrics = FrameMetrics(seams: [10..<14], fps: 2, width: 4, height: 4)
        for i in 0..<40 { metrics.add(frame(i, jump: i >= 12)) }
        let report = metrics.report()
        #expect(report.seamJumpRatio > 2, "ratio \(report.seamJumpRatio)")
        #expect(report.drift > 0.05, "drift \(report.drift)")
    }

    /// The seam ratios, computed the direct way (every seam against every frame difference),
    /// match the report's single pass, for seams that overlap, touch the first frame or run
    /// past the last.
    @Test func seamRatiosMatchTheDirectComputation() {
        var state: UInt32 = 12345
        func next() -> UInt8 {
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let frames = (0..<40).map { _ in (0..<48).map { _ in next() } }
        let seams = [0..<3, 5..<9, 8..<12, 30..<34, 38..<45, 60..<70]
        let cuts: Set<Int> = [20]
        var metrics = FrameMetrics(seams: seams, cuts: cuts, fps: 2, width: 4, height: 4)
        for rgb in frames { metrics.add(rgb) }
        let differences = (1..<frames.count).map { frame -> Double in
            guard !cuts.contains(frame) else { return .nan }
            return Double(zip(frames[frame], frames[frame - 1]).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / 48 / 255
        }
        let valid = differences.indices.filter { !differences[$0].isNaN }
        let inSeam = { (i: Int) in seams.contains { $0.lowerBound <= i + 1 && i + 1 < $0.upperBound } }
        let outside = valid.filter { !inSeam($0) }.map { differences[$0] }.sorted()
        let median = outside[outside.count / 2]
        let ratios = seams.map { seam -> Double in
            let inside = valid.filter { seam.lowerBound <= $0 + 1 && $0 + 1 < seam.upperBound }.map { differences[$0] }
            return inside.isEmpty ? 1 : inside.reduce(0, +) / Double(inside.count) / median
        }
        let report = metrics.report()
        #expect(report.seamJumpRatio == ratios.reduce(0, +) / Double(ratios.count))
        #expect(report.worstSeamJumpRatio == ratios.max())
        #expect(ratios.last == 1, "a seam past the last frame has nothing to measure")
    }

    @Test func hardCutsAreNotCounted() {
        var metrics = FrameMetrics(seams: [], cuts: [12], fps: 2, width: 4, height: 4)
        for i in 0..<24 { metrics.add(frame(i, jump: i >= 12)) }
        var uncut = FrameMetrics(seams: [], fps: 2, width: 4, height: 4)
        for i in 0..<24 { uncut.add(frame(i, jump: i >= 12)) }
        #expect(metrics.report().flicker < uncut.report().flicker)
    }

    /// A 48×32 frame: a bright 8×8 square at `x` on a horizontal gradient (or a flat grey);
    /// `gain` scales it all.
    func sceneFrame(squareAt x: Int, gain: Double = 1, flat: Bool = false) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: 48 * 32 * 3)
        for py in 0..<32 {
            for px in 0..<48 {
                let inside = (12..<20).contains(py) && (x..<(x + 8)).contains(px)
                let value = inside ? 230.0 : flat ? 90 : 40.0 + 2.0 * Double(px)
                for c in 0..<3 { rgb[(py * 48 + px) * 3 + c] = UInt8(min(255, value * gain)) }
            }
        }
        return rgb
    }

    /// The metrics of ten 48×32 scene frames, `frame(i)` for i in 0..<10.
    func scene(_ frame: (Int) -> [UInt8]) -> FrameMetrics.Report {
        var metrics = FrameMetrics(seams: [], fps: 4, width: 48, height: 32)
        for i in 0..<10 { metrics.add(frame(i)) }
        return metrics.report()
    }

    @Test func movingContentIsMotionNotFlicker() {
        let report = scene { sceneFrame(squareAt: 8 + 3 * $0) }
        #expect(report.motion > 0.005, "the square moves: \(report)")
        #expect(report.flicker < report.motion / 20, "motion explains every change: \(report)")
    }

    @Test func brightnessPumpingAndPoppingAreFlicker() {
        let pumping = scene { sceneFrame(squareAt: 20, gain: $0 % 2 == 0 ? 1 : 1.08, flat: true) }
        #expect(pumping.flicker > 0.02, "\(pumping)")
        // The square jumps farther than the search radius every frame: no block can explain it.
        let popping = scene { sceneFrame(squareAt: $0 % 2 == 0 ? 4 : 36) }
        let moving = scene { sceneFrame(squareAt: 8 + 3 * $0) }
        #expect(popping.flicker > 10 * moving.flicker, "popping \(popping), moving \(moving)")
    }

    @Test func wideFramesAreMatchedOnAProxyOfAtMost256Columns() {
        let matcher = MotionCompensatedDifference(width: 1024, height: 64)
        let frame = [UInt8](repeating: 128, count: 1024 * 64 * 3)
        let luma = matcher.luma(frame)
        #expect(luma.count == 256 * 16)
        #expect(abs(luma[0] - 128.0 / 255) < 1e-4)
        #expect(matcher.difference(luma, luma) == 0)
    }
}
