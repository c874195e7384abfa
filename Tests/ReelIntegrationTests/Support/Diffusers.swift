import Foundation
import ReelCore
import Testing

/// The diffusers backend's fixtures: the sidecar's Python environment (made by
/// scripts/install-diffusers) and tiny random models built offline, once per test process,
/// and loaded from their folders as a downloaded checkpoint would be.
enum Diffusers {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Set only on purpose (`REEL_SKIP_DIFFUSERS=1`): the tests are then reported as skipped, with this reason.
    static let skipRequested = ProcessInfo.processInfo.environment["REEL_SKIP_DIFFUSERS"] == "1"

    static var python: String {
        ProcessInfo.processInfo.environment["REEL_PYTHON"] ?? "\(repository)/.venv-diffusers/bin/python"
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: [String: String] = [:]
    private static let modelRoot = NSTemporaryDirectory() + "reel-tiny-models-\(getpid())"

    /// The folder of the tiny `family` model ("wan" or "ltx"), built on first use.
    static func model(_ family: String) throws -> String {
        try #require(
            FileManager.default.isExecutableFile(atPath: python),
            "no sidecar Python at \(python): run scripts/install-diffusers (REEL_SKIP_DIFFUSERS=1 skips these tests on purpose)")
        lock.lock()
        defer { lock.unlock() }
        if let folder = built[family] { return folder }
        let folder = "\(modelRoot)/\(family)"
        let result = try run(python, ["-m", "reel_sidecar.tiny_models", "--family", family, folder])
        try #require(result.status == 0, "building the tiny \(family) model failed: \(result.output)")
        built[family] = folder
        return folder
    }

    /// Runs a program to completion; returns its status and its stdout and stderr together.
    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Writes a diffusers spec for `model` and returns its path.
func writeModelSpec(
    in directory: String, name: String, model: String, consistency: String, seconds: Double = 4, fps: Int = 16, width: Int = 64,
    height: Int = 64, steps: Int = 4, seed: Int = 7, chunkFrames: Int = 6, overlap: Int = 2, extra: String = ""
) -> String {
    let text = """
        name = "\(name)"
        prompt = "a red fox runs through a snowy forest at dawn"
        negative_prompt = "blurry, low quality"
        backend = "diffusers"
        model = "\(model)"
        guidance_scale = 5.0
        seconds = \(seconds)
        fps = \(fps)
        width = \(width)
        height = \(height)
        seed = \(seed)
        steps = \(steps)
        chunk_frames = \(chunkFrames)
        overlap = \(overlap)
        consistency = "\(consistency)"
        output = "\(name).mp4"
        \(extra)
        """
    let path = "\(directory)/\(name).toml"
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
