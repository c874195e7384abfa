/// FNV-1a (64-bit) over bytes: the checksum of latent payloads, artifact files and stitched
/// videos, and the hash that turns a prompt into a world.
public enum Checksum {
    /// FNV-1a fed in pieces: equal to ``fnv1a(_:)`` over the concatenation.
    public struct Running: Sendable {
        public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

        public init() {}

        public mutating func add(_ bytes: UnsafeRawBufferPointer) {
            var hash = value
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            value = hash
        }
    }

    public static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var running = Running()
        bytes.withUnsafeBytes { running.add($0) }
        return running.value
    }

    /// The checksum of a latent payload (RESULT messages, artifact files): FNV-1a (64-bit) fed
    /// little-endian 64-bit words, then the trailing bytes one at a time. One multiply per 8
    /// bytes instead of per byte, so a worker and the coordinator spend microseconds on it.
    public static func payload(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { raw in
            var hash = Running().value
            let words = raw.count / 8
            for index in 0..<words {
                hash = (hash ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))) &* 0x100_0000_01b3
            }
            for index in (words * 8)..<raw.count { hash = (hash ^ UInt64(raw[index])) &* 0x100_0000_01b3 }
            return hash
        }
    }

    /// The checksum as 16 hex digits, as stored in the database.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
