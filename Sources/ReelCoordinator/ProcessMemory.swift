import Foundation

/// Reading a process's memory from /proc (Linux).
public enum ProcessMemory {
    /// `VmHWM` (peak) or `VmRSS` (now) of `pid` ("self" for this process), in MB; nil where
    /// /proc does not say.
    public static func megabytes(_ field: String, pid: String = "self") -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("\(field):") }),
            let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes / 1024
    }
}
