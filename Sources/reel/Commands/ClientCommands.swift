import ArgumentParser
import Foundation
import ReelClient
import ReelCore
import ReelWire

/// Where a client finds the coordinator.
struct CoordinatorAddress: ParsableArguments {
    @Option(help: "The coordinator's endpoint (default: the one recorded in --data, else tcp://127.0.0.1:5555).")
    var coordinator: String?

    @Option(help: "Data directory of a local coordinator, to find its endpoint.")
    var data: String = "reel-data"

    var endpoint: String {
        coordinator ?? CoordinatorClient.endpoint(inDataDirectory: data) ?? "tcp://127.0.0.1:5555"
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
            print(try CoordinatorClient(endpoint: address.endpoint).submit(spec))
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
            let report = try CoordinatorClient(endpoint: address.endpoint).status(job: job)
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

    struct Wait: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait for a job; print its output path. Exits 0 when done, 1 when it failed.")

        @Argument(help: "The job id.")
        var job: Int64

        @Option(help: "Give up after this many seconds (default: never).")
        var timeout: Double?

        @OptionGroup var address: CoordinatorAddress

        func run() throws {
            ProcessSetup.start()
            let client = try CoordinatorClient(endpoint: address.endpoint)
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
                case "failed":
                    progress.finish()
                    FileHandle.standardError.write(Data("job \(job) failed: \(status.reason ?? "no reason recorded")\n".utf8))
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
