import Foundation

/// The exact posterior over a region's discrete world choices given a noisy latent.
public struct ProceduralPosterior: Sendable {
    public let lanes: Int
    /// Global index of the first segment the region touches.
    public let firstSegment: Int
    public let segments: Int
    /// `P(take | x_t)`.
    public var takeProbabilities: [Double]
    /// `pairProbabilities[((take * lanes + lane) * segments + segment) * pairCount + pair]`:
    /// the probability of each keypoint move in each segment, given the take.
    var pairProbabilities: [Double]
    /// `boundaryProbabilities[((take * lanes + lane) * (segments + 1) + boundary) * states + state]`.
    var boundaryProbabilities: [Double]

    static let pairCount = KeypointWalk.pairs.count
    static let states = KeypointWalk.states

    init(lanes: Int, firstSegment: Int, segments: Int) {
        self.lanes = lanes
        self.firstSegment = firstSegment
        self.segments = segments
        let takes = ProceduralWorld.takeCount
        takeProbabilities = [Double](repeating: 1 / Double(takes), count: takes)
        pairProbabilities = [Double](repeating: 0, count: takes * lanes * segments * Self.pairCount)
        boundaryProbabilities = [Double](repeating: 0, count: takes * lanes * (segments + 1) * Self.states)
    }

    /// Probability of keypoint `state` at local boundary `boundary` of `lane`, given `take`.
    public func boundaryProbability(take: Int, lane: Int, boundary: Int, state: Int) -> Double {
        boundaryProbabilities[((take * lanes + lane) * (segments + 1) + boundary) * Self.states + state]
    }

    /// The most probable take, and for it each lane's most probable keypoint at each boundary.
    public var mostProbable: (take: Int, paths: [[Int]]) {
        let take = takeProbabilities.indices.max { takeProbabilities[$0] < takeProbabilities[$1] }!
        let paths = (0..<lanes).map { lane in
            (0...segments).map { boundary in
                (0..<Self.states).max {
                    boundaryProbability(take: take, lane: lane, boundary: boundary, state: $0)
                        < boundaryProbability(take: take, lane: lane, boundary: boundary, state: $1)
                }!
            }
        }
        return (take, paths)
    }

    /// Runs forward-backward over one lane's boundaries for one take, filling its marginals.
    /// `logEmission[segment * pairCount + pair]`; returns `log Z`.
    mutating func forwardBackward(take: Int, lane: Int, logEmission: UnsafeBufferPointer<Double>) -> Double {
        let pairs = KeypointWalk.pairs, states = Self.states, pairCount = Self.pairCount
        var alpha = [Double](repeating: -.infinity, count: (segments + 1) * states)
        var beta = [Double](repeating: -.infinity, count: (segments + 1) * states)
        for state in 0..<states { alpha[state] = -log(Double(states)); beta[segments * states + state] = 0 }
        for segment in 0..<segments {
            var next = [Double](repeating: -.infinity, count: states)
            for (p, pair) in pairs.enumerated() {
                next[pair.to] = logAdd(
                    next[pair.to], alpha[segment * states + pair.from] + pair.logProbability + logEmission[segment * pairCount + p])
            }
            for state in 0..<states { alpha[(segment + 1) * states + state] = next[state] }
        }
        for segment in stride(from: segments - 1, through: 0, by: -1) {
            for (p, pair) in pairs.enumerated() {
                let value = pair.logProbability + logEmission[segment * pairCount + p] + beta[(segment + 1) * states + pair.to]
                beta[segment * states + pair.from] = logAdd(beta[segment * states + pair.from], value)
            }
        }
        var logZ = -Double.infinity
        for state in 0..<states { logZ = logAdd(logZ, alpha[segments * states + state]) }
        let laneBase = take * lanes + lane
        for segment in 0..<segments {
            for (p, pair) in pairs.enumerated() {
                let value =
                    alpha[segment * states + pair.from] + pair.logProbability + logEmission[segment * pairCount + p]
                    + beta[(segment + 1) * states + pair.to] - logZ
                pairProbabilities[(laneBase * segments + segment) * pairCount + p] = exp(value)
            }
        }
        for boundary in 0...segments {
            for state in 0..<states {
                boundaryProbabilities[(laneBase * (segments + 1) + boundary) * states + state] =
                    exp(alpha[boundary * states + state] + beta[boundary * states + state] - logZ)
            }
        }
        return logZ
    }
}

/// `log(exp(a) + exp(b))` without overflow.
@inline(__always)
func logAdd(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b))
}
