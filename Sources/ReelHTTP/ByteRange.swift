/// The `Range` header of a request for part of a file (RFC 9110 §14), for a video player
/// that seeks: one range of bytes; anything else is served whole.
enum ByteRange {
    enum Outcome: Equatable {
        /// Serve the whole file (no header, several ranges, or a header this server ignores).
        case whole
        /// Serve these bytes (206).
        case part(ClosedRange<Int>)
        /// Nothing of the file is in the range asked for (416).
        case unsatisfiable
    }

    static func parse(_ header: String?, size: Int) -> Outcome {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        let digits = { (text: Substring) -> Int? in
            text.isEmpty || text.count > 18 || !text.allSatisfy(\.isASCII) || !text.allSatisfy(\.isNumber) ? nil : Int(text)
        }
        if parts[0].isEmpty {
            // The last n bytes.
            guard let count = digits(parts[1]) else { return .whole }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .part(max(0, size - count)...(size - 1))
        }
        guard let first = digits(parts[0]) else { return .whole }
        let last: Int
        if parts[1].isEmpty {
            last = size - 1
        } else {
            guard let given = digits(parts[1]), given >= first else { return .whole }
            last = min(given, size - 1)
        }
        guard first < size else { return .unsatisfiable }
        return .part(first...last)
    }
}
