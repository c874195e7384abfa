import ReelCore

/// The versioned framing of ``WireMessage``: frame 0 is the header `"REEL"`, version, command;
/// frame 1 the body; RESULT carries its latents in frame 2, so they are never copied into a body.
/// Pure: no sockets here.
public enum WireCodec {
    public static let magic: [UInt8] = Array("REEL".utf8)
    public static let version: UInt8 = 6
    /// Largest latent payload accepted (a 48-frame 1080p chunk in Float16 is about 600 MB; the
    /// sockets' MAXMSGSIZE enforces the same bound before the bytes are even read).
    public static let maxPayload = 1 << 30
    /// Largest READY body: a worker's announced strings are kept while it lives, so each
    /// identity costs the coordinator at most this much.
    public static let maxHelloBytes = 16 << 10
    /// Longest worker name.
    public static let maxNameBytes = 200
    /// Most task progress entries in one HEARTBEAT (a worker runs at most 64 slots plus prefetch).
    public static let maxProgress = 256

    public static func encode(_ message: WireMessage) -> [[UInt8]] {
        var body = ByteWriter()
        var frames: [[UInt8]] = [magic + [version, message.command]]
        switch message {
        case .ready(let hello):
            body.string(hello.name)
            body.strings(hello.backends)
            body.u32(hello.slots)
            body.u64(hello.memoryMegabytes)
            body.strings(hello.tags)
            body.u32(UInt32(hello.holding.count))
            for lease in hello.holding { write(lease, &body) }
            body.strings(hello.models)
            body.string(hello.device)
        case .heartbeat(let progress, let outstanding):
            body.u32(UInt32(progress.count))
            for entry in progress {
                write(entry.lease, &body)
                body.u32(entry.step)
            }
            body.u32(outstanding)
        case .task(let assignment):
            return encodeTask(assignment, conditioning: EncodedConditioning(assignment.conditioning))
        case .result(let result):
            write(result.lease, &body)
            body.u64(result.checksum)
            body.u32(result.sampleMilliseconds)
        case .ack(let lease), .revoke(let lease):
            write(lease, &body)
        case .failed(let lease, let reason, let outOfMemory):
            write(lease, &body)
            body.string(reason)
            body.u8(outOfMemory ? 1 : 0)
        case .disconnect(let reason):
            body.string(reason)
        case .submit(let json), .statusReply(let json):
            body.blob(json)
        case .submitted(let job):
            body.i64(job)
        case .status(let job):
            body.i64(job ?? -1)
        case .control(let job, let action):
            body.i64(job)
            body.string(action.rawValue)
        case .error(let code, let text):
            body.string(code)
            body.string(text)
        }
        frames.append(body.bytes)
        if case .result(let result) = message { frames.append(result.latents) }
        return frames
    }

    /// TASK's frames: `assignment` with `conditioning` (already in its wire form) in place of
    /// its own, which is not read. The coordinator encodes a task's conditioning once, beside
    /// its loop, and sends it as is.
    public static func encodeTask(_ assignment: TaskAssignment, conditioning: EncodedConditioning) -> [[UInt8]] {
        var body = ByteWriter()
        write(assignment.lease, &body)
        body.u32(assignment.leaseMilliseconds)
        write(assignment.work, &body)
        body.u32(UInt32(conditioning.pinnedFrames.count))
        for frame in conditioning.pinnedFrames { body.u32(UInt32(frame)) }
        body.u8(conditioning.hasInitial ? 1 : 0)
        return [magic + [version, WireMessage.task(assignment).command], body.bytes, conditioning.values]
    }

