import Foundation
import ReelCore

/// The lazy random walk that keypoints follow between segment boundaries.
enum KeypointWalk {
    static let states = ProceduralWorld.keypointCount

    /// Allowed (from, to) moves with their log-probabilities: left, stay, right, 1/3 each;
    /// a move off the edge stays instead, so the walk is doubly stochastic (uniform stationary).
    static let pairs: [(from: Int, to: Int, logProbability: Double)] = {
        var pairs: [(Int, Int, Double)] = []
        for from in 0..<states {
            for to in max(0, from - 1)...min(states - 1, from + 1) {
                let edgeStay = to == from && (from == 0 || from == states - 1)
                pairs.append((from, to, log(edgeStay ? 2.0 / 3.0 : 1.0 / 3.0)))
            }
        }
        return pairs
    }()

    /// `pairIndex[from * states + to]`: the index into ``pairs``, or -1 when the move is not allowed.
    static let pairIndex: [Int] = {
        var index = [Int](repeating: -1, count: states * states)
        for (i, pair) in pairs.enumerated() { index[pair.from * states + pair.to] = i }
        return index
    }()
}

/// Every sprite footprint a region can show: one anti-aliased mask per (lane, frame, move),
/// clipped to the lane and the region. Independent of noise level and take, so built once per chunk.
struct SpriteMasks {
    struct Box {
        var rows: Range<Int>  // local rows
        var columns: Range<Int>  // local columns
        var offset: Int  // into `values`, row-major over the box
    }

    let frames: Int
    let pairCount: Int
    /// `boxes[(lane * frames + localFrame) * pairCount + pair]`.
    var boxes: [Box] = []
    var values: [Float] = []

    init(world: ProceduralWorld, frames sampled: [Int], rows: Range<Int>, columns: Range<Int>, progress: () -> Void) {
        frames = sampled.count
        let region = Region(frames: sampled.first!..<(sampled.last! + 1), rows: rows, columns: columns)
        pairCount = KeypointWalk.pairs.count
        for lane in world.lanes.indices {
            let laneRows = world.lanes[lane].clamped(to: region.rows)
            for frame in sampled {
                for pair in KeypointWalk.pairs {
                    let center = world.center(lane: lane, frame: frame, from: pair.from, to: pair.to)
                    let reach = world.radius[lane] + 1
                    let rows = Int((center.y - reach).rounded(.down))..<Int((center.y + reach).rounded(.up))
                    let columns = Int((center.x - reach).rounded(.down))..<Int((center.x + reach).rounded(.up))
                    let clippedRows = rows.clamped(to: laneRows), clippedColumns = columns.clamped(to: region.columns)
                    boxes.append(
                        Box(
                            rows: (clippedRows.lowerBound - region.rows.lowerBound)..<(clippedRows.upperBound - region.rows.lowerBound),
                            columns: (clippedColumns.lowerBound - region.columns.lowerBound)..<(clippedColumns.upperBound
                                - region.columns.lowerBound),
                            offset: values.count))
                    for y in clippedRows {
                        for x in clippedColumns { values.append(world.coverage(lane: lane, x: x, y: y, center: center)) }
                    }
                }
                progress()
            }
        }
    }

    @inline(__always)
    func box(lane: Int, frame: Int, pair: Int) -> Box { boxes[(lane * frames + frame) * pairCount + pair] }
}
