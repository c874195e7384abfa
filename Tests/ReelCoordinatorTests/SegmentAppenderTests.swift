import Foundation
import ReelCore
import ReelStore
import Testing

@testable import ReelCoordinator

/// The group commit's writes run beside the caller: a group is in flight until taken, its
/// locations read back what was given, and the next group goes only after it.
@Suite struct SegmentAppenderTests {
    static func readable(_ descriptor: Int32, waitingMilliseconds: Int32) -> Bool {
        var item = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&item, 1, waitingMilliseconds) == 1 && item.revents & Int16(POLLIN) != 0
    }

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reel-appender-\(UUID().uuidString)").path

    @Test func aGroupIsWrittenBesideTheCallerAndTakenOnce() throws {
        let artifacts = try ArtifactStore(root: "\(directory)/artifacts")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let appender = try SegmentAppender(store: artifacts)
        defer { appender.stop() }
        #expect(!appender.isBusy && appender.takeWritten() == nil && appender.waitWritten() == nil, "nothing in flight")
        appender.start([(1, [1, 2]), (2, [3]), (1, [4, 5, 6])])
        #expect(appender.isBusy, "in flight until taken")
        let written = try #require(appender.waitWritten())
        #expect(!appender.isBusy && appender.takeWritten() == nil, "taken once")
        let locations = try written.map { try $0.get() }
        #expect(try locations.map { try artifacts.read($0) } == [[1, 2], [3], [4, 5, 6]])
        #expect(!Self.readable(appender.wakeDescriptor, waitingMilliseconds: 0), "taking a group clears its signal")
        // The next group appends after the first, in order, and its being written wakes a poll.
        appender.start([(1, [7])])
        #expect(Self.readable(appender.wakeDescriptor, waitingMilliseconds: 5000))
        let next = try #require(appender.takeWritten())
        #expect(!Self.readable(appender.wakeDescriptor, waitingMilliseconds: 0))
        let location = try next[0].get()
        #expect(try location.path == locations[0].path && location.offset == 5 && artifacts.read(location) == [7])
    }
}
