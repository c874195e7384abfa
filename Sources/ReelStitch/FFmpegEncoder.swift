import Foundation
import ReelCore

/// Streams RGB frames into an ffmpeg process that writes an H.264 / yuv420p MP4 (and,
/// optionally, one PNG per frame). The MP4 is written to a temporary name and renamed into
/// place when ffmpeg succeeds, so a half-written video never sits at the output path.
///
/// The process using it must ignore SIGPIPE, so an ffmpeg that dies turns a write into an
/// error instead of killing us.
public final class FFmpegEncoder {
    public let output: String
    private let temporary: String
    private let process = Process()
    private let input = Pipe()
    private let errors = Pipe()
    private let frameBytes: Int

    /// Starts ffmpeg. `pngDirectory`, when given, receives `frame-000001.png`, ...
    public init(
        output: String, width: Int, height: Int, fps: Int, pngDirectory: String? = nil,
        executable: String = "ffmpeg"
    ) throws {
        self.output = output
        frameBytes = width * height * 3
        let directory = (output as NSString).deletingLastPathComponent
        temporary = (directory.isEmpty ? "." : directory) + "/." + (output as NSString).lastPathComponent + ".partial.mp4"
        do {
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            if let pngDirectory { try FileManager.default.createDirectory(atPath: pngDirectory, withIntermediateDirectories: true) }
        } catch {
            throw ReelError(.encode, "cannot create the output directory for \(output): \(error.localizedDescription)")
        }
        var arguments = [
            "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-r", "\(fps)", "-i", "pipe:0",
            "-map", "0:v", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
            "-movflags", "+faststart", "-f", "mp4", temporary,
        ]
        if let pngDirectory { arguments += ["-map", "0:v", "-f", "image2", "\(pngDirectory)/frame-%06d.png"] }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ReelError(.encode, "cannot start ffmpeg: \(error.localizedDescription) (is it installed?)")
        }
    }

    /// Writes one frame of interleaved 8-bit RGB.
    public func write(_ rgb: [UInt8]) throws {
        precondition(rgb.count == frameBytes, "frame has \(rgb.count) bytes, expected \(frameBytes)")
        do { try input.fileHandleForWriting.write(contentsOf: rgb) } catch {
            throw ReelError(.encode, "ffmpeg stopped accepting frames: \(stderrText())")
        }
    }

    /// Closes the input, waits for ffmpeg, and moves the MP4 into place.
    public func finish() throws {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ReelError(.encode, "ffmpeg exited with status \(process.terminationStatus): \(stderrText())")
        }
        guard rename(temporary, output) == 0 else {
            throw ReelError(.encode, "cannot move \(temporary) to \(output): \(String(cString: strerror(errno)))")
        }
    }

    /// Stops ffmpeg and removes the partial file.
    public func abandon() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: temporary)
    }

    private func stderrText() -> String {
        let data = (try? errors.fileHandleForReading.readToEnd()) ?? nil
        let text = String(decoding: data ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "no message" : String(text.suffix(2000))
    }
}
