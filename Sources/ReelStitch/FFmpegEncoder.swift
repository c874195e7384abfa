import Foundation
import ReelCore

/// Streams RGB frames into an ffmpeg process that writes an H.264 / yuv420p MP4 (and,
/// optionally, one PNG per frame). Every file is created by this process relative to a
/// ``ConfinedDirectory`` (no symbolic link below the output root is followed, whenever it was
/// made): the MP4 goes to a temporary file ffmpeg writes through its descriptor, renamed into
/// place when ffmpeg succeeds; PNGs come back from ffmpeg on a pipe and are written here.
///
/// The MP4 keeps its index (`moov`) at the front, where a player reading it over HTTP needs
/// it first, without ffmpeg's `faststart` rewrite of the whole file when it ends: room for the
/// index is reserved before the first frame (``indexReserve(frames:)``), so finishing costs the
/// same for a minute of video as for an hour.
///
/// With `progressive`, the same encoded stream also goes, as it is made, into a fragmented
/// MP4 beside the output (``liveName(of:)``) that players and ffprobe read while it grows;
/// the final MP4's bytes do not depend on it (one encode feeds both through ffmpeg's tee muxer).
/// When the MP4 is finished the progressive file is moved aside (``discardedName(of:)``) for
/// ``discardProgressive(of:root:)`` to delete once the job is reported: deleting a file as long
/// as the video frees all its blocks (0.1-0.4 s for 2 GiB), which the job's end need not wait for.
///
/// The process using it must ignore SIGPIPE, so an ffmpeg that dies turns a write into an
/// error instead of killing us.
public final class FFmpegEncoder {
    public let output: String
    private let directory: ConfinedDirectory
    private let name: String
    private let temporary: String
    private let temporaryFile: Int32
    /// The growing fragmented MP4 (progressive output), when on.
    private let live: (name: String, file: Int32)?
    private let process = Process()
    private let input = Pipe()
    private let errors = Pipe()
    private let frameBytes: Int
    private let pngs: PNGWriter?
    /// Set by ``finish()`` or ``abandon()``: the descriptors are closed, and stay so.
    private var ended = false

