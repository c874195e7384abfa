import ReelMetrics
import Testing

@testable import ReelCoordinator

/// Frame metrics taken on their own thread give the report one thread would, frame for frame.
@Suite struct FrameMetricsStageTests {
    @Test func theStagesReportIsTheDirectOne() {
        var state: UInt32 = 99
        func next() -> UInt8 {
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        // Frames that drift in colour, so any frame measured out of order changes the report.
        let frames = (0..<120).map { index in (0..<(8 * 8 * 3)).map { _ in next() / 4 &+ UInt8(index) } }
        let make = { FrameMetrics(seams: [10..<14, 50..<60], cuts: [70], fps: 4, width: 8, height: 8) }
        var direct = make()
        for frame in frames { direct.add(frame) }
        let stage = FrameMetricsStage(make(), depth: 3, niceness: 0)
        for frame in frames { stage.add(frame) }
        let (report, cpuSeconds) = stage.finish()
        #expect(report == direct.report())
        #expect(cpuSeconds > 0)
        #expect(stage.finish().report == report, "finishing again gives the same report")
    }
}
