import ReelCore
import Testing

@testable import ReelWire

@Suite struct WireCodecTests {
    static let work = ChunkWork(
        backend: .procedural, prompt: "kites", seed: 7, steps: 10, shift: 3,
        grid: LatentGrid(frames: 96, channels: 3, height: 48, width: 64),
        region: Region(frames: 40..<88, rows: 0..<48, columns: 16..<64))
    static let lease = LeaseRef(task: 12, attempt: 3)
    static let model = ModelSettings(
        path: "/models/wan", geometry: ModelGeometry(
            pipeline: "WanPipeline", family: "wan", latentChannels: 16, temporalCompression: 4, spatialCompression: 8, patchFrames: 1,
            patchHeight: 2, patchWidth: 2), guidanceScale: 5, negativePrompt: "blurry", dtype: .bfloat16, decodeFrames: 8, decodeOverlap: 2)
    static let modelWork: ChunkWork = {
        var work = ChunkWork(
            backend: .diffusers, prompt: "a fox", seed: 7, steps: 30, shift: 3, grid: LatentGrid(frames: 21, channels: 16, height: 60, width: 104),
            region: Region(frames: 4..<16, rows: 0..<60, columns: 0..<104))
        work.model = model
        work.fps = 16
        return work
    }()
    static let decodeWork: ChunkWork = {
        var work = modelWork
        work.decode = DecodeSpan(keepFrom: 9, keepCount: 32, tiled: true)
        return work
    }()

    static let all: [WireMessage] = [
        .ready(WorkerHello(name: "w-1", backends: ["procedural"], slots: 2, memoryMegabytes: 4096, tags: ["gpu:none"])),
        .ready(
            WorkerHello(
                name: "w-2", backends: ["procedural"], slots: 1, memoryMegabytes: 1, tags: [],
                holding: [LeaseRef(task: 12, attempt: 3), LeaseRef(task: 40, attempt: 1)])),
        .ready(
            WorkerHello(
                name: "gpu-1", backends: ["diffusers"], slots: 1, memoryMegabytes: 80000, tags: [], models: ["/models/wan", "*"],
                device: "cuda NVIDIA H200")),
        .heartbeat(), .heartbeat(progress: [TaskProgress(lease: LeaseRef(task: 7, attempt: 2), step: 5)]), .heartbeat(outstanding: 4096),
        .task(TaskAssignment(lease: lease, leaseMilliseconds: 30000, work: work)),
        .task(TaskAssignment(lease: lease, leaseMilliseconds: 30000, work: modelWork)),
        .task(TaskAssignment(lease: lease, leaseMilliseconds: 30000, work: decodeWork)),
        .result(TaskResult(lease: lease, checksum: 0xdead_beef, sampleMilliseconds: 812, latents: [1, 2, 3, 4])),
        .ack(lease),
        .revoke(lease),
        .failed(lease, reason: "out of memory", outOfMemory: true),
        .failed(lease, reason: "boom"),
        .disconnect(reason: "unknown worker"),
        .submit(specJSON: Array("{\"a\":1}".utf8)),
        .submitted(job: 5),
        .status(job: nil),
        .status(job: 9),
        .statusReply(json: Array("{}".utf8)),
        .error(code: "invalid-spec", message: "field 'fps': must be between 1 and 240"),
    ]

    @Test(arguments: all)
    func everyMessageRoundTrips(message: WireMessage) throws {
        let frames = WireCodec.encode(message)
        #expect(frames[0] == Array("REEL".utf8) + [6, message.command])
        #expect(try WireCodec.decode(frames) == message)
    }

    /// A task's conditioning encoded once, beside the coordinator's loop, is sent as is: the
    /// same frames as the task encoded whole, and it decodes to the same conditioning.
    @Test func aTaskWithItsConditioningEncodedAheadIsTheSameOnTheWire() throws {
        let perFrame = Self.work.grid.channels * Self.work.region.rows.count * Self.work.region.columns.count
        func values(_ count: Int, _ offset: Int) -> [Float] { (0..<count).map { Float(($0 + offset) % 64) / 8 - 4 } }
        let conditioning = Conditioning(
            pinned: [5: values(perFrame, 1), 0: values(perFrame, 2)], initial: values(Self.work.frameCount * perFrame, 3))
        let whole = TaskAssignment(lease: Self.lease, leaseMilliseconds: 9, work: Self.work, conditioning: conditioning)
        let bare = TaskAssignment(lease: Self.lease, leaseMilliseconds: 9, work: Self.work)
        let encoded = EncodedConditioning(conditioning)
        #expect(encoded.pinnedFrames == [0, 5] && encoded.hasInitial && encoded.values.count == (2 + Self.work.frameCount) * perFrame * 2)
        let frames = WireCodec.encodeTask(bare, conditioning: encoded)
        #expect(frames == WireCodec.encode(.task(whole)))
        #expect(try WireCodec.decode(frames) == .task(whole))
        #expect(WireCodec.encodeTask(bare, conditioning: .none) == WireCodec.encode(.task(bare)))
    }

