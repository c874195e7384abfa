import Foundation
import ReelCore
import Testing

@testable import ReelStitch

/// The encoder's MP4 layout, with a real ffmpeg: the index at the front, written into room
/// reserved before the first frame, so that finishing rewrites nothing.
@Suite struct FFmpegEncoderTests {
    /// The top-level boxes of an MP4: type and size, in file order.
    static func boxes(_ path: String) throws -> [(type: String, size: Int)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var boxes: [(type: String, size: Int)] = []
        var offset = 0
        while offset + 8 <= data.count {
            let size = data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            boxes.append((String(decoding: data[(offset + 4)..<(offset + 8)], as: UTF8.self), size))
            guard size >= 8 else { break }
            offset += size
        }
        return boxes
    }

    /// Frames of noise: every frame a different size, many of them keyframes, the index's worst case.
    static func noise(frames: Int, bytes: Int) -> [[UInt8]] {
        var state: UInt64 = 12_345
        return (0..<frames).map { _ in
            (0..<bytes).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
        }
    }

    @Test(arguments: [false, true])
    func theIndexIsWrittenIntoRoomReservedAtTheFront(progressive: Bool) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reel-encoder-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = 600
        let encoder = try FFmpegEncoder(
            output: "\(folder)/noise.mp4", width: 16, height: 16, fps: 24, frames: frames, progressive: progressive)
        for frame in Self.noise(frames: frames, bytes: 16 * 16 * 3) { try encoder.write(frame) }
        try encoder.finish()

        let boxes = try Self.boxes("\(folder)/noise.mp4")
        #expect(boxes.map(\.type).prefix(2) == ["ftyp", "moov"], "the index does not come first: \(boxes.map(\.type))")
        let mdat = try #require(boxes.firstIndex { $0.type == "mdat" })
        let room = boxes[1..<mdat].map(\.size).reduce(0, +)
        // ffmpeg's faststart moves the whole file behind the index when it ends, leaving no such room.
        #expect(room >= FFmpegEncoder.indexReserve(frames: frames), "the index's room: \(room) bytes, \(boxes)")
        // Noise is the index's worst case here; the bound keeps three times what it needs.
        #expect(boxes[1].size * 3 < FFmpegEncoder.indexReserve(frames: frames), "the index took \(boxes[1].size) bytes of its reserve")
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/noise.live.mp4"))
    }

    @Test func theProgressiveFileIsMovedAsideWhenTheMP4IsDoneAndDeletedAfter() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reel-encoder-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = "\(folder)/clip.mp4", discarded = "\(folder)/\(FFmpegEncoder.discardedName(of: output))"
        #expect(FFmpegEncoder.discardedName(of: output) == ".clip.live.mp4.discarded")
        // One a killed coordinator moved aside and never deleted goes when the next encode starts.
        FileManager.default.createFile(atPath: discarded, contents: Data("stale".utf8))
        let encoder = try FFmpegEncoder(output: output, width: 16, height: 16, fps: 24, frames: 48, progressive: true)
        #expect(!FileManager.default.fileExists(atPath: discarded))
        for frame in Self.noise(frames: 48, bytes: 16 * 16 * 3) { try encoder.write(frame) }
        try encoder.finish()

        // The job's end does not wait for the deletion: the progressive file is only moved out of sight.
        #expect(FileManager.default.fileExists(atPath: output))
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/clip.live.mp4"))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: discarded)[.size] as? Int)
        #expect(size > 0, "the progressive file moved aside is the one ffmpeg wrote")
        FFmpegEncoder.discardProgressive(of: output, root: folder)
        #expect(!FileManager.default.fileExists(atPath: discarded))
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: folder)) == ["clip.mp4"])
    }

    @Test func aFrameCountOutsideTheSupportedRangeIsRefusedBeforeFFmpegStarts() {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reel-encoder-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for frames in [0, -1, FFmpegEncoder.maxFrames + 1] {
            let error = #expect(throws: ReelError.self) {
                _ = try FFmpegEncoder(output: "\(folder)/x.mp4", width: 16, height: 16, fps: 24, frames: frames)
            }
            #expect(error?.message.contains("cannot encode \(frames) frames") == true, "\(String(describing: error))")
        }
        #expect(!FileManager.default.fileExists(atPath: folder), "nothing is created for a refused encode")
    }
}
