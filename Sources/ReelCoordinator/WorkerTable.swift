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
/// task: by what they offer, and whether they have room for another lease. Every change to a
/// worker goes through the subscript, which keeps the indexes.
struct WorkerTable: Sendable {
    private(set) var all: [WorkerID: Scheduler.Worker] = [:]
    /// Every worker, by offer.
    private(set) var byOffer: [Offer: Set<WorkerID>] = [:]
    /// Workers with room for another lease (fewer than slots + `prefetch`), by offer.
    private(set) var open: [Offer: Set<WorkerID>] = [:]
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

    @discardableResult
    mutating func removeValue(forKey id: WorkerID) -> Scheduler.Worker? {
        let old = all[id]
        self[id] = nil
        return old
    }

    var count: Int { all.count }
    var isEmpty: Bool { all.isEmpty }

    /// Workers with room for another lease that offer what `offer` needs, in id order.
    func open(for offer: Offer) -> [WorkerID] {
        offer.matchingOffers.reduce(into: Set<WorkerID>()) { $0.formUnion(open[$1] ?? []) }.sorted()
    }

    /// Whether any worker (other than those `excluding` says) offers what `offer` needs.
    func anyOffers(_ offer: Offer, excluding: (WorkerID) -> Bool = { _ in false }) -> Bool {
        offer.matchingOffers.contains { (byOffer[$0] ?? []).contains { !excluding($0) } }
    }

    private mutating func reindex(_ id: WorkerID, old: Scheduler.Worker?, new: Scheduler.Worker?) {
        let oldOffers = old.map { Offer.of($0.hello) } ?? [], newOffers = new.map { Offer.of($0.hello) } ?? []
        let wasOpen = old.map(hasRoom) ?? false, isOpen = new.map(hasRoom) ?? false
        if oldOffers != newOffers {
            for offer in oldOffers { byOffer[offer]?.remove(id) }
            for offer in newOffers { byOffer[offer, default: []].insert(id) }
        }
        if oldOffers != newOffers || wasOpen != isOpen {
            if wasOpen { for offer in oldOffers { open[offer]?.remove(id) } }
            if isOpen { for offer in newOffers { open[offer, default: []].insert(id) } }
        }
        if new?.leases.isEmpty == false { busy.insert(id) } else { busy.remove(id) }
    }

    private func hasRoom(_ worker: Scheduler.Worker) -> Bool { worker.leases.count < Int(worker.hello.slots) + prefetch }
}
