/// How one shot's keyframes are sampled, coarse to fine, in keyframe sets of at most
/// `capacity` frames each (decision 0035).
///
/// The top set samples every `branching^depth`-th keyframe jointly. Each set of a finer
/// level samples the keyframes between two neighbouring anchors of the level above, with
/// those two anchors pinned; so identity and layout are still decided once, at the top, for
/// the whole shot, while no task (and no result) grows with the video's length. A shot with
/// at most `capacity` keyframes is one set, sampled jointly as before.
///
/// Keyframes are named by their position in the shot's keyframe list (0 is its first).
public struct KeyframeTree: Sendable, Hashable, Codable {
    /// The shot these keyframes belong to.
    public let shot: Int
    /// The global latent frame of keyframe 0, and the spacing of the shot's keyframes.
    public let first: Int
    public let every: Int
    /// How many keyframes the shot has (at least 1).
    public let count: Int
    /// The most frames one set holds, pinned anchors included (at least 3).
    public let capacity: Int
    /// Levels below the top one.
    public let depth: Int
    /// The index of each level's first set; the last entry is the number of sets.
    let levelStarts: [Int]

    /// Plans the sets of `count` keyframes spaced `every` frames from `first`.
    ///
    /// Precondition: `count >= 1`, `every >= 1`, `capacity >= 3`.
    public init(shot: Int, first: Int, every: Int, count: Int, capacity: Int) {
        precondition(count >= 1 && every >= 1 && capacity >= 3)
        self.shot = shot
        self.first = first
        self.every = every
        self.count = count
        self.capacity = capacity
        let branching = capacity - 1
        var depth = 0, topStride = 1
        while (count + topStride - 1) / topStride > capacity {
            depth += 1
            topStride *= branching
        }
        self.depth = depth
        var starts = [0, 1]
        var stride = topStride
        for _ in 0..<depth {
            let parentStride = stride
            stride /= branching
            // One set per anchor `a` of the level above that has a keyframe after it at this level.
            let sets = count - 1 >= stride ? (count - 1 - stride) / parentStride + 1 : 0
            starts.append(starts.last! + sets)
        }
        levelStarts = starts
    }

    /// New keyframes between two anchors of the level above.
    var branching: Int { capacity - 1 }

    /// How many sets the tree has.
    public var setCount: Int { levelStarts.last! }

    /// The keyframe spacing (in positions) of level `level`: level 0 takes every `branching^depth`-th.
    func stride(ofLevel level: Int) -> Int {
        var stride = 1
        for _ in level..<depth { stride *= branching }
        return stride
    }

    /// The level of set `set`.
    func level(ofSet set: Int) -> Int {
        precondition(set >= 0 && set < setCount, "keyframe set \(set) of \(setCount)")
        return levelStarts.lastIndex { $0 <= set }!
    }

    /// The keyframe positions set `set` holds, ascending (local frame `i` is the `i`-th), and
    /// which of them are pinned anchors sampled by coarser sets.
    public func positions(ofSet set: Int) -> (all: [Int], pinned: [Int]) {
        let level = level(ofSet: set)
        if level == 0 { return (Array(Swift.stride(from: 0, to: count, by: self.stride(ofLevel: 0))), []) }
        let stride = self.stride(ofLevel: level), parentStride = stride * branching
        let anchor = (set - levelStarts[level]) * parentStride
        let end = anchor + parentStride
        let sampled = Array(Swift.stride(from: anchor + stride, to: min(end, count), by: stride))
        let pinned = end < count ? [anchor, end] : [anchor]
        return ([anchor] + sampled + (end < count ? [end] : []), pinned)
    }

    /// The global latent frames set `set` samples, ascending.
    public func frames(ofSet set: Int) -> [Int] { positions(ofSet: set).all.map(frame(ofPosition:)) }

    /// The latent frames spanned by the set one level above set `set` (the one whose
    /// keyframes pin it): the whole shot for the top set and its children.
    public func parentSpan(ofSet set: Int) -> Int {
        let level = level(ofSet: set)
        return level <= 1 ? count * every : self.stride(ofLevel: level - 1) * branching * every
    }

    /// The global latent frame of keyframe `position`.
    public func frame(ofPosition position: Int) -> Int { first + position * every }

    /// The set that samples keyframe `position`, and its local frame there.
    public func owner(ofPosition position: Int) -> (set: Int, localFrame: Int) {
        precondition(position >= 0 && position < count, "keyframe \(position) of \(count)")
        var level = 0
        while position % stride(ofLevel: level) != 0 { level += 1 }
        let stride = self.stride(ofLevel: level)
        if level == 0 { return (0, position / stride) }
        let parentStride = stride * branching
        return (levelStarts[level] + position / parentStride, position % parentStride / stride)
    }

    /// The sets whose keyframes set `set` is pinned to, ascending.
    public func dependencies(ofSet set: Int) -> [Int] {
        Array(Set(positions(ofSet: set).pinned.map { owner(ofPosition: $0).set })).sorted()
    }

    /// The keyframe positions whose frames lie in `frames`, ascending.
    public func positions(in frames: Range<Int>) -> Range<Int> {
        func firstAtOrAfter(_ frame: Int) -> Int { min(count, max(0, (frame - first + every - 1) / every)) }
        let lower = frames.lowerBound <= first ? 0 : firstAtOrAfter(frames.lowerBound)
        let upper = frames.upperBound <= first ? 0 : firstAtOrAfter(frames.upperBound)
        return lower..<max(lower, upper)
    }
}
