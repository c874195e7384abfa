import ReelCore
import Testing

@testable import ReelWire

@Suite struct WireCodecTests {
    static let work = ChunkWork(
        backend: .procedural, prompt: "kites", seed: 7, steps: 10, shift: 3,
        grid: LatentGrid(frames: 96, channels: 3, height: 48, width: 64),
        region: Region(frames: 40..<88, rows: 0..<48, columns: 16..<64))
    static let lease = LeaseRef(task: 12, attempt: 3)

    static let all: [WireMessage] = [
        .ready(WorkerHello(name: "w-1", backends: ["procedural"], slots: 2, memoryMegabytes: 4096, tags: ["gpu:none"])),
        .ready(
            WorkerHello(
                name: "w-2", backends: ["procedural"], slots: 1, memoryMegabytes: 1, tags: [],
                holding: [LeaseRef(task: 12, attempt: 3), LeaseRef(task: 40, attempt: 1)])),
        .heartbeat,
        .task(TaskAssignment(lease: lease, leaseMilliseconds: 30000, work: work)),
        .result(TaskResult(lease: lease, checksum: 0xdead_beef, sampleMilliseconds: 812, latents: [1, 2, 3, 4])),
        .ack(lease),
        .revoke(lease),
        .failed(lease, reason: "out of memory"),
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
        #expect(frames[0] == Array("REEL".utf8) + [3, message.command])
        #expect(try WireCodec.decode(frames) == message)
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
}