    /// Starts ffmpeg for a video of `frames` frames. `root` is the folder outputs must stay
    /// inside (the output's own folder when nil). `pngDirectory`, when given, receives
    /// `frame-000001.png`, ...
    /// `niceness`, when given, is ffmpeg's nice value (an encode beside a render yields to it).
    public init(
        output: String, root: String? = nil, width: Int, height: Int, fps: Int, frames: Int, pngDirectory: String? = nil,
        progressive: Bool = false, niceness: Int32? = nil, executable: String = "ffmpeg"
    ) throws {
        guard (1...Self.maxFrames).contains(frames) else {
            throw ReelError(.encode, "cannot encode \(frames) frames: between 1 and \(Self.maxFrames) are supported")
        }
        self.output = output
        frameBytes = width * height * 3
        let folder = (output as NSString).deletingLastPathComponent
        let root = root ?? folder
        directory = try ConfinedDirectory(root: root, path: folder.isEmpty ? "." : folder, create: true)
        name = (output as NSString).lastPathComponent
        temporary = "." + name + ".partial.mp4"
        directory.remove(temporary)
        temporaryFile = try directory.createFile(temporary, exclusive: true)
        if progressive {
            let liveName = FFmpegEncoder.liveName(of: name)
            directory.remove(liveName)
            // One a killed process moved aside but had not deleted yet.
            directory.remove(Self.discardedName(of: name))
            live = (liveName, try directory.createFile(liveName, exclusive: true))
        } else {
            live = nil
        }
        pngs = try pngDirectory.map { PNGWriter(directory: try ConfinedDirectory(root: root, path: $0, create: true)) }
        // ffmpeg reaches its files through this process's descriptors, never by a path it could be redirected on.
        let mp4 = "/proc/\(getpid())/fd/\(temporaryFile)"
        var arguments = [
            "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-r", "\(fps)", "-i", "pipe:0",
            "-map", "0:v", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact+global_header", "-map_metadata", "-1",
        ]
        let reserve = Self.indexReserve(frames: frames)
        if let live {
            // Fragments of at most a second, each flushed as it is cut.
            let fragmented = "f=mp4:movflags=frag_keyframe+empty_moov+default_base_moof:frag_duration=1000000:flush_packets=1"
            arguments += ["-f", "tee", "[f=mp4:moov_size=\(reserve)]\(mp4)|[\(fragmented)]/proc/\(getpid())/fd/\(live.file)"]
        } else {
            arguments += ["-moov_size", "\(reserve)", "-f", "mp4", mp4]
        }
        if pngs != nil { arguments += ["-map", "0:v", "-c:v", "png", "-f", "image2pipe", "pipe:1"] }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = pngs?.pipe ?? FileHandle.nullDevice
        do { try process.run() } catch {
            close(temporaryFile)
            directory.remove(temporary)
            removeLive()
            throw ReelError(.encode, "cannot start ffmpeg: \(error.localizedDescription) (is it installed?)")
        }
        if let niceness { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(process.processIdentifier), niceness) }
        pngs?.start()
    }

    /// The most frames one encode takes: the longest video a spec may ask for, at 240 fps.
    public static let maxFrames = Int(JobSpecParser.maxSeconds) * 240

    /// Bytes reserved at the front of the MP4 for its index: an upper bound of what ffmpeg's
    /// MP4 muxer writes for one H.264 track, 48 bytes a frame (a size, a composition offset,
    /// a duration, a sync-sample entry, a dependency byte and a chunk's offset and run each,
    /// about 45 at worst; about 12 are used) and 64 KiB of fixed boxes. Too small a reserve
    /// fails the encode, so the bound is generous; it costs 0.1-0.5% of a real video's size.
    public static func indexReserve(frames: Int) -> Int { 65_536 + 48 * frames }

    /// The progressive output's file name beside `output`'s: `video.mp4` → `video.live.mp4`.
    public static func liveName(of output: String) -> String {
        let name = (output as NSString).lastPathComponent
        let stem = (name as NSString).deletingPathExtension
        return ((output as NSString).deletingLastPathComponent as NSString).appendingPathComponent((stem.isEmpty ? name : stem) + ".live.mp4")
    }

    /// Writes one frame of interleaved 8-bit RGB.
    public func write(_ rgb: [UInt8]) throws {
        precondition(rgb.count == frameBytes, "frame has \(rgb.count) bytes, expected \(frameBytes)")
        do { try input.fileHandleForWriting.write(contentsOf: rgb) } catch {
            throw ReelError(.encode, "ffmpeg stopped accepting frames: \(stderrText())")
        }
    }

    /// Closes the input, waits for ffmpeg (and its PNGs), and moves the MP4 into place.
    public func finish() throws {
        guard !ended else { throw ReelError(.encode, "the encoder was already finished or abandoned") }
        ended = true
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let pngFailure = pngs?.finish()
        close(temporaryFile)
        guard process.terminationStatus == 0 else {
            removeLive()
            directory.remove(temporary)
            throw ReelError(.encode, "ffmpeg exited with status \(process.terminationStatus): \(stderrText())")
        }
        if let pngFailure {
            removeLive()
            directory.remove(temporary)
            throw pngFailure
        }
        // The finished MP4 replaces the progressive one, which is moved aside: a rename takes
        // no longer for a long video, the deletion (later) does.
        if let live {
            close(live.file)
            if (try? directory.rename(live.name, to: Self.discardedName(of: name))) == nil { directory.remove(live.name) }
        }
        try directory.rename(temporary, to: name)
    }

    /// The name a finished encode's progressive file is moved to until it is deleted (hidden):
    /// `video.mp4` → `.video.live.mp4.discarded`.
    public static func discardedName(of output: String) -> String {
        "." + (liveName(of: output) as NSString).lastPathComponent + ".discarded"
    }

    /// Deletes the progressive file a finished encode of `output` moved aside, if it is there
    /// (`root`: the folder outputs stay inside, as for the encoder's).
    public static func discardProgressive(of output: String, root: String? = nil) {
        let folder = (output as NSString).deletingLastPathComponent
        let directory = try? ConfinedDirectory(root: root ?? folder, path: folder.isEmpty ? "." : folder, create: false)
        directory?.remove(discardedName(of: output))
    }

    /// Stops ffmpeg and removes the partial file.
    public func abandon() {
        guard !ended else { return }
        ended = true
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        _ = pngs?.finish()
        close(temporaryFile)
        directory.remove(temporary)
        removeLive()
    }

    private func removeLive() {
        guard let live else { return }
        close(live.file)
        directory.remove(live.name)
    }

    private func stderrText() -> String {
        let data = (try? errors.fileHandleForReading.readToEnd()) ?? nil
        let text = String(decoding: data ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "no message" : String(text.suffix(2000))
    }
}
