/// The validation rules of a job spec, one check per field, shared by parsed and coded specs.
enum SpecRules {
    static func check(_ spec: JobSpec) -> [SpecProblem] {
        var problems: [SpecProblem] = []
        func fail(_ field: String, _ problem: String) { problems.append(SpecProblem(field: field, problem: problem)) }

        let nameCharacters = spec.name.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
        }
        if spec.name.isEmpty || spec.name.count > 64 || !nameCharacters {
            fail("name", "must be 1-64 characters of letters, digits, '-', '_' or '.' (got '\(spec.name)')")
        }
        if spec.prompt.trimmingWhitespace().isEmpty { fail("prompt", "must not be empty") }
        for (field, text) in [("prompt", spec.prompt), ("output", spec.output), ("png_dir", spec.pngDirectory ?? "")]
        where text.utf8.count > maxText {
            fail(field, "must be at most \(maxText) bytes (got \(text.utf8.count))")
        }
        if let url = spec.notifyURL, let problem = WebhookURL.problem(url) { fail("notify_url", problem) }
        if spec.shots.count > maxShots { fail("shots", "must be at most \(maxShots) (got \(spec.shots.count))") }
        for (index, shot) in spec.shots.enumerated() where shot.prompt.utf8.count > maxText {
            fail("shots[\(index)].prompt", "must be at most \(maxText) bytes (got \(shot.prompt.utf8.count))")
        }
        if !(spec.seconds > 0) || !spec.seconds.isFinite {
            fail("seconds", "must be a positive number (got \(spec.seconds))")
        } else if spec.seconds > JobSpecParser.maxSeconds {
            fail("seconds", "must be at most \(Int(JobSpecParser.maxSeconds)) (got \(spec.seconds))")
        }
        if spec.fps <= 0 || spec.fps > 240 { fail("fps", "must be between 1 and 240 (got \(spec.fps))") }
        let modelName = spec.model.map { "model \($0.geometry.pipeline) (VAE \($0.geometry.spatialCompression)x, patch " } ?? ""
        for (field, value, multiple, patch) in [
            ("width", spec.width, spec.widthMultiple, spec.model?.geometry.patchWidth ?? 1),
            ("height", spec.height, spec.heightMultiple, spec.model?.geometry.patchHeight ?? 1),
        ] {
            let owner = spec.model == nil ? "the \(spec.backend.rawValue) backend" : modelName + "\(patch))"
            if value <= 0 {
                fail(field, "must be positive (got \(value))")
            } else if value % multiple != 0 {
                fail(field, "must be a multiple of \(multiple) for \(owner) (got \(value))")
            } else if value < 32 || value > 4096 {
                fail(field, "must be between 32 and 4096 (got \(value))")
            }
        }
        if spec.fps > 0, spec.seconds > 0, spec.seconds <= JobSpecParser.maxSeconds, spec.frameCount < 1 {
            fail("seconds", "gives no frames at \(spec.fps) fps (got \(spec.seconds))")
        }
        if spec.steps < 1 || spec.steps > 1000 { fail("steps", "must be between 1 and 1000 (got \(spec.steps))") }
        if !(spec.shift > 0) || !spec.shift.isFinite { fail("shift", "must be a positive number (got \(spec.shift))") }
        if spec.chunkFrames < 2 || spec.chunkFrames > 100_000 {
            fail("chunk_frames", "must be between 2 and 100000 (got \(spec.chunkFrames))")
        }
        if spec.overlap < 0 {
            fail("overlap", "must be >= 0 (got \(spec.overlap))")
        } else if spec.overlap >= spec.chunkFrames {
            fail("overlap", "must be less than chunk_frames = \(spec.chunkFrames) (got \(spec.overlap))")
        }
        let tileMultiples = spec.model.map { [$0.geometry.patchWidth, $0.geometry.patchHeight] } ?? [16, 16]
        let latentExtents = spec.model == nil ? [spec.width, spec.height] : [spec.width, spec.height].map { $0 / max(1, spec.spatialCompression) }
        for (field, tile, extent, multiple) in [
            ("tile_width", spec.tileWidth, latentExtents[0], tileMultiples[0]), ("tile_height", spec.tileHeight, latentExtents[1], tileMultiples[1]),
        ] {
            if tile < 0 {
                fail(field, "must be >= 0; 0 means no tiling (got \(tile))")
            } else if tile > 0 && tile % multiple != 0 {
                fail(field, "must be a multiple of \(multiple) (got \(tile))")
            } else if tile > 0 && tile <= spec.tileOverlap {
                fail(field, "must be greater than tile_overlap = \(spec.tileOverlap) (got \(tile))")
            } else if tile > extent && extent > 0 {
                fail(field, "must not exceed the frame (\(extent)) (got \(tile))")
            }
        }
        if spec.tileOverlap < 0 || spec.tileOverlap > 4096 { fail("tile_overlap", "must be between 0 and 4096 (got \(spec.tileOverlap))") }
        if spec.output.trimmingWhitespace().isEmpty {
            fail("output", "must not be empty")
        } else if !spec.output.hasSuffix(".mp4") {
            fail("output", "must end in .mp4 (got '\(spec.output)')")
        }
        if let png = spec.pngDirectory, png.trimmingWhitespace().isEmpty { fail("png_dir", "must not be empty when given") }
        if spec.stepMilliseconds < 0 || spec.stepMilliseconds > 60000 {
            fail("step_ms", "must be between 0 and 60000 (got \(spec.stepMilliseconds))")
        } else if spec.stepMilliseconds > 0 && spec.backend != .simulated {
            fail("step_ms", "applies to the simulated backend only (backend is \(spec.backend.rawValue))")
        }
        if let priority = spec.priority, !(-100...100).contains(priority) {
            fail("priority", "must be between -100 and 100 (got \(priority))")
        }
        problems += modelProblems(spec)
        if problems.isEmpty { problems += resourceProblems(spec) }
        if spec.keyframeEvery < 1 || spec.keyframeEvery > 100_000 {
            fail("keyframe_every", "must be between 1 and 100000 (got \(spec.keyframeEvery))")
        }
        if !(spec.seamStrength > 0 && spec.seamStrength <= 1) { fail("seam_strength", "must be in (0, 1] (got \(spec.seamStrength))") }
        if !spec.shots.isEmpty {
            if spec.shots[0].start != 0 { fail("shots", "the first shot must start at 0 (got \(spec.shots[0].start))") }
            for (index, shot) in spec.shots.enumerated() {
                if shot.prompt.trimmingWhitespace().isEmpty { fail("shots[\(index)].prompt", "must not be empty") }
                if index > 0 && !(shot.start > spec.shots[index - 1].start) {
                    fail("shots[\(index)].start", "must be after the previous shot's start (got \(shot.start))")
                }
                if spec.fps > 0 && shot.start >= spec.seconds {
                    fail("shots[\(index)].start", "must be before the end of the video (\(spec.seconds) s)")
                }
            }
            let inRange =
                (1...240).contains(spec.fps) && spec.seconds > 0 && spec.seconds <= JobSpecParser.maxSeconds
                && spec.shots.allSatisfy { $0.start >= 0 && $0.start < spec.seconds }
            let starts = inRange ? spec.shotSchedule.map(\.startFrame) + [spec.grid.frames] : []
            for (index, pair) in zip(starts, starts.dropFirst()).enumerated() where pair.1 - pair.0 < 2 {
                fail("shots[\(index)]", "must last at least 2 frames")
            }
        }
        return problems
    }

    /// Values one task's result may hold (2 bytes a value; a sampler holds about four
    /// Float32 copies): 2^27, a 256 MiB result, about 2 GiB of a worker's memory.
    static let maxChunkValues = JobSpec.maxResultValues
    /// Tasks one job may have (rows in the store, entries the scheduler pages through).
    static let maxTasks = 250_000
    /// Bytes of a prompt or a path.
    static let maxText = 4096
    /// Shots of a prompt schedule.
    static let maxShots = 10_000

    /// Limits on what a spec costs the farm, checked once every field is in range (so this
    /// arithmetic cannot overflow: every factor is bounded by the checks above). Done in
    /// Double where a product of hostile-but-valid fields could still be large.
    static func resourceProblems(_ spec: JobSpec) -> [SpecProblem] {
        var problems: [SpecProblem] = []
        let grid = spec.grid
        let chunkFrames = Double(min(spec.chunkFrames, max(1, grid.frames)))
        let tileHeight = Double(spec.tileHeight > 0 ? spec.tileHeight : grid.height)
        let tileWidth = Double(spec.tileWidth > 0 ? spec.tileWidth : grid.width)
        let chunkValues = chunkFrames * Double(grid.channels) * tileHeight * tileWidth
        if chunkValues > Double(maxChunkValues) {
            problems.append(
                SpecProblem(
                    field: "chunk_frames",
                    problem:
                        "a chunk of \(Int(chunkFrames)) frames of \(Int(tileWidth))x\(Int(tileHeight)) latent pixels holds \(Int(chunkValues)) values, more than the limit of \(maxChunkValues): use fewer chunk_frames or tile_width/tile_height"
                ))
        }
        if spec.consistency == .rolling {
            // A keyframe set is whole frames (never tiled): up to `keyframeCapacity` of them.
            let setFrames = Double(min(spec.keyframeCapacity, max(1, grid.frames / max(1, spec.keyframeEvery) + 1)))
            let setValues = setFrames * Double(grid.channels) * Double(grid.height) * Double(grid.width)
            if setValues > Double(maxChunkValues) {
                problems.append(
                    SpecProblem(
                        field: "chunk_frames",
                        problem:
                            "a keyframe set of up to \(Int(setFrames)) whole frames of \(grid.width)x\(grid.height) latent pixels holds \(Int(setValues)) values, more than the limit of \(maxChunkValues): use fewer chunk_frames (a set holds as many frames as a chunk) or consistency = \"independent\""
                    ))
            }
        }
        if let model = spec.model {
            let frames = Double(model.decodeFrames + 2 * model.decodeOverlap) * Double(max(1, model.geometry.temporalCompression))
            let pixels = frames * 3 * Double(spec.width) * Double(spec.height)
            if pixels > Double(maxChunkValues) {
                problems.append(
                    SpecProblem(
                        field: "decode_frames",
                        problem:
                            "a decode window of up to \(Int(frames)) frames of \(spec.width)x\(spec.height) holds \(Int(pixels)) values, more than the limit of \(maxChunkValues): use fewer decode_frames or decode_overlap"
                    ))
            }
        }
        func count(_ length: Int, _ window: Int, _ overlap: Int) -> Double {
            guard window > 0, window < length else { return 1 }
            return (Double(length - overlap) / Double(max(1, window - overlap))).rounded(.up)
        }
        let windows = count(grid.frames, spec.chunkFrames, spec.overlap) + Double(max(0, spec.shots.count - 1))
        let tiles = count(grid.height, spec.tileHeight, spec.tileOverlap) * count(grid.width, spec.tileWidth, spec.tileOverlap)
        let decodes = spec.model.map { Double(grid.frames) / Double(max(1, $0.decodeFrames)) + 1 } ?? 0
        // Rolling: a seam per window, and keyframe sets of `keyframeCapacity - 2` new keyframes each.
        let keyframeSets =
            spec.consistency == .rolling
            ? (Double(grid.frames) / Double(max(1, spec.keyframeEvery)) / Double(max(1, spec.keyframeCapacity - 2))).rounded(.up) : 0
        let tasks = (windows * (spec.consistency == .rolling ? 2 : 1)) * tiles + keyframeSets + Double(max(1, spec.shots.count)) + decodes
        if tasks > Double(maxTasks) {
            problems.append(
                SpecProblem(
                    field: "seconds",
                    problem:
                        "the job would have about \(Int(tasks)) tasks, more than the limit of \(maxTasks): use fewer seconds, more chunk_frames, or larger tiles"
                ))
        }
        return problems
    }

    /// The diffusers backend's fields: present exactly when it is the backend, and in range.
    static func modelProblems(_ spec: JobSpec) -> [SpecProblem] {
        guard let model = spec.model else {
            return spec.backend == .diffusers ? [SpecProblem(field: "model", problem: "is required for the diffusers backend")] : []
        }
        let wrongBackend = SpecProblem(field: "model", problem: "applies to the diffusers backend only (backend is \(spec.backend.rawValue))")
        return (spec.backend == .diffusers ? [] : [wrongBackend]) + model.problems()
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
