import ReelWire
import Testing

@testable import ReelCoordinator

/// The worker table's indexes follow every change to a worker, so dispatch can look only at
/// the workers that could take a task.
@Suite struct WorkerTableTests {
    func worker(slots: UInt32, leases: Int) -> Scheduler.Worker {
        let hello = WorkerHello(name: "a", backends: ["procedural"], slots: slots, memoryMegabytes: 1, tags: [])
        var worker = Scheduler.Worker(hello: hello, principal: "a", lastSeen: 0, advancedAt: 0, lastHeartbeatSent: 0)
        worker.leases = Set((0..<leases).map { LeaseRef(task: Int64($0), attempt: 1) })
        return worker
    }

    @Test func aWorkerHasAFreeSlotBelowItsSlotsAndRoomBelowSlotsPlusPrefetch() {
        var table = WorkerTable(prefetch: 1)
        let procedural = [Offer(backend: "procedural", model: nil)]
        let simulated = [Offer(backend: "simulated", model: nil)]
        table["b"] = worker(slots: 2, leases: 0)
        table["a"] = worker(slots: 2, leases: 1)
        #expect(table.withFreeSlot(forAnyOf: procedural) == ["a", "b"], "in id order")
        #expect(table.withFreeSlot(forAnyOf: simulated).isEmpty, "offers nothing for another backend")
        table["a"] = worker(slots: 2, leases: 2)
        #expect(table.withFreeSlot(forAnyOf: procedural) == ["b"], "both slots of a are running")
        #expect(table.open(forAnyOf: procedural) == ["a", "b"], "a still has room for a queued lease")
        table["a"] = worker(slots: 2, leases: 3)
        #expect(table.open(forAnyOf: procedural) == ["b"])
        table["a"] = worker(slots: 2, leases: 1)
        #expect(table.withFreeSlot(forAnyOf: procedural) == ["a", "b"], "a lease answered frees the slot again")
        table.removeValue(forKey: "b")
        #expect(table.withFreeSlot(forAnyOf: procedural) == ["a"] && table.open(forAnyOf: procedural) == ["a"])
    }
}
