import Testing

@testable import ReelSampler

@Suite struct FlowScheduleTests {
    @Test func shiftedScheduleRunsFromOneToZero() {
        let times = FlowSchedule(steps: 10, shift: 3).times
        #expect(times.count == 11 && times.first == 1 && times.last == 0)
        for (a, b) in zip(times, times.dropFirst()) { #expect(a > b) }
        // Shift 3 keeps the midpoint at high noise: t'(0.5) = 1.5 / 2 = 0.75.
        #expect(abs(FlowSchedule(steps: 2, shift: 3).times[1] - 0.75) < 1e-12)
        #expect(FlowSchedule(steps: 4, shift: 1).times == [1, 0.75, 0.5, 0.25, 0])
    }
}