    public static func decode(_ frames: [[UInt8]]) throws -> WireMessage {
        guard let header = frames.first else { throw WireError("empty message") }
        guard header.count == 6, Array(header[0..<4]) == magic else { throw WireError("header frame is not a Reel header") }
        guard header[4] == version else {
            throw WireError("unsupported protocol version \(header[4]) (this coordinator speaks \(version))")
        }
        let command = header[5]
        let expectedFrames = command == 0x04 || command == 0x03 ? 3 : 2
        guard frames.count == expectedFrames else {
            throw WireError("command 0x\(String(command, radix: 16)) needs \(expectedFrames) frames, got \(frames.count)")
        }
        var body = ByteReader(frames[1])
        let message: WireMessage
        switch command {
        case 0x01:
            guard frames[1].count <= maxHelloBytes else { throw WireError("READY is \(frames[1].count) bytes, over the limit of \(maxHelloBytes)") }
            let name = try body.string("name")
            guard (1...maxNameBytes).contains(name.utf8.count) else {
                throw WireError("field 'name' must be 1-\(maxNameBytes) bytes, got \(name.utf8.count)")
            }
            let backends = try body.strings("backends")
            let slots = try body.u32("slots")
            guard (1...64).contains(slots) else { throw WireError("field 'slots' must be 1-64, got \(slots)") }
            let memory = try body.u64("memory")
            let tags = try body.strings("tags")
            let holding = try (0..<(try body.count("holding", limit: 4096))).map { _ in try readLease(&body) }
            let models = try body.strings("models")
            let device = try body.string("device")
            message = .ready(
                WorkerHello(
                    name: name, backends: backends, slots: slots, memoryMegabytes: memory, tags: tags, holding: holding, models: models,
                    device: device))
        case 0x02:
            let progress = try (0..<(try body.count("progress", limit: maxProgress))).map { _ in
                TaskProgress(lease: try readLease(&body), step: try body.u32("step"))
            }
            message = .heartbeat(progress: progress, outstanding: try body.u32("outstanding"))
        case 0x03:
            let lease = try readLease(&body)
            let milliseconds = try body.u32("lease_ms")
            let work = try readWork(&body)
            let conditioning = try readConditioning(&body, work: work, payload: frames[2])
            message = .task(TaskAssignment(lease: lease, leaseMilliseconds: milliseconds, work: work, conditioning: conditioning))
        case 0x04:
            let lease = try readLease(&body)
            let checksum = try body.u64("checksum")
            let milliseconds = try body.u32("sample_ms")
            guard frames[2].count <= maxPayload else { throw WireError("latents frame is over \(maxPayload) bytes") }
            message = .result(TaskResult(lease: lease, checksum: checksum, sampleMilliseconds: milliseconds, latents: frames[2]))
        case 0x05:
            message = .ack(try readLease(&body))
        case 0x06:
            message = .failed(try readLease(&body), reason: try body.string("reason"), outOfMemory: try body.u8("out_of_memory") == 1)
        case 0x07:
            message = .disconnect(reason: try body.string("reason"))
        case 0x08:
            message = .revoke(try readLease(&body))
        case 0x10:
            message = .submit(specJSON: try body.blob("spec"))
        case 0x11:
            message = .submitted(job: try body.i64("job"))
        case 0x12:
            let job = try body.i64("job")
            message = .status(job: job < 0 ? nil : job)
        case 0x13:
            message = .statusReply(json: try body.blob("status"))
        case 0x14:
            let job = try body.i64("job")
            let name = try body.string("action")
            guard let action = JobControl(rawValue: name) else { throw WireError("field 'action': unknown action '\(name)'") }
            message = .control(job: job, action: action)
        case 0x1F:
            message = .error(code: try body.string("code"), message: try body.string("message"))
        default:
            throw WireError("unknown command 0x\(String(command, radix: 16))")
        }
        try body.finish(message.name)
        return message
    }

    /// Whether the product of `factors` (each >= 0) is at most `limit`, without overflowing.
    static func boundedProduct(_ factors: [Int], limit: Int) -> Bool {
        var product = 1
        for factor in factors {
            let (next, overflow) = product.multipliedReportingOverflow(by: factor)
            if overflow || next > limit { return false }
            product = next
        }
        return true
    }

    private static func write(_ lease: LeaseRef, _ body: inout ByteWriter) {
        body.i64(lease.task)
        body.u32(lease.attempt)
    }

    private static func readLease(_ body: inout ByteReader) throws -> LeaseRef {
        LeaseRef(task: try body.i64("task"), attempt: try body.u32("attempt"))
    }

    private static func readConditioning(_ body: inout ByteReader, work: ChunkWork, payload: [UInt8]) throws -> Conditioning {
        let count = try body.count("pinned", limit: work.frameCount)
        let pinned = try (0..<count).map { _ in Int(try body.u32("pinned")) }
        guard zip(pinned, pinned.dropFirst()).allSatisfy({ $0 < $1 }), pinned.allSatisfy({ $0 < work.frameCount }) else {
            throw WireError("field 'pinned': frames must be ascending local frames below \(work.frameCount)")
        }
        let hasInitial = try body.u8("initial") == 1
        let perFrame = work.grid.channels * work.region.rows.count * work.region.columns.count
        let expected = (pinned.count + (hasInitial ? work.frameCount : 0)) * perFrame
        guard payload.count == expected * 2 else {
            throw WireError("conditioning frame holds \(payload.count) bytes, expected \(expected * 2)")
        }
        let values = try LatentCodec.decode(payload, expectedCount: expected)
        var frames: [Int: [Float]] = [:]
        for (i, frame) in pinned.enumerated() { frames[frame] = Array(values[(i * perFrame)..<((i + 1) * perFrame)]) }
        return Conditioning(pinned: frames, initial: hasInitial ? Array(values[(pinned.count * perFrame)...]) : nil)
    }

