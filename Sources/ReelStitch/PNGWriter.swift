import Foundation
import ReelCore
import Synchronization

/// Reads ffmpeg's stream of PNGs (`image2pipe`) on its own thread and writes each as
/// `frame-000001.png`, ... in a ``ConfinedDirectory``.
final class PNGWriter: Sendable {
    let pipe = Pipe()
    private let directory: ConfinedDirectory
    private let failure = Mutex<ReelError?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(directory: ConfinedDirectory) {
        self.directory = directory
    }

    func start() {
        let thread = Thread { [self] in
            defer { done.signal() }
            var splitter = PNGSplitter()
            var written = 0
            let reader = pipe.fileHandleForReading
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                for image in splitter.add(Array(data)) {
                    written += 1
                    do { try directory.write(String(format: "frame-%06d.png", written), image) } catch {
                        failure.withLock { $0 = $0 ?? (error as? ReelError ?? ReelError(.encode, "\(error)")) }
                    }
                }
            }
        }
        thread.name = "reel-png-writer"
        thread.start()
    }

    /// Waits for the stream's end; the first error writing a frame, if any.
    func finish() -> ReelError? {
        done.wait()
        return failure.withLock { $0 }
    }
}

/// Splits a byte stream of concatenated PNG files at each file's IEND chunk.
struct PNGSplitter {
    private var buffer: [UInt8] = []
    private var position = 8

    /// Adds bytes; returns the PNG files they complete.
    mutating func add(_ bytes: [UInt8]) -> [[UInt8]] {
        buffer += bytes
        var images: [[UInt8]] = []
        // Each chunk: 4-byte big-endian length, 4-byte type, data, 4-byte CRC.
        while buffer.count >= position + 12 {
            let length = buffer[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
            let end = position + 12 + length
            guard buffer.count >= end else { break }
            let isEnd = buffer[(position + 4)..<(position + 8)].elementsEqual("IEND".utf8)
            position = end
            if isEnd {
                images.append(Array(buffer[0..<end]))
                buffer.removeFirst(end)
                position = 8
            }
        }
        return images
    }
}
