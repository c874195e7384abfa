import Foundation
import ReelClient
import ReelCore
import ReelStore
import ReelWire

/// Runs the real `reel` executable built next to the test bundle.
enum ReelBinary {
    static var path: String {
        let tests = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var directory = tests.deletingLastPathComponent()
        // The test runner may be inside ReelPackageTests.xctest/; the executable sits beside the bundle.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("reel").path), directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("reel").path
    }

    /// Runs `reel arguments` to completion (SIGKILL after `timeout`); returns (status, stdout, stderr).
    @discardableResult
    static func run(_ arguments: [String], timeout: Double = 300) throws -> (status: Int32, out: String, err: String) {
        try runProgram(path, arguments, timeout: timeout)
    }
}

/// Runs `program` to completion (SIGKILL after `timeout`: children of the test runner inherit
/// its blocked SIGTERM); returns (status, stdout, stderr), read from files so nothing blocks.
func runProgram(_ program: String, _ arguments: [String], timeout: Double) throws -> (status: Int32, out: String, err: String) {
    let scratch = TemporaryDirectory()
    let outPath = "\(scratch.path)/out", errPath = "\(scratch.path)/err"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.standardOutput = FileHandle(forWritingAtPath: outPath)
    process.standardError = FileHandle(forWritingAtPath: errPath)
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return (
        process.terminationStatus, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    )
}

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "reel-it-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    /// Kept when `REEL_KEEP_TEST_DIRS` is set, to read a failed test's logs and store.
    deinit {
        if ProcessInfo.processInfo.environment["REEL_KEEP_TEST_DIRS"] == nil { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// A coordinator process and worker processes on loopback, over a data directory.
final class TestCluster {
    let data: String
    private(set) var coordinator = Process()
    private(set) var workers: [String: Process] = [:]
    private(set) var endpoint = ""
    let coordinatorArguments: [String]
    /// The network namespace (a simulated host) the coordinator runs in; nil: this one.
    let coordinatorHost: String?
    var outputRoot: String { (data as NSString).deletingLastPathComponent }

    /// Starts a coordinator on `data`; jobs may write inside the data folder's parent.
    init(data: String, coordinatorArguments: [String] = [], bind: String = "tcp://127.0.0.1:*", host: String? = nil) throws {
        self.data = data
        self.coordinatorArguments = coordinatorArguments
        self.coordinatorHost = host
        try startCoordinator(bind: bind)
    }

    deinit {
        for process in Array(workers.values) + [coordinator] where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Logs live beside the data folder, so a full data disk cannot silence them.
    var logs: String { data + "-logs" }

    func startCoordinator(bind: String = "tcp://127.0.0.1:*") throws {
        try? FileManager.default.removeItem(atPath: "\(data)/coordinator.endpoint")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        coordinator = try spawn(
            ["coordinator", "--data", data, "--bind", bind, "--worker-timeout", "3", "--output-root", outputRoot]
                // Most tests run one worker, which cannot verify itself; verification's own tests ask for it.
                + (coordinatorArguments.contains("--verify-fraction") ? [] : ["--verify-fraction", "0"]) + coordinatorArguments,
            log: "coordinator.log", host: coordinatorHost)
        let deadline = Date().addingTimeInterval(20)
        while CoordinatorClient.endpoint(inDataDirectory: data) == nil {
            guard coordinator.isRunning, Date() < deadline else {
                throw ReelError(.network, "coordinator did not start: \(log("coordinator.log"))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        endpoint = CoordinatorClient.endpoint(inDataDirectory: data)!
    }

    /// SIGKILLs the coordinator and starts a new one on the same data folder and endpoint.
    func restartCoordinatorAfterSIGKILL() throws {
        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()
        try startCoordinator(bind: endpoint)
    }

    /// Starts a worker, in the network namespace `host` when given.
    @discardableResult
    func startWorker(_ name: String, arguments: [String] = [], host: String? = nil) throws -> Process {
        let process = try spawn(["worker", "--connect", endpoint, "--name", name] + arguments, log: "\(name).log", host: host)
        workers[name] = process
        return process
    }

    /// Runs `reel arguments`; in a namespace through `ip netns exec`, which execs, so the
    /// process is reel itself (SIGKILL reaches it).
    private func spawn(_ arguments: [String], log: String, host: String? = nil) throws -> Process {
        let process = Process()
        if let host {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ip", "netns", "exec", host, ReelBinary.path] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: ReelBinary.path)
            process.arguments = arguments
        }
        if !FileManager.default.fileExists(atPath: "\(logs)/\(log)") {
            _ = FileManager.default.createFile(atPath: "\(logs)/\(log)", contents: nil)
        }
        let handle = FileHandle(forWritingAtPath: "\(logs)/\(log)")
        handle?.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func log(_ name: String) -> String { (try? String(contentsOfFile: "\(logs)/\(name)", encoding: .utf8)) ?? "" }

    func client(timeout: Double = 10) throws -> CoordinatorClient {
        let client = try CoordinatorClient(endpoint: endpoint)
        client.timeoutSeconds = timeout
        return client
    }

    /// The store, opened beside the running coordinator (WAL allows a second connection).
    func store() throws -> Store { try Store(path: "\(data)/reel.sqlite") }

    /// Submits `spec` with its output inside this cluster's output root.
    func submit(_ specPath: String, output: String) throws -> Int64 {
        var spec = try SpecLoaderForTests.load(specPath)
        spec.output = "\(outputRoot)/\(output)"
        return try client().submit(spec)
    }

    /// Polls until `condition` holds for the job's status, or fails after `timeout` seconds.
    @discardableResult
    func waitFor(job: Int64, timeout: Double = 240, _ condition: (StatusReport.Job) -> Bool) throws -> StatusReport.Job {
        let client = try client()
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let status = try client.status(job: job).jobs[0]
            if condition(status) { return status }
            if status.state == "failed" { throw ReelError(.encode, "job \(job) failed: \(status.reason ?? "?")") }
            guard Date() < deadline else {
                let tail = log("coordinator.log").split(separator: "\n").suffix(40).joined(separator: "\n")
                throw ReelError(
                    .network,
                    "timed out; last status \(status.state) \(status.chunksDone)/\(status.chunksTotal); coordinator log ends:\n\(tail)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Stops every process (SIGTERM), waiting for them to exit.
    func stop() {
        for process in Array(workers.values) + [coordinator] where process.isRunning { process.terminate() }
        for process in Array(workers.values) + [coordinator] { process.waitUntilExit() }
    }
}

/// Writes a small spec file and returns its path.
func writeSpec(
    in directory: String, name: String = "it", seconds: Double = 4, fps: Int = 12, width: Int = 96, height: Int = 64,
    seed: Int = 5, chunkFrames: Int = 16, overlap: Int = 4, extra: String = ""
) -> String {
    let text = """
        name = "\(name)"
        prompt = "integration kites"
        seconds = \(seconds)
        fps = \(fps)
        width = \(width)
        height = \(height)
        seed = \(seed)
        steps = 6
        chunk_frames = \(chunkFrames)
        overlap = \(overlap)
        output = "\(name).mp4"
        \(extra)
        """
    let path = "\(directory)/\(name).toml"
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// ffprobe's view of a video's first stream.
func probe(_ path: String) throws -> [String: String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
        "-show_entries", "stream=codec_name,pix_fmt,width,height,nb_read_frames,r_frame_rate:format=duration",
        "-of", "default=nw=1", path,
    ]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    var fields: [String: String] = [:]
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1)
        if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
    }
    return fields
}

/// The decoded RGB frames of a video, as raw bytes.
func decodedFrames(_ path: String) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data
}