    private static func write(_ work: ChunkWork, _ body: inout ByteWriter) {
        body.string(work.backend.rawValue)
        body.string(work.prompt)
        body.u64(work.seed)
        body.u32(UInt32(work.steps))
        body.f64(work.shift)
        for value in [work.grid.frames, work.grid.channels, work.grid.height, work.grid.width] { body.u32(UInt32(value)) }
        for range in [work.region.frames, work.region.rows, work.region.columns] {
            body.u32(UInt32(range.lowerBound))
            body.u32(UInt32(range.upperBound))
        }
        body.u32(UInt32(work.frames?.count ?? 0))
        for frame in work.frames ?? [] { body.u32(UInt32(frame)) }
        body.f64(work.refineStrength ?? -1)
        body.string(work.method.rawValue)
        body.u32(UInt32(work.stepMilliseconds))
        body.u8(work.model == nil ? 0 : 1)
        if let model = work.model {
            body.string(model.path)
            body.string(model.geometry.pipeline)
            body.string(model.geometry.family)
            let geometry = model.geometry
            for value in [
                geometry.latentChannels, geometry.temporalCompression, geometry.spatialCompression, geometry.patchFrames,
                geometry.patchHeight, geometry.patchWidth, model.decodeFrames, model.decodeOverlap, work.fps,
            ] { body.u32(UInt32(value)) }
            body.u8(geometry.decoderCausal ? 1 : 0)
            body.f64(model.guidanceScale)
            body.string(model.negativePrompt)
            body.string(model.dtype.rawValue)
        }
        body.u8(work.decode == nil ? 0 : 1)
        if let decode = work.decode {
            body.u32(UInt32(decode.keepFrom))
            body.u32(UInt32(decode.keepCount))
            body.u8(decode.tiled ? 1 : 0)
        }
    }

    /// The model settings of a TASK, each number range-checked before it is used.
    private static func readModel(_ body: inout ByteReader) throws -> (ModelSettings, fps: Int)? {
        guard try body.u8("model") == 1 else { return nil }
        let path = try body.string("model")
        let pipeline = try body.string("pipeline"), family = try body.string("family")
        let numbers = try (0..<9).map { _ in Int(try body.u32("geometry")) }
        let geometry = ModelGeometry(
            pipeline: pipeline, family: family, latentChannels: numbers[0], temporalCompression: numbers[1],
            spatialCompression: numbers[2], patchFrames: numbers[3], patchHeight: numbers[4], patchWidth: numbers[5],
            decoderCausal: try body.u8("decoder_causal") == 1)
        let guidance = try body.f64("guidance_scale")
        let negative = try body.string("negative_prompt")
        let dtypeName = try body.string("dtype")
        guard let dtype = ModelDType(rawValue: dtypeName) else { throw WireError("field 'dtype': unknown '\(dtypeName)'") }
        let model = ModelSettings(
            path: path, geometry: geometry, guidanceScale: guidance, negativePrompt: negative, dtype: dtype, decodeFrames: numbers[6],
            decodeOverlap: numbers[7])
        if let problem = model.problems().first { throw WireError(problem.description) }
        guard (1...240).contains(numbers[8]) else { throw WireError("field 'fps': must be 1-240 (got \(numbers[8]))") }
        return (model, numbers[8])
    }

