import ArgumentParser
import Foundation
import ReelClient
import ReelCore

extension Reel {
    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render a spec: start a coordinator and N local worker processes, wait for the MP4.")

        @Argument(help: "The job spec (TOML).")
        var spec: String

        @Option(help: "Number of local worker processes.")
        var workers: Int = 2

        @Option(help: "Write the MP4 here instead of the spec's output.")
        var out: String?

        @Option(help: "Data directory: the SQLite store, chunk artifacts, logs.")
        var data: String = "reel-data"

        @OptionGroup var api: HTTPOptions

        /// The output's folder: the coordinator may write nowhere else, so a `png_dir` outside
        /// it is refused (naming the field) rather than widening what the job may write.
        static func outputRoot(of spec: JobSpec) -> String {
            let root = (spec.output as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            return root
        }

        func validate() throws {
            guard (1...256).contains(workers) else { throw ValidationError("--workers: must be between 1 and 256 (got \(workers))") }
        }

        func run() throws {
            ProcessSetup.start()
            let spec = try SpecLoader.load(spec, outputOverride: out)
            let started = Date()
            let cluster = try LocalCluster(
                data: data, workers: workers, outputRoot: Self.outputRoot(of: spec), coordinatorArguments: api.arguments,
                workerArguments: LocalCluster.workerArguments(for: spec, data: data))
            defer { cluster.stop() }
            let client = try CoordinatorClient(endpoint: cluster.endpoint)
            let job = try client.submit(spec)
            let progress = ProgressLine()
            while !ProcessSetup.shouldStop {
                let report = try client.status(job: job)
                guard let status = report.jobs.first else { throw ReelError(.notFound, "job \(job) vanished") }
                progress.show(status, workers: report.workers.count, elapsed: Date().timeIntervalSince(started))
                if status.state == "done" {
                    progress.finish()
                    FileHandle.standardError.write(
                        Data(
                            String(
                                format: "rendered %d frames in %.1f s\n", status.framesTotal,
                                Date().timeIntervalSince(started)
                            ).utf8))
                    print(status.output)
                    return
                }
                if status.state == "failed" {
                    progress.finish()
                    throw ReelError(.encode, "job \(job) failed: \(status.reason ?? "no reason recorded") (logs in \(data)/logs)")
                }
                try cluster.checkCoordinator()
                Thread.sleep(forTimeInterval: 0.2)
            }
            progress.finish()
            throw ExitCode(130)
        }
    }
}

/// A coordinator and workers as child processes of `reel render`, logging to files in the
/// data directory; stopped with SIGTERM when the render ends.
final class LocalCluster {
    let endpoint: String
    private let coordinator: Process
    /// The coordinator's process id (to read its memory from /proc).
    var coordinatorPID: Int32 { coordinator.processIdentifier }
    private var workers: [Process] = []

    /// What a local worker needs for `spec`: the diffusers backend, with its sidecar logging beside the worker's log.
    static func workerArguments(for spec: JobSpec, data: String) -> (Int) -> [String] {
        guard spec.backend == .diffusers else { return { _ in [] } }
        return { index in ["--backend", "diffusers", "--sidecar-log", "\(data)/logs/sidecar-\(index).log"] }
    }

    init(
        data: String, workers count: Int, outputRoot: String, coordinatorArguments: [String] = [],
        workerArguments: (Int) -> [String] = { _ in [] }
    ) throws {
        let logs = "\(data)/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: "\(data)/coordinator.endpoint")
        coordinator = try Self.spawn(
            // One local worker has no other to verify it against: verification is off then.
            ["coordinator", "--data", data, "--bind", "tcp://127.0.0.1:*", "--output-root", outputRoot]
                + (count == 1 ? ["--verify-fraction", "0"] : []) + coordinatorArguments, log: "\(logs)/coordinator.log")
        let deadline = Date().addingTimeInterval(15)
        var found: String?
        while found == nil {
            found = CoordinatorClient.endpoint(inDataDirectory: data)
            if found == nil {
                guard coordinator.isRunning else {
                    throw ReelError(
                        .network, "the coordinator exited with status \(coordinator.terminationStatus); see \(logs)/coordinator.log")
                }
                guard Date() < deadline else {
                    coordinator.terminate(); throw ReelError(.network, "the coordinator did not start within 15 s")
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        endpoint = found!
        for index in 0..<count {
            workers.append(
                try Self.spawn(
                    ["worker", "--connect", endpoint, "--name", "local-\(getpid())-\(index)"] + workerArguments(index),
                    log: "\(logs)/worker-\(index).log"))
        }
    }

    private static func spawn(_ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessSetup.executablePath)
        process.arguments = arguments
        guard FileManager.default.createFile(atPath: log, contents: nil) else {
            throw ReelError(.usage, "cannot create the log file \(log)")
        }
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func checkCoordinator() throws {
        if !coordinator.isRunning {
            throw ReelError(.network, "the coordinator exited with status \(coordinator.terminationStatus)")
        }
    }

    func stop() {
        for process in workers + [coordinator] where process.isRunning { process.terminate() }
        for process in workers + [coordinator] { process.waitUntilExit() }
    }
}
