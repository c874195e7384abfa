import Foundation
import ReelCore
import ReelPlan
import Testing

@testable import ReelStore

@Suite struct StoreTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "reel-store-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func job(_ store: Store) throws -> (JobRecord, [TaskRecord]) {
        let spec = JobSpec(
            name: "t", prompt: "p", seconds: 10, fps: 12, width: 32, height: 32, seed: 1, chunkFrames: 48, overlap: 8, output: "/tmp/o.mp4",
            consistency: .independent)
        let job = try store.insertJob(spec: spec, plan: Planner.plan(spec), now: 1)
        return (job, try store.tasks(job: job.id!))
    }

    @Test func jobsAndTasksPersistAcrossReopen() throws {
        let path = "\(directory)/reel.sqlite"
        let (job, tasks) = try job(try Store(path: path))
        #expect(tasks.count == 3 && tasks.allSatisfy { $0.state == .pending })
        let reopened = try Store(path: path)
        #expect(try reopened.job(job.id!)?.spec().seed == 1)
        #expect(try reopened.tasks(job: job.id!).count == 3)
        let mode = try String(contentsOfFile: path, encoding: .isoLatin1).prefix(16)
        #expect(mode.hasPrefix("SQLite format 3"))
    }

    @Test func onlyTheCurrentLeaseHolderCanCommit() throws {
        let store = try Store(path: "\(directory)/reel.sqlite")
        let (_, tasks) = try job(store)
        let task = tasks[0].id!
        try store.recordLease(task: task, attempt: 1, worker: "a", expiresAt: 10, now: 1)
        try store.requeue(task: task, reason: "a went silent", now: 2)
        try store.recordLease(task: task, attempt: 2, worker: "b", expiresAt: 10, now: 2)
        #expect(try !store.commitResult(task: task, attempt: 1, worker: "a", checksum: "x", artifact: "p", now: 3), "stale attempt")
        #expect(try !store.commitResult(task: task, attempt: 2, worker: "a", checksum: "x", artifact: "p", now: 3), "not the holder")
        #expect(try store.commitResult(task: task, attempt: 2, worker: "b", checksum: "x", artifact: "p", now: 3))
        #expect(try !store.commitResult(task: task, attempt: 2, worker: "b", checksum: "x", artifact: "p", now: 3), "committed once")
        #expect(try store.taskCounts(job: tasks[0].jobId)[.done] == 1)
        #expect(try store.events(job: tasks[0].jobId).contains { $0.kind == "task-requeued" && $0.detail == "a went silent" })
    }

    @Test func aPageReadsTheOpenTasksOfScatteredAndConsecutiveIdsInIdOrder() throws {
        let store = try Store(path: "\(directory)/reel.sqlite")
        let spec = JobSpec(
            name: "t", prompt: "p", seconds: 60, fps: 12, width: 32, height: 32, seed: 1, chunkFrames: 24, overlap: 4, output: "/tmp/o.mp4",
            consistency: .independent)
        let job = try store.insertJob(spec: spec, plan: Planner.plan(spec), now: 1)
        let tasks = try store.tasks(job: job.id!).map { $0.id! }
        #expect(tasks.count >= 12)
        // Committed: the second task, and one inside the consecutive run asked for.
        for task in [tasks[1], tasks[5]] {
            try store.recordLease(task: task, attempt: 1, worker: "w", expiresAt: 10, now: 2)
            #expect(try store.commitResult(task: task, attempt: 1, worker: "w", checksum: "x", artifact: "p", now: 3))
        }
        try store.recordLease(task: tasks[9], attempt: 1, worker: "w", expiresAt: 10, now: 2)
        // Asked for out of order, with runs of one and a run of five, and an id twice.
        let asked = [tasks[11], tasks[7], tasks[3], tasks[4], tasks[5], tasks[6], tasks[1], tasks[9], tasks[0], tasks[11]]
        let page = try store.openTasks(ids: asked)
        #expect(page.map(\.id!) == [tasks[0], tasks[3], tasks[4], tasks[6], tasks[7], tasks[9], tasks[11]])
        #expect(page.first { $0.id == tasks[9] }?.state == .leased && page.first { $0.id == tasks[9] }?.worker == "w")
        #expect(try store.openTasks(ids: []).isEmpty)
    }

    @Test func aStragglerAndItsBackupMayEachCommitButOnlyOnce() throws {
        let store = try Store(path: "\(directory)/reel.sqlite")
        let (_, tasks) = try job(store)
        let task = tasks[0].id!
        try store.recordLeases(
            [
                Store.Lease(task: task, attempt: 1, worker: "slow", expiresAt: 10),
                Store.Lease(task: task, attempt: 2, worker: "backup", expiresAt: 10),
            ],
            now: 1)
        let outcomes = try store.commitResults(
            [
                Store.Commit(task: task, attempt: 1, worker: "slow", checksum: "x", artifact: "p"),
                Store.Commit(task: task, attempt: 2, worker: "backup", checksum: "x", artifact: "p"),
            ], now: 2)
        #expect(outcomes == [true, false], "the first holder's result commits; the backup's finds the task done")
        #expect(try store.tasks(job: tasks[0].jobId)[0].worker == "slow")
        #expect(try store.commitCounts(job: tasks[0].jobId)[task] == 1)
    }

    @Test func resultsAppendToOneSegmentPerJobAndReadBackByRange() throws {
        let artifacts = try ArtifactStore(root: "\(directory)/artifacts")
        let writer = SegmentWriter(store: artifacts)
        let written = writer.append([(1, [1, 2]), (2, [3]), (1, [4, 5, 6])]).map { try? $0.get() }
        let locations = try written.map { try #require($0) }
        #expect(locations[0].path == locations[2].path && locations[0].path != locations[1].path, "one segment per job")
        #expect(locations[2].offset == 2 && locations[2].length == 3)
        #expect(try artifacts.read(locations[2]) == [4, 5, 6] && artifacts.read(locations[1]) == [3])
        #expect(try artifacts.read(locations[2], offset: 1, count: 2) == [5, 6])
        #expect(throws: ReelError.self) { try artifacts.read(locations[0], offset: 1, count: 2) }
        let restarted = try #require(try? SegmentWriter(store: artifacts).append([(1, [9])])[0].get())
        #expect(restarted.path != locations[0].path, "a new run never appends after bytes it did not write")
        let rotating = SegmentWriter(store: artifacts, rotateBytes: 2)
        let rotated = rotating.append([(3, [1, 1]), (3, [2])]).compactMap { try? $0.get() }
        #expect(rotated.count == 2 && rotated[0].path != rotated[1].path, "segments rotate at their size limit")
    }

    @Test func artifactsAreWrittenWholeUnderTheirName() throws {
        let artifacts = try ArtifactStore(root: "\(directory)/artifacts")
        let path = artifacts.chunkPath(job: 3, stage: "chunks", chunk: 7)
        #expect(path == "job-3/chunks-00007.f16")
        try artifacts.write([1, 2, 3], to: path)
        try artifacts.write([4, 5], to: path)
        #expect(try artifacts.read(path) == [4, 5])
        #expect(ArtifactLocation("job-1/a.f16") == ArtifactLocation(path: "job-1/a.f16"), "whole files of older stores")
        #expect(ArtifactLocation("job-1/seg.f16@12:34") == ArtifactLocation(path: "job-1/seg.f16", offset: 12, length: 34))
        #expect(ArtifactLocation("job-1/seg.f16@12") == nil && ArtifactLocation("x@-1:2") == nil, "malformed ranges are refused")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/artifacts/job-3")
        #expect(leftovers == ["chunks-00007.f16"], "no temporary files left")
    }

    /// The counts the triggers keep, against a count of the task rows themselves.
    func expectCountsMatchTheRows(_ store: Store, job: Int64, _ comment: Comment) throws {
        let rows = try store.tasks(job: job)
        let counted = Dictionary(grouping: rows, by: \.state).mapValues(\.count)
        #expect(try store.taskCounts(job: job) == counted, comment)
        let byStage = Dictionary(grouping: rows, by: \.stage).mapValues { Dictionary(grouping: $0, by: \.state).mapValues(\.count) }
        #expect(try StoreReader(path: store.path).stageCounts(job: job) == byStage, comment)
    }

    @Test func taskCountsFollowEveryInsertLeaseCommitRequeueAndReopen() throws {
        let store = try Store(path: "\(directory)/reel.sqlite")
        let spec = JobSpec(
            name: "t", prompt: "p", seconds: 60, fps: 12, width: 32, height: 32, seed: 1, chunkFrames: 24, overlap: 4, output: "/tmp/o.mp4")
        let plan = Planner.plan(spec)
        let job = try store.insertJob(spec: spec, plan: plan, firstUnits: 3, now: 1)
        try expectCountsMatchTheRows(store, job: job.id!, "the first units and the last")
        let first = try #require(try store.taskSpan(job: job.id!)).first
        #expect(try store.insertTasks(job: job.id!, plan: plan, first: first, units: 3..<(plan.units.count - 1), now: 1, deadline: 0) == 35)
        try expectCountsMatchTheRows(store, job: job.id!, "a batch inserted before the deadline stopped it")
        let rest = 35..<(plan.units.count - 1)
        #expect(try store.insertTasks(job: job.id!, plan: plan, first: first, units: rest, now: 1) == rest.upperBound)
        try expectCountsMatchTheRows(store, job: job.id!, "every unit")
        let tasks = try store.tasks(job: job.id!)
        #expect(Set(tasks.map(\.stage)).count > 1, "the job has more than one stage")
        for task in tasks.prefix(4) { try store.recordLease(task: task.id!, attempt: 1, worker: "a", expiresAt: 10, now: 2) }
        try expectCountsMatchTheRows(store, job: job.id!, "four leased")
        #expect(try store.commitResult(task: tasks[0].id!, attempt: 1, worker: "a", checksum: "x", artifact: "p", now: 3))
        #expect(try store.commitResult(task: tasks[1].id!, attempt: 1, worker: "a", checksum: "x", artifact: "p", now: 3))
        #expect(try !store.commitResult(task: tasks[1].id!, attempt: 1, worker: "a", checksum: "x", artifact: "p", now: 3))
        try store.requeue(task: tasks[2].id!, reason: "silent", now: 4)
        try expectCountsMatchTheRows(store, job: job.id!, "two done, one requeued")
        try store.reopen(tasks: [tasks[0].id!], reason: "outvoted", now: 5)
        try expectCountsMatchTheRows(store, job: job.id!, "one reopened")
        #expect(try store.taskCounts(job: job.id!) == [.pending: tasks.count - 2, .leased: 1, .done: 1])
    }

    /// A database written before the counts existed gets them from its rows when it opens.
    @Test func aStoreFromBeforeTheCountsIsCountedWhenItOpens() throws {
        let path = "\(directory)/old.sqlite"
        let store = try Store(path: path)
        let (job, tasks) = try job(store)
        try store.recordLease(task: tasks[0].id!, attempt: 1, worker: "a", expiresAt: 10, now: 2)
        try store.write { db in
            for trigger in ["task_counted_on_insert", "task_counted_on_update", "task_counted_on_delete"] {
                try db.execute(sql: "DROP TRIGGER \(trigger)")
            }
            try db.execute(sql: "DROP TABLE taskCount; DELETE FROM grdb_migrations WHERE identifier = '0006-task-counts'")
        }
        let reopened = try Store(path: path)
        #expect(try reopened.taskCounts(job: job.id!) == [.pending: 2, .leased: 1])
    }

    /// A store whose schema and migrations read fine but whose task pages are damaged: it
    /// opens, so only `integrity_check` can refuse it (garbage would fail before reaching it).
    @Test func aCorruptDatabaseIsRefusedByItsIntegrityCheck() throws {
        let path = "\(directory)/broken.sqlite"
        do {
            let store = try Store(path: path)
            for _ in 0..<40 { _ = try job(store) }
        }  // closed: the WAL is checkpointed into the file
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try file.seekToEnd()
        #expect(size > 8 * 4096, "the tasks span several pages")
        // Damage cell pointers and cells of the last pages (task rows), not page 1 (the schema).
        for page in [size / 4096 - 1, size / 4096 - 2] {
            try file.seek(toOffset: page * 4096 + 8)
            try file.write(contentsOf: Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
        }
        try file.close()
        let refusal = #expect(throws: ReelError.self) { try Store(path: path) }
        #expect(refusal?.message.contains("integrity check of \(path) failed") == true, "\(String(describing: refusal))")
    }
}