    private static func readDecode(_ body: inout ByteReader, work: ChunkWork) throws -> DecodeSpan? {
        guard try body.u8("decode") == 1 else { return nil }
        let keepFrom = Int(try body.u32("keep_from")), keepCount = Int(try body.u32("keep_count"))
        let tiled = try body.u8("tiled") == 1
        guard let model = work.model else { throw WireError("field 'decode': only a model backend decodes") }
        let decoded = model.geometry.pixelFrames(forLatentFrames: work.region.frames.count)
        guard keepCount >= 1, keepFrom <= decoded, keepCount <= decoded - keepFrom else {
            throw WireError("field 'decode': frames \(keepFrom)+\(keepCount) are outside the \(decoded) decoded frames")
        }
        let scale = model.geometry.spatialCompression
        guard boundedProduct([keepCount, 3, work.region.rows.count, scale, work.region.columns.count, scale], limit: maxPayload / 2) else {
            throw WireError("field 'decode': its frames hold more than \(maxPayload / 2) values")
        }
        return DecodeSpan(keepFrom: keepFrom, keepCount: keepCount, tiled: tiled)
    }

    private static func readWork(_ body: inout ByteReader) throws -> ChunkWork {
        let backendName = try body.string("backend")
        guard let backend = BackendKind(rawValue: backendName) else { throw WireError("field 'backend': unknown backend '\(backendName)'") }
        let prompt = try body.string("prompt")
        let seed = try body.u64("seed")
        let steps = Int(try body.u32("steps"))
        let shift = try body.f64("shift")
        guard (1...1000).contains(steps), shift > 0, shift.isFinite else { throw WireError("field 'steps' or 'shift' out of range") }
        let dims = try (0..<4).map { _ in Int(try body.u32("grid")) }
        // Bounds before any arithmetic: a hostile grid must not overflow a product.
        guard (1...(1 << 24)).contains(dims[0]), backend == .diffusers ? (1...4096).contains(dims[1]) : dims[1] == 3,
            (1...16384).contains(dims[2]),
            (1...16384).contains(dims[3])
        else {
            throw WireError(
                "field 'grid': \(dims.map(String.init).joined(separator: "x")) is out of range for the \(backend.rawValue) backend")
        }
        let grid = LatentGrid(frames: dims[0], channels: dims[1], height: dims[2], width: dims[3])
        var ranges: [Range<Int>] = []
        for (field, extent) in [("frames", grid.frames), ("rows", grid.height), ("columns", grid.width)] {
            let lower = Int(try body.u32(field)), upper = Int(try body.u32(field))
            guard lower < upper, upper <= extent else {
                throw WireError("field '\(field)': range \(lower)..<\(upper) is outside 0..<\(extent)")
            }
            ranges.append(lower..<upper)
        }
        let region = Region(frames: ranges[0], rows: ranges[1], columns: ranges[2])
        let frameCount = try body.count("frames", limit: region.frames.count)
        let frames = try (0..<frameCount).map { _ in Int(try body.u32("frames")) }
        guard zip(frames, frames.dropFirst()).allSatisfy({ $0 < $1 }), frames.allSatisfy({ region.frames.contains($0) }) else {
            throw WireError("field 'frames': must be ascending frames inside \(region.frames)")
        }
        // The sampled latents (and the conditioning, at most twice as many) must fit in a
        // message: the frames listed (keyframes, sparse over a long region) or every frame.
        let sampledFrames = frameCount == 0 ? region.frames.count : frameCount
        guard boundedProduct([sampledFrames, grid.channels, region.rows.count, region.columns.count], limit: maxPayload / 2) else {
            throw WireError("field 'region': its sampled frames hold more than \(maxPayload / 2) latent values")
        }
        let strength = try body.f64("refine")
        guard strength == -1 || (strength > 0 && strength <= 1) else { throw WireError("field 'refine': \(strength) is not in (0, 1]") }
        let methodName = try body.string("method")
        guard let method = ConditioningMethod(rawValue: methodName) else { throw WireError("field 'method': unknown '\(methodName)'") }
        var work = ChunkWork(
            backend: backend, prompt: prompt, seed: seed, steps: steps, shift: shift, grid: grid, region: region,
            frames: frameCount == 0 ? nil : frames, refineStrength: strength == -1 ? nil : strength, method: method)
        work.stepMilliseconds = Int(try body.u32("step_ms"))
        guard work.stepMilliseconds <= 60000 else { throw WireError("field 'step_ms': \(work.stepMilliseconds) is over 60000") }
        if let (model, fps) = try readModel(&body) {
            guard backend == .diffusers, model.geometry.latentChannels == grid.channels else {
                throw WireError("field 'model': the \(backend.rawValue) backend with \(grid.channels) channels cannot take this model")
            }
            work.model = model
            work.fps = fps
        } else if backend == .diffusers {
            throw WireError("field 'model': the diffusers backend needs a model")
        }
        work.decode = try readDecode(&body, work: work)
        return work
    }
}
