import ReelCore
import ReelWire

/// What a worker offers and a task needs, for finding one from the other: a backend, and for
/// a model backend a model folder (`*` for a worker that takes any).
struct Offer: Sendable, Hashable {
    var backend: String
    var model: String?

    /// The offers a worker announces.
    static func of(_ hello: WorkerHello) -> [Offer] {
        hello.backends.flatMap { backend in
            backend == BackendKind.diffusers.rawValue ? hello.models.map { Offer(backend: backend, model: $0) } : [Offer(backend: backend, model: nil)]
        }
    }

    /// What a task needs.
    init(_ work: ChunkWork) {
        backend = work.backend.rawValue
        model = work.model?.path
    }

    init(backend: String, model: String?) {
        self.backend = backend
        self.model = model
    }

    /// The worker offers that can run a task needing this.
    var matchingOffers: [Offer] { model == nil ? [self] : [self, Offer(backend: backend, model: "*")] }
}

/// The live workers, indexed so that dispatch never looks at a worker that could not take a
/// task: by what they offer, whether a running slot is free, and whether they have room for
/// another lease. Every change to a worker goes through the subscript, which keeps the indexes.
struct WorkerTable: Sendable {
    private(set) var all: [WorkerID: Scheduler.Worker] = [:]
    /// Every worker, by offer.
    private(set) var byOffer: [Offer: Set<WorkerID>] = [:]
    /// Workers with room for another lease (fewer than slots + `prefetch`), by offer.
    private(set) var open: [Offer: Set<WorkerID>] = [:]
    /// Workers with a running slot free (fewer leases than slots), by offer: the ones a
    /// result or a newly ready task is for, a few at a time however big the farm.
    private(set) var free: [Offer: Set<WorkerID>] = [:]
    /// Workers holding at least one lease.
    private(set) var busy: Set<WorkerID> = []
    let prefetch: Int

    init(prefetch: Int) {
        self.prefetch = max(0, prefetch)
    }

    subscript(id: WorkerID) -> Scheduler.Worker? {
        get { all[id] }
        set {
            let old = all[id]
            all[id] = newValue
            reindex(id, old: old, new: newValue)
        }
    }

    /// Records when a worker was last heard from: no index depends on it, so none is rebuilt
    /// (every message from a worker comes through here).
    mutating func heard(_ id: WorkerID, at time: Double) { all[id]?.lastSeen = time }

    /// Records a heartbeat sent to a worker and what it said: no index depends on either.
    mutating func heartbeatSent(_ id: WorkerID, at time: Double, farmHasWork: Bool) {
        all[id]?.lastHeartbeatSent = time
        all[id]?.toldFarmHasWork = farmHasWork
    }

    @discardableResult
    mutating func removeValue(forKey id: WorkerID) -> Scheduler.Worker? {
        let old = all[id]
        self[id] = nil
        return old
    }

    var count: Int { all.count }
    var isEmpty: Bool { all.isEmpty }

    /// Workers with room for another lease that offer what one of `offers` needs, in id order.
    func open(forAnyOf offers: some Sequence<Offer>) -> [WorkerID] { members(of: open, forAnyOf: offers) }

    /// Workers with a running slot free that offer what one of `offers` needs, in id order.
    func withFreeSlot(forAnyOf offers: some Sequence<Offer>) -> [WorkerID] { members(of: free, forAnyOf: offers) }

    private func members(of index: [Offer: Set<WorkerID>], forAnyOf offers: some Sequence<Offer>) -> [WorkerID] {
        var ids = Set<WorkerID>()
        for offer in offers {
            for matching in offer.matchingOffers { ids.formUnion(index[matching] ?? []) }
        }
        return ids.sorted()
    }

    /// Whether any worker (other than those `excluding` says) offers what `offer` needs.
    func anyOffers(_ offer: Offer, excluding: (WorkerID) -> Bool = { _ in false }) -> Bool {
        offer.matchingOffers.contains { (byOffer[$0] ?? []).contains { !excluding($0) } }
    }

    private mutating func reindex(_ id: WorkerID, old: Scheduler.Worker?, new: Scheduler.Worker?) {
        let oldOffers = old.map { Offer.of($0.hello) } ?? [], newOffers = new.map { Offer.of($0.hello) } ?? []
        if oldOffers != newOffers {
            for offer in oldOffers { byOffer[offer]?.remove(id) }
            for offer in newOffers { byOffer[offer, default: []].insert(id) }
        }
        let prefetch = prefetch
        let wasOpen = old?.hasRoom(beyondSlots: prefetch) ?? false, isOpen = new?.hasRoom(beyondSlots: prefetch) ?? false
        let wasFree = old?.hasRoom(beyondSlots: 0) ?? false, isFree = new?.hasRoom(beyondSlots: 0) ?? false
        Self.move(id, in: &open, from: oldOffers, wasOpen, to: newOffers, isOpen)
        Self.move(id, in: &free, from: oldOffers, wasFree, to: newOffers, isFree)
        if new?.leases.isEmpty == false { busy.insert(id) } else { busy.remove(id) }
    }

    /// Keeps `id` in `index` under its offers exactly while `isIn`.
    private static func move(
        _ id: WorkerID, in index: inout [Offer: Set<WorkerID>], from oldOffers: [Offer], _ wasIn: Bool, to newOffers: [Offer], _ isIn: Bool
    ) {
        guard oldOffers != newOffers || wasIn != isIn else { return }
        if wasIn { for offer in oldOffers { index[offer]?.remove(id) } }
        if isIn { for offer in newOffers { index[offer, default: []].insert(id) } }
    }
}

extension Scheduler.Worker {
    /// Whether the worker holds fewer leases than its slots plus `extra`.
    fileprivate func hasRoom(beyondSlots extra: Int) -> Bool { leases.count < Int(hello.slots) + extra }
}
