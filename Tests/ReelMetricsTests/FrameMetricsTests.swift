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
        var metrics = FrameMetrics(seams: [10..<14], fps: 2)
        for i in 0..<40 { metrics.add(frame(i)) }
        let report = metrics.report()
        #expect(abs(report.seamJumpRatio - 1) < 1e-9)
        #expect(report.drift < 1e-9)
        #expect(report.flicker > 0)
    }

    @Test func aColourJumpAtTheSeamShowsUpAsRatioAndDrift() {
        var metrics = FrameMetrics(seams: [10..<14], fps: 2)
        for i in 0..<40 { metrics.add(frame(i, jump: i >= 12)) }
        let report = metrics.report()
        #expect(report.seamJumpRatio > 2, "ratio \(report.seamJumpRatio)")
        #expect(report.drift > 0.05, "drift \(report.drift)")
    }

    @Test func hardCutsAreNotCounted() {
        var metrics = FrameMetrics(seams: [], cuts: [12], fps: 2)
        for i in 0..<24 { metrics.add(frame(i, jump: i >= 12)) }
        var uncut = FrameMetrics(seams: [], fps: 2)
        for i in 0..<24 { uncut.add(frame(i, jump: i >= 12)) }
        #expect(metrics.report().flicker < uncut.report().flicker)
    }
}
