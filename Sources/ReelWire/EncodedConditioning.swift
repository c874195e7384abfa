import ReelCore

/// A task's conditioning in its wire form: which local frames are pinned, whether an initial
/// state follows, and the values as half floats (the pinned frames in order, then the initial
/// state). Half the bytes of ``Conditioning``'s floats, and built once, so sending it is a copy.
public struct EncodedConditioning: Sendable, Hashable {
    /// The pinned local frames, in increasing order.
    public let pinnedFrames: [Int]
    public let hasInitial: Bool
    /// The values, two bytes each (little-endian IEEE half floats).
    public let values: [UInt8]

    /// No conditioning.
    public static let none = EncodedConditioning(Conditioning.none)

    public init(_ conditioning: Conditioning) {
        pinnedFrames = conditioning.pinned.keys.sorted()
        hasInitial = conditioning.initial != nil
        var floats: [Float] = []
        floats.reserveCapacity(pinnedFrames.reduce(0) { $0 + conditioning.pinned[$1]!.count } + (conditioning.initial?.count ?? 0))
        for frame in pinnedFrames { floats += conditioning.pinned[frame]! }
        if let initial = conditioning.initial { floats += initial }
        values = LatentCodec.encode(floats)
    }
}
