import ArgumentParser
import Foundation
import ReelClient
import ReelCore
import ReelWire
import ReelZMQ

/// Where a client finds the coordinator.
struct CoordinatorAddress: ParsableArguments {
    @Option(help: "The coordinator's endpoint (default: the one recorded in --data, else tcp://127.0.0.1:5555).")
    var coordinator: String?

    @Option(help: "Data directory of a local coordinator, to find its endpoint.")
    var data: String = "reel-data"

    @Option(help: "This client's CURVE key file (from `reel keys`), when the coordinator requires CURVE.")
    var curveKey: String?

    @Option(help: "The coordinator's public key file, when it requires CURVE.")
    var serverKey: String?

    var endpoint: String {
        coordinator ?? CoordinatorClient.endpoint(inDataDirectory: data) ?? "tcp://127.0.0.1:5555"
    }

    func validate() throws {
        if (curveKey == nil) != (serverKey == nil) { throw ValidationError("--curve-key and --server-key go together") }
    }

    func client() throws -> CoordinatorClient {
        try CoordinatorClient(endpoint: endpoint, curve: try CurveOptions.clientKeys(curveKey, serverKey))
    }
}

/// Turns key-file options into CURVE client keys.
enum CurveOptions {
    static func clientKeys(_ keyFile: String?, _ serverKeyFile: String?) throws -> (keys: CurveKeyPair, serverKey: [UInt8])? {
        guard let keyFile, let serverKeyFile else { return nil }
        return (try KeyFiles.keyPair(keyFile), try KeyFiles.publicKey(serverKeyFile))
    }
}

extension Reel {
    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit a job spec to a running coordinator; prints the job id.")

        @Argument(help: "The job spec (TOML).")
        var spec: String

        @Option(help: "Write the MP4 here instead of the spec's output.")
        var out: String?

        @OptionGroup var address: CoordinatorAddress

        func run() throws {
            let spec = try SpecLoader.load(spec, outputOverride: out)
            print(try address.client().submit(spec))
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show jobs and workers.")

        @Argument(help: "A job id (default: every job).")
        var job: Int64?

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var address: CoordinatorAddress

        func run() throws {
            let report = try address.client().status(job: job)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            print("workers: \(report.workers.count)  dropped messages: \(report.droppedMessages)")
            for job in report.jobs {
                let reason = job.reason.map { "  (\($0))" } ?? ""
                print(
                    "job \(job.id)  \(job.name)  \(job.state)  chunks \(job.chunksDone)/\(job.chunksTotal)  frames \(job.framesEncoded)/\(job.framesTotal)  \(job.output)\(reason)"
                )
            }
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop dispatching a job's chunks (running chunks finish and are kept).")
        @Argument(help: "The job id.") var job: Int64
        @OptionGroup var address: CoordinatorAddress
        func run() throws { try JobControlCommand.run(.pause, job: job, address: address) }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused, failed or cancelled job where it stopped.")
        @Argument(help: "The job id.") var job: Int64
        @OptionGroup var address: CoordinatorAddress
        func run() throws { try JobControlCommand.run(.resume, job: job, address: address) }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job; results still arriving are ignored. `resume` restarts it.")
        @Argument(help: "The job id.") var job: Int64
        @OptionGroup var address: CoordinatorAddress
        func run() throws { try JobControlCommand.run(.cancel, job: job, address: address) }
    }

    struct Wait: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait for a job; print its output path. Exits 0 when done, 1 when it failed or was cancelled.")

        @Argument(help: "The job id.")
        var job: Int64

        @Option(help: "Give up after this many seconds (default: never).")
        var timeout: Double?

        @OptionGroup var address: CoordinatorAddress

        func run() throws {
            ProcessSetup.start()
            let client = try address.client()
            let started = Date()
            let progress = ProgressLine()
            while !ProcessSetup.shouldStop {
                guard let status = try client.status(job: job).jobs.first else { throw ReelError(.notFound, "no job \(job)") }
                let workers = try client.status(job: job).workers.count
                progress.show(status, workers: workers, elapsed: Date().timeIntervalSince(started))
                switch status.state {
                case "done":
                    progress.finish()
                    print(status.output)
                    return
                case "failed", "cancelled":
                    progress.finish()
                    FileHandle.standardError.write(Data("job \(job) \(status.state): \(status.reason ?? "no reason recorded")\n".utf8))
                    throw ExitCode(1)
                default:
                    if let timeout, Date().timeIntervalSince(started) > timeout {
                        progress.finish()
                        throw ReelError(.network, "job \(job) still \(status.state) after \(Int(timeout)) s")
                    }
                    Thread.sleep(forTimeInterval: 0.25)
                }
            }
            throw ExitCode(130)
        }
    }
}

enum JobControlCommand {
    static func run(_ action: JobControl, job: Int64, address: CoordinatorAddress) throws {
        let report = try address.client().control(job: job, action)
        guard let status = report.jobs.first else { throw ReelError(.notFound, "no job \(job)") }
        print("job \(status.id) is \(status.state)\(status.reason.map { " (\($0))" } ?? "")")
    }
}

/// The live progress line on stderr: chunks, workers, elapsed, ETA (only on a terminal, or
/// one line per second otherwise so logs stay readable).
final class ProgressLine {
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastPrinted = Date.distantPast
    private var chunkClock: (start: Date, done: Int)?

    func show(_ job: StatusReport.Job, workers: Int, elapsed: Double) {
        let text: String
        if job.state == "running" {
            if chunkClock == nil || job.chunksDone < chunkClock!.done { chunkClock = (Date(), job.chunksDone) }
            let rateWindow = Date().timeIntervalSince(chunkClock!.start)
            let doneSince = job.chunksDone - chunkClock!.done
            let eta = doneSince > 0 ? Self.clock(rateWindow / Double(doneSince) * Double(job.chunksTotal - job.chunksDone)) : "--:--"
            text = "chunks \(job.chunksDone)/\(job.chunksTotal) · workers \(workers) · \(Self.clock(elapsed)) elapsed · ETA \(eta)"
        } else if job.state == "encoding" {
            text = "encoding \(job.framesEncoded)/\(job.framesTotal) frames · \(Self.clock(elapsed)) elapsed"
        } else {
            text = "\(job.state) · \(Self.clock(elapsed)) elapsed"
        }
        if interactive {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        } else if Date().timeIntervalSince(lastPrinted) >= 1 {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
            lastPrinted = Date()
        }
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return String(format: "%02d:%02d", total / 60, total % 60)
    }
}
