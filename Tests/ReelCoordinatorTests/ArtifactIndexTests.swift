import Foundation
import ReelStore
import Synchronization
import Testing

@testable import ReelCoordinator

/// The encode waits for a unit's commit on the index: woken by the commit, not by a timer.
@Suite struct ArtifactIndexTests {
    @Test func aReaderWaitingForAUnitIsWokenByItsCommit() throws {
        let index = ArtifactIndex(count: 4)
        let answer = Mutex<(committed: Bool, seconds: Double)?>(nil)
        let waiting = DispatchSemaphore(value: 0)
        let reader = Thread {
            waiting.signal()
            let start = Date()
            let committed = index.waitUntilCommitted(2, seconds: 30)
            answer.withLock { $0 = (committed, Date().timeIntervalSince(start)) }
        }
        reader.start()
        waiting.wait()
        Thread.sleep(forTimeInterval: 0.2)
        // Another unit's commit wakes the reader too, which goes back to waiting for its own.
        index[1] = ArtifactLocation(path: "a.seg", offset: 0, length: 8)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(answer.withLock { $0 } == nil, "the reader returned before its unit was committed")
        index[2] = ArtifactLocation(path: "a.seg", offset: 8, length: 8)
        let deadline = Date().addingTimeInterval(10)
        while answer.withLock({ $0 }) == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let (committed, seconds) = try #require(answer.withLock { $0 })
        #expect(committed)
        #expect(seconds < 10, "the reader waited \(seconds) s: not woken by the commit")
    }

    @Test func aWaitForAUnitNeverCommittedEndsAtItsTimeout() {
        let index = ArtifactIndex(count: 2)
        let start = Date()
        #expect(!index.waitUntilCommitted(0, seconds: 0.1))
        #expect(Date().timeIntervalSince(start) >= 0.09)
        index[0] = ArtifactLocation(path: "b.seg")
        #expect(index.waitUntilCommitted(0, seconds: 30), "a committed unit returns at once")
    }
}
