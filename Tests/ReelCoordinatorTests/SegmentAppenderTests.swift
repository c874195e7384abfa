import Foundation
import ReelCore
import ReelStore
import Testing

@testable import ReelCoordinator

/// The group commit's writes run beside the caller: a group is in flight until taken, its
/// locations read back what was given, and the next group goes only after it.
@Suite struct SegmentAppenderTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reel-appender-\(UUID().uuidString)").path

    @Test func aGroupIsWrittenBesideTheCallerAndTakenOnce() throws {
        let artifacts = try ArtifactStore(root: "\(directory)/artifacts")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let appender = SegmentAppender(store: artifacts)
        defer { appender.stop() }
        #expect(!appender.isBusy && appender.takeWritten() == nil && appender.waitWritten() == nil, "nothing in flight")
        appender.start([(1, [1, 2]), (2, [3]), (1, [4, 5, 6])])
        #expect(appender.isBusy, "in flight until taken")
        let written = try #require(appender.waitWritten())
        #expect(!appender.isBusy && appender.takeWritten() == nil, "taken once")
        let locations = try written.map { try $0.get() }
        #expect(try locations.map { try artifacts.read($0) } == [[1, 2], [3], [4, 5, 6]])
        // The next group appends after the first, in order.
        appender.start([(1, [7])])
        var next: SegmentAppender.Written?
        while next == nil {
            next = appender.takeWritten()
            if next == nil { Thread.sleep(forTimeInterval: 0.001) }
        }
        let location = try #require(try next?[0].get())
        #expect(try location.path == locations[0].path && location.offset == 5 && artifacts.read(location) == [7])
    }
}