    func reason(_ frames: [[UInt8]]) -> String {
        do { _ = try WireCodec.decode(frames); return "decoded" } catch let error as WireError { return error.reason } catch {
            return "\(error)"
        }
    }

    @Test func malformedMessagesNameTheirProblem() {
        let task = WireCodec.encode(.task(TaskAssignment(lease: Self.lease, leaseMilliseconds: 1, work: Self.work)))
        #expect(reason([]) == "empty message")
        #expect(reason([Array("HTTP/1".utf8), []]) == "header frame is not a Reel header")
        #expect(reason([Array("REEL".utf8) + [1, 0x02], []]).contains("unsupported protocol version 1"), "version 1 peers are refused")
        #expect(reason([Array("REEL".utf8) + [2, 0x02], []]).contains("unsupported protocol version 2"), "version 2 peers are refused")
        #expect(reason([Array("REEL".utf8) + [WireCodec.version, 0x42], []]).contains("unknown command 0x42"))
        #expect(reason([task[0], Array(task[1].dropLast(3)), task[2]]).contains("is truncated"))
        #expect(reason([task[0], task[1] + [0], task[2]]).contains("TASK has 1 trailing bytes"))
        #expect(reason([task[0]]).contains("needs 3 frames, got 1"))
        var badRegion = ByteWriter()
        badRegion.i64(1); badRegion.u32(1); badRegion.u32(1)
        badRegion.string("procedural"); badRegion.string("p"); badRegion.u64(1); badRegion.u32(10); badRegion.f64(3)
        for v: UInt32 in [10, 3, 32, 32, 5, 20, 0, 32, 0, 32] { badRegion.u32(v) }
        #expect(reason([task[0], badRegion.bytes, []]).contains("field 'frames': range 5..<20 is outside 0..<10"))
        var hugeGrid = ByteWriter()
        hugeGrid.i64(1); hugeGrid.u32(1); hugeGrid.u32(1)
        hugeGrid.string("procedural"); hugeGrid.string("p"); hugeGrid.u64(1); hugeGrid.u32(10); hugeGrid.f64(3)
        for v: UInt32 in [UInt32.max, 3, UInt32.max, UInt32.max, 0, 1, 0, 1, 0, 1] { hugeGrid.u32(v) }
        #expect(
            reason([task[0], hugeGrid.bytes, []]).contains("field 'grid': 4294967295x3x4294967295x4294967295 is out of range"),
            "found by the fuzzer: no overflow trap")
        var hugeString = ByteWriter()
        hugeString.u32(UInt32.max)
        #expect(reason([Array("REEL".utf8) + [WireCodec.version, 0x07], hugeString.bytes]).contains("over the limit"))
    }

    /// Well-formed TASKs whose model fields carry hostile values: each is refused by name
    /// before anything divides by, allocates for or indexes with it.
    @Test func hostileModelFieldsAreRefusedByName() {
        func refused(_ change: (inout ChunkWork) -> Void) -> String {
            var work = Self.decodeWork
            change(&work)
            return reason(WireCodec.encode(.task(TaskAssignment(lease: Self.lease, leaseMilliseconds: 1, work: work))))
        }
        #expect(refused { $0.model!.geometry.temporalCompression = 0 }.contains("temporal_compression must be 1-64 (got 0)"))
        #expect(refused { $0.model!.geometry.spatialCompression = 1 << 30 }.contains("spatial_compression must be 1-256"))
        #expect(refused { $0.model!.geometry.pipeline = "SoraPipeline" }.contains("pipeline class 'SoraPipeline' is not supported"))
        #expect(refused { $0.model!.guidanceScale = .nan }.contains("field 'guidance_scale'"))
        #expect(refused { $0.model!.negativePrompt = String(repeating: "x", count: 5000) }.contains("field 'negative_prompt'"))
        #expect(refused { $0.model!.decodeOverlap = 0 }.contains("field 'decode_overlap'"))
        #expect(refused { $0.fps = 0 }.contains("field 'fps'"))
        #expect(refused { $0.decode!.keepFrom = 40 }.contains("outside the 45 decoded frames"), "12 latent frames decode to 45")
        #expect(refused { $0.decode!.keepCount = Int(UInt32.max) }.contains("field 'decode'"))
        #expect(refused { $0.model!.geometry.latentChannels = 4 }.contains("cannot take this model"), "channels must match the grid")
        #expect(refused { $0.model = nil; $0.decode = nil }.contains("the diffusers backend needs a model"))
        #expect(refused { $0.backend = .procedural }.contains("out of range for the procedural backend"))
    }

    /// Found by a 170-minute render: a keyframe set samples a few frames spread over a long
    /// region; its size is what it samples, not the region's span (which alone is over the limit).
    @Test func aSparseKeyframeSetOverALongRegionIsSizedByTheFramesItSamples() throws {
        let frames = Array(stride(from: 0, to: 243_001, by: 40_500))
        var work = ChunkWork(
            backend: .simulated, prompt: "p", seed: 1, steps: 10, shift: 3, grid: LatentGrid(frames: 245_760, channels: 3, height: 32, width: 32),
            region: Region(frames: 0..<243_001, rows: 0..<32, columns: 0..<32), frames: frames)
        let message = WireMessage.task(TaskAssignment(lease: Self.lease, leaseMilliseconds: 1, work: work))
        #expect(try WireCodec.decode(WireCodec.encode(message)) == message)
        work.frames = nil
        let dense = reason(WireCodec.encode(.task(TaskAssignment(lease: Self.lease, leaseMilliseconds: 1, work: work))))
        #expect(dense.contains("field 'region': its sampled frames hold more than"), "every frame of that region is too many: \(dense)")
    }

    /// Found in review: with 4,096 latent channels, a grid at every bound overflowed the size
    /// arithmetic of a TASK's conditioning and decode output (a trap in any peer that decodes it).
    @Test func hugeModelTasksAreRefusedBeforeTheirSizeIsComputed() {
        var huge = Self.modelWork
        huge.grid = LatentGrid(frames: 1 << 24, channels: 4096, height: 16384, width: 16384)
        huge.region = Region(frames: 0..<(1 << 24), rows: 0..<16384, columns: 0..<16384)
        huge.model!.geometry.latentChannels = 4096
        let conditioned = WireCodec.encode(
            .task(TaskAssignment(lease: Self.lease, leaseMilliseconds: 1, work: huge, conditioning: Conditioning(pinned: [:], initial: []))))
        #expect(reason(conditioned).contains("field 'region': its sampled frames hold more than"), "\(reason(conditioned))")
        var decode = Self.decodeWork
        decode.grid = LatentGrid(frames: 21, channels: 16, height: 128, width: 128)
        decode.region = Region(frames: 0..<21, rows: 0..<128, columns: 0..<128)
        decode.model!.geometry.spatialCompression = 256
        decode.decode = DecodeSpan(keepFrom: 0, keepCount: 81, tiled: true)
        let decoding = reason(WireCodec.encode(.task(TaskAssignment(lease: Self.lease, leaseMilliseconds: 1, work: decode))))
        #expect(decoding.contains("field 'decode': its frames hold more than"), "\(decoding)")
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        let valid = Self.all.map(WireCodec.encode)
        for round in 0..<5000 {
            var frames = valid[round % valid.count]
            let frame = Int.random(in: 0..<frames.count, using: &generator)
            if frames[frame].isEmpty || round % 3 == 0 {
                frames[frame] = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                let index = Int.random(in: 0..<frames[frame].count, using: &generator)
                frames[frame][index] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? WireCodec.decode(frames)
        }
    }

    /// A routing id is a key of one scalar per byte and back, ASCII (the fast path) or not.
    @Test(arguments: [Array("worker-7/gpu0".utf8), [0, 0x41, 0x7f], [0x80, 0xff, 0x41, 0x00], []])
    func routingIdsRoundTripThroughTheirKeys(bytes: [UInt8]) {
        let key = RoutingIdentity.key(bytes)
        #expect(key.unicodeScalars.map(\.value) == bytes.map(UInt32.init))
        #expect(RoutingIdentity.bytes(key) == bytes)
    }
}
