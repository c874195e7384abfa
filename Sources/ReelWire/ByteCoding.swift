/// Appends little-endian fields to a byte buffer.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }
    public mutating func f64(_ value: Double) { u64(value.bitPattern) }
    public mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        u32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }
    public mutating func blob(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }
    public mutating func strings(_ values: [String]) {
        u32(UInt32(values.count))
        for value in values { string(value) }
    }
}

/// Reads little-endian fields, failing with the name of the field that did not fit.
public struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0
    /// Longest string or blob accepted, so a length prefix cannot ask for gigabytes.
    public var maxLength: Int

    public init(_ bytes: [UInt8], maxLength: Int = 1 << 20) {
        self.bytes = bytes
        self.maxLength = maxLength
    }

    private mutating func take(_ count: Int, _ field: String) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else {
            throw WireError("field '\(field)' is truncated (needs \(count) bytes, \(bytes.count - offset) left)")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func u8(_ field: String) throws -> UInt8 { try take(1, field).first! }

    public mutating func u32(_ field: String) throws -> UInt32 {
        try take(4, field).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func u64(_ field: String) throws -> UInt64 {
        try take(8, field).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func i64(_ field: String) throws -> Int64 { Int64(bitPattern: try u64(field)) }
    public mutating func f64(_ field: String) throws -> Double { Double(bitPattern: try u64(field)) }

    /// A non-negative count or size that must also fit `limit`.
    public mutating func count(_ field: String, limit: Int) throws -> Int {
        let value = Int(try u32(field))
        guard value <= limit else { throw WireError("field '\(field)' is \(value), over the limit of \(limit)") }
        return value
    }

    public mutating func string(_ field: String) throws -> String {
        let length = try count(field, limit: maxLength)
        let slice = try take(length, field)
        guard let text = String(validating: slice, as: UTF8.self) else { throw WireError("field '\(field)' is not valid UTF-8") }
        return text
    }

    public mutating func blob(_ field: String) throws -> [UInt8] {
        Array(try take(try count(field, limit: maxLength), field))
    }

    public mutating func strings(_ field: String, limit: Int = 64) throws -> [String] {
        let count = try count(field, limit: limit)
        return try (0..<count).map { _ in try string(field) }
    }

    /// Fails if anything is left: a message must be exactly its fields.
    public func finish(_ message: String) throws {
        if offset != bytes.count { throw WireError("\(message) has \(bytes.count - offset) trailing bytes") }
    }
}

/// A message that could not be decoded; `reason` names the field or frame at fault.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
