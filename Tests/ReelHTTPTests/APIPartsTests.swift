import Foundation
import ReelCore
import Testing

@testable import ReelHTTP

/// The operator API's pure parts: ranges, tokens, spec bodies, previews, its document.
struct APIPartsTests {
    @Test(arguments: [
        ("bytes=0-9", ByteRange.Outcome.part(0...9)),
        ("bytes=90-", .part(90...99)),
        ("bytes=90-500", .part(90...99)),
        ("bytes=-10", .part(90...99)),
        ("bytes=-500", .part(0...99)),
        ("bytes=100-", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=9-3", .whole),
        ("bytes=0-1,4-5", .whole),
        ("bytes=abc-", .whole),
        ("bytes=99999999999999999999-", .whole),
        ("items=0-9", .whole),
    ])
    func rangesOfAHundredBytes(header: String, expected: ByteRange.Outcome) {
        #expect(ByteRange.parse(header, size: 100) == expected)
    }

    @Test func tokensAreRandomAndOnlyTheirHashIsKept() {
        let one = APIToken.generate(), two = APIToken.generate()
        #expect(one != two && one.hasPrefix("reel_") && one.count == 48)
        #expect(APIToken.hash(one).count == 64 && APIToken.hash(one) == APIToken.hash(one) && APIToken.hash(one) != APIToken.hash(two))
        #expect(APIToken.problem(withName: "ci-bot.2") == nil)
        for bad in ["", "a b", "a/b", String(repeating: "x", count: 65), "é"] { #expect(APIToken.problem(withName: bad) != nil, "\(bad)") }
    }

    @Test func aJSONSpecReadsLikeItsTOML() throws {
        let toml = """
            name = "same"
            prompt = "kites"
            seconds = 2.5
            fps = 12
            width = 96
            height = 64
            seed = 4
            shift = 3
            output = "same.mp4"
            """
        let json =
            #"{"name": "same", "prompt": "kites", "seconds": 2.5, "fps": 12, "width": 96, "height": 64, "seed": 4, "shift": 3, "output": "same.mp4"}"#
        let fromTOML = try SpecBody.read(Array(toml.utf8), contentType: "application/toml", base: "/").get()
        let fromJSON = try SpecBody.read(Array(json.utf8), contentType: "application/json; charset=utf-8", base: "/").get()
        #expect(fromTOML == fromJSON)
        let nulls = SpecBody.read(Array(#"{"name": null}"#.utf8), contentType: "application/json", base: "/")
        guard case .failure(let failure) = nulls else { Issue.record("a null field was accepted"); return }
        #expect(failure.problems.contains { $0.field == "name" && $0.problem.contains("null") })
        guard case .failure(let array) = SpecBody.read(Array("[1]".utf8), contentType: "application/json", base: "/") else { return }
        #expect(array.problems.first?.field == "body")
    }

    @Test func previewsArePNGsThatFFmpegReads() throws {
        // A 4 x 2 gradient, red rising left to right.
        let rgb = (0..<8).flatMap { pixel -> [Float] in [Float(pixel % 4) / 1.5 - 1, -1, 1] }
        let thumbnail = LatentPreview.thumbnail(rgb, width: 4, height: 2)
        let png = PNGEncoder.encode(rgb: thumbnail.pixels, width: thumbnail.width, height: thumbnail.height)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reel-png-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(png).write(to: directory.appendingPathComponent("p.png"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ffmpeg", "-v", "error", "-i", directory.appendingPathComponent("p.png").path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let decoded = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(Array(decoded) == thumbnail.pixels, "ffmpeg decodes exactly the pixels written")
        #expect(Array(decoded.prefix(12)) == [0, 0, 255, 85, 0, 255, 170, 0, 255, 255, 0, 255])
    }

    @Test func wanLatentsAreProjectedWithItsFactors() {
        let projection = LatentPreview.projection(family: "wan", channels: 16)
        // One pixel whose only non-zero channel is 2: R, G, B are that row of factors plus the bias.
        let frame = (0..<16).map { Float($0 == 2 ? 1 : 0) }
        let rgb = LatentPreview.rgb(frame[...], channels: 16, projection: projection)
        #expect(zip(rgb, [0.3568 - 0.1835, 0.2548 - 0.0868, 0.1747 - 0.3360]).allSatisfy { abs($0 - Float($1)) < 1e-5 }, "\(rgb)")
        // A family without published factors shows its first three channels.
        let other = LatentPreview.rgb(
            [0.5, -0.5, 0.25, 9][...], channels: 4, projection: LatentPreview.projection(family: "ltx", channels: 4))
        #expect(other == [0.5, -0.5, 0.25])
    }

    @Test func theServedDocumentIsTheOneInDocs() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Docs/api/openapi.json")
        let kept = try String(contentsOf: docs, encoding: .utf8)
        #expect(kept == APIServer.openAPIDocument + "\n", "Docs/api/openapi.json is stale: run `reel openapi > Docs/api/openapi.json`")
        let parsed = try JSONSerialization.jsonObject(with: Data(kept.utf8)) as? [String: Any]
        #expect(parsed?["openapi"] as? String == "3.1.0")
    }
}
