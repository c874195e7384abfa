import Foundation
import Testing

@testable import ReelCore

@Suite struct JobSpecParserTests {
    static let valid = """
        name = "demo"
        prompt = "a red fox in the snow"
        seconds = 10
        fps = 24
        width = 256
        height = 144
        seed = 42
        backend = "procedural"
        steps = 10
        chunk_frames = 48
        overlap = 8
        output = "out/demo.mp4"
        """

    func problems(replacing key: String, with line: String) -> String {
        let text = Self.valid.split(separator: "\n").filter { !(key == "chunk_frames" && $0.hasPrefix("overlap =")) }
            .map { $0.hasPrefix("\(key) =") ? line : String($0) }.joined(separator: "\n")
        do {
            _ = try JobSpecParser.parse(text, source: "test.toml")
            return ""
        } catch let error as ReelError {
            #expect(error.code == .invalidSpec)
            return error.message
        } catch {
            Issue.record("unexpected error \(error)")
            return ""
        }
    }

    @Test func parsesAValidSpec() throws {
        let spec = try JobSpecParser.parse(Self.valid)
        #expect(spec.name == "demo")
        #expect(spec.frameCount == 240)
        #expect(spec.grid == LatentGrid(frames: 240, channels: 3, height: 144, width: 256))
        #expect(spec.seed == 42 && spec.steps == 10 && spec.chunkFrames == 48 && spec.overlap == 8)
        #expect(spec.shift == 3.0 && spec.tileWidth == 0 && spec.pngDirectory == nil)
    }

    @Test func keyframesDefaultToNoFartherApartThanTheChunksAdvance() throws {
        #expect(try JobSpecParser.parse(Self.valid).keyframeEvery == 24)
        let short = Self.valid.replacingOccurrences(of: "chunk_frames = 48", with: "chunk_frames = 16")
            .replacingOccurrences(of: "overlap = 8", with: "overlap = 4")
        #expect(try JobSpecParser.parse(short).keyframeEvery == 12)
        #expect(try JobSpecParser.parse(short + "\nkeyframe_every = 30").keyframeEvery == 30)
    }

    @Test(arguments: [
        ("seconds", "seconds = -5", "field 'seconds': must be a positive number"),
        ("seconds", "seconds = 1e300", "field 'seconds': must be at most 14400 (got 1e+300)"),
        ("fps", "fps = 0", "field 'fps': must be between 1 and 240 (got 0)"),
        ("width", "width = 250", "field 'width': must be a multiple of 16 for the procedural backend (got 250)"),
        ("height", "height = -16", "field 'height': must be positive (got -16)"),
        ("overlap", "overlap = 48", "field 'overlap': must be less than chunk_frames = 48 (got 48)"),
        ("overlap", "overlap = -1", "field 'overlap': must be >= 0 (got -1)"),
        ("backend", "backend = \"sora\"", "field 'backend': unknown backend 'sora' (known: procedural, simulated, diffusers)"),
        ("steps", "steps = 0", "field 'steps': must be between 1 and 1000 (got 0)"),
        ("chunk_frames", "chunk_frames = 1\noverlap = 0", "field 'chunk_frames': must be between 2 and 100000 (got 1)"),
        ("chunk_frames", "chunk_frames = 9223372036854775807\noverlap = 0", "field 'chunk_frames': must be between 2 and 100000"),
        ("prompt", "prompt = \"\(String(repeating: "x", count: 5000))\"", "field 'prompt': must be at most 4096 bytes (got 5000)"),
        ("seed", "seed = -3", "field 'seed': must be >= 0 (got -3)"),
        ("fps", "fps = \"fast\"", "field 'fps': must be an integer (got a string)"),
        ("output", "output = \"movie.avi\"", "field 'output': must end in .mp4"),
        ("name", "name = \"bad name!\"", "field 'name': must be 1-64 characters"),
        ("prompt", "prompt = \"  \"", "field 'prompt': must not be empty"),
    ])
    func eachBadFieldHasItsOwnMessage(key: String, line: String, expected: String) {
        let message = problems(replacing: key, with: line)
        #expect(message.contains(expected), "got: \(message)")
        #expect(message.contains("1 problem"), "only the bad field is reported: \(message)")
    }

    /// Attack E and G: a spec within every field's range can still ask for chunks no worker can
    /// hold, or more tasks than the store should take; both are refused naming the limit.
    @Test func specsThatWouldExhaustTheFarmAreRefusedNamingTheLimit() {
        let text = Self.valid.replacingOccurrences(of: "width = 256", with: "width = 4096")
            .replacingOccurrences(of: "height = 144", with: "height = 4096").replacingOccurrences(of: "chunk_frames = 48", with: "chunk_frames = 14400")
        var huge = ""
        do { _ = try JobSpecParser.parse(text, source: "test.toml") } catch { huge = "\(error)" }
        #expect(huge.contains("field 'chunk_frames': a chunk of 240 frames of 4096x4096 latent pixels"), "\(huge)")
        #expect(huge.contains("more than the limit of 134217728"), "\(huge)")
        let many = {
            let text = Self.valid.replacingOccurrences(of: "seconds = 10", with: "seconds = 14400").replacingOccurrences(of: "fps = 24", with: "fps = 240")
                .replacingOccurrences(of: "chunk_frames = 48", with: "chunk_frames = 8").replacingOccurrences(of: "overlap = 8", with: "overlap = 4")
            do { _ = try JobSpecParser.parse(text, source: "test.toml") } catch { return "\(error)" }
            return ""
        }()
        #expect(many.contains("field 'seconds': the job would have about"), "\(many)")
        #expect(many.contains("more than the limit of 250000"), "\(many)")
        #expect(problems(replacing: "seconds", with: "seconds = 600") == "", "a 10-minute video is well within the limits")
    }

