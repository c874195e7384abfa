/// Pinned noise values ε(seed 42, frame, channel, y, x), as IEEE-754 bit patterns so they compare exactly.
enum NoiseVectors {
    static let seed42: [(Int, Int, Int, Int, Float)] = [
        (0, 0, 0, 0, 3212336732),
        (0, 1, 0, 0, 3218637047),
        (0, 2, 5, 7, 3189470335),
        (17, 0, 3, 200, 1067323429),
        (1439, 2, 143, 255, 3211262710),
        (100000, 1, 2, 3, 3221969277),
    ].map { ($0.0, $0.1, $0.2, $0.3, Float(bitPattern: $0.4)) }
}
