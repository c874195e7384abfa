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
        if spec.chunkFrames < 2 { fail("chunk_frames", "must be at least 2 (got \(spec.chunkFrames))") }
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
        if spec.tileOverlap < 0 { fail("tile_overlap", "must be >= 0 (got \(spec.tileOverlap))") }
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
        if spec.keyframeEvery < 1 { fail("keyframe_every", "must be at least 1 (got \(spec.keyframeEvery))") }
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
