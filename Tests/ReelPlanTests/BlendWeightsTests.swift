import Testing

@testable import ReelPlan

@Suite struct BlendWeightsTests {
    @Test func overlappingWeightsSumToOneAndRampSmoothly() {
        let windows = Planner.split(length: 200, window: 48, overlap: 8)
        var total = [Double](repeating: 0, count: 200)
        for index in windows.indices {
            let weights = BlendWeights.weights(windows: windows, index: index)
            for (i, w) in weights.enumerated() {
                #expect(w >= 0 && w <= 1)
                total[windows[index].lowerBound + i] += w
            }
        }
        for value in total { #expect(abs(value - 1) < 1e-12) }
        let first = BlendWeights.weights(windows: windows, index: 0)
        #expect(first[0] == 1, "no ramp at the start of the video")
        let overlap = windows[0].upperBound - windows[1].lowerBound
        #expect(
            first[47 - overlap] == 1 && first[48 - overlap] > 0.95 && first[47] < 0.05,
            "ramp down across the overlap of \(overlap) frames")
        for i in (48 - overlap)..<47 { #expect(first[i] > first[i + 1], "monotone ramp") }
    }
}