    /// A keyframe set is whole frames even when chunks are tiles: a tiled spec whose chunks fit
    /// but whose sets of whole frames would not is refused, naming both (decision 0035).
    @Test func keyframeSetsOfWholeFramesMustFitTheLimitToo() {
        func parse(_ consistency: String) -> String {
            let text = Self.valid.replacingOccurrences(of: "width = 256", with: "width = 4096")
                .replacingOccurrences(of: "height = 144", with: "height = 4096")
                .replacingOccurrences(of: "chunk_frames = 48", with: "chunk_frames = 4\ntile_width = 1024\ntile_height = 1024")
                .replacingOccurrences(of: "overlap = 8", with: "overlap = 1\nconsistency = \"\(consistency)\"")
            do { _ = try JobSpecParser.parse(text, source: "test.toml") } catch { return "\(error)" }
            return ""
        }
        let rolling = parse("rolling")
        #expect(rolling.contains("field 'chunk_frames': a keyframe set of up to 4 whole frames of 4096x4096"), "\(rolling)")
        #expect(parse("independent") == "", "the same tiles with no keyframes fit")
    }

    @Test func missingAndUnknownKeysAreNamed() {
        let message = problems(replacing: "fps", with: "fsp = 24")
        #expect(message.contains("field 'fps': is required"))
        #expect(message.contains("field 'fsp': unknown key"))
    }

    @Test func invalidTomlNamesTheLine() {
        #expect(throws: ReelError.self) { try JobSpecParser.parse("name = \"x\"\nseconds = = 3") }
        do { _ = try JobSpecParser.parse("name = \"x\"\nseconds = = 3", source: "bad.toml") } catch let error as ReelError {
            #expect(error.message.contains("bad.toml: not valid TOML at line 2"))
        } catch { Issue.record("wrong error") }
    }

    @Test func tilesMustFitAndExceedTheirOverlap() {
        #expect(
            problems(replacing: "output", with: "output = \"a.mp4\"\ntile_width = 16\ntile_overlap = 16").contains(
                "field 'tile_width': must be greater than tile_overlap = 16"))
        #expect(
            problems(replacing: "output", with: "output = \"a.mp4\"\ntile_height = 160").contains(
                "field 'tile_height': must not exceed the frame (144)"))
    }

    /// The error a spec's text is refused with ("" when it parses).
    func errorText(_ text: String) -> String {
        do {
            _ = try JobSpecParser.parse(text)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func modelKeysApplyToTheDiffusersBackendOnly() {
        let text = Self.valid + "\nmodel = \"/m\"\nguidance_scale = 3"
        let message = errorText(text)
        #expect(message.contains("field 'model': applies to the diffusers backend only (backend is procedural)"), "\(message)")
        #expect(message.contains("field 'guidance_scale': applies to the diffusers backend only"), "\(message)")
    }

    /// A shot starting at 1e300 s once trapped converting to a frame index (issue 12, A): now a problem.
    @Test func aHugeShotStartIsAProblemNotATrap() throws {
        let text = """
            name = "huge"
            seconds = 10
            fps = 24
            width = 64
            height = 64
            seed = 1
            output = "h.mp4"
            [[shots]]
            prompt = "a"
            start = 0
            [[shots]]
            prompt = "b"
            start = 1e300
            """
        let message = errorText(text)
        #expect(message.contains("field 'shots[1].start': must be before the end of the video (10.0 s)"), "\(message)")
    }

    /// A diffusers spec names its model; the parser reads its geometry through the given reader,
    /// and the size rules follow the model (VAE factor × patch).
    @Test func aDiffusersSpecTakesItsGridFromTheModel() throws {
        let wan = ModelGeometry(
            pipeline: "WanPipeline", family: "wan", latentChannels: 16, temporalCompression: 4, spatialCompression: 8, patchFrames: 1,
            patchHeight: 2, patchWidth: 2, decoderCausal: true)
        func parse(_ extra: String) throws -> JobSpec {
            try JobSpecParser.parse(
                """
                name = "w"
                prompt = "a fox"
                backend = "diffusers"
                model = "m"
                seconds = 4
                fps = 16
                seed = 1
                output = "w.mp4"
                \(extra)
                """
            ) { (path: String) throws(SpecProblemError) in ("/models/" + path, wan) }
        }
        let spec = try parse("width = 832\nheight = 480")
        #expect(spec.model?.path == "/models/m")
        #expect(spec.grid == LatentGrid(frames: 17, channels: 16, height: 60, width: 104), "64 frames need 17 latent frames")
        #expect(throws: ReelError.self) { try parse("width = 840\nheight = 480") }
        #expect(throws: ReelError.self) { try parse("width = 832\nheight = 480\nshift = 5") }
    }
}
