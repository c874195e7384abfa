import ArgumentParser
import Foundation
import ReelCore
import ReelStore
import ReelWorker

extension Reel {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Benchmark the farm: scaling to 256 workers in every mode to the finished MP4, the encode's tail against video length, coordinator cost against a Dask peer, plan size, stitch speed, sampler speed.",
            discussion: """
                Prints one table per section and writes every number to --json. Workers are real \
                processes on loopback running the simulated backend (its steps sleep), so timings measure \
                the farm, not this machine's cores. The Dask peer runs from scripts/dask-peer, which makes \
                its own virtualenv; leave it out with --no-dask.
                """)

        @Option(
            help:
                "Sections to run, comma-separated: scaling, tail, coordinator, size, stitch, procedural, diffusers (default: all but diffusers)."
        )
        var only: String = "scaling,tail,coordinator,size,stitch,procedural"

        @Option(help: "diffusers section: the sidecar's Python (default: $REEL_PYTHON, else .venv-diffusers).")
        var python: String?

        @Option(help: "diffusers section: FAMILY=FOLDER to measure a model folder instead of the tiny test model (repeatable).")
        var model: [String] = []

        @Option(help: "Where to write the results as JSON.")
        var json: String = "bench.json"

        @Option(help: "Most workers in the scaling section.")
        var maxWorkers: Int = 256

        @Option(
            help: "Worker counts of the scaling section, comma-separated (default: 1,4,16,64,256 up to --max-workers; --quick: 1,4,16).")
        var workers: String?

        @Flag(help: "Smaller sizes, for a check that the suite runs (minutes, not a measurement; workers not SCHED_IDLE).")
        var quick = false

        @Flag(inversion: .prefixedNo, help: "Run the Dask peer beside the coordinator benchmark.")
        var dask = true

        @Option(help: "The Dask peer's launcher.")
        var daskPeer: String = "scripts/dask-peer"

        @Option(help: "Scratch folder for data directories and videos (default: .bench/scratch-PID, removed afterwards).")
        var scratch: String?

        @Option(help: .hidden)
        var stitchChild: Int?

        @Option(help: .hidden)
        var farmChild: String?

        func validate() throws {
            let known: Set = ["scaling", "tail", "coordinator", "size", "stitch", "procedural", "diffusers"]
            for name in sections where !known.contains(name) {
                throw ValidationError("--only: unknown section '\(name)' (known: \(known.sorted().joined(separator: ", ")))")
            }
            guard (1...256).contains(maxWorkers) else { throw ValidationError("--max-workers must be between 1 and 256") }
            for pair in model {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, ["wan", "ltx"].contains(parts[0]), !parts[1].isEmpty else {
                    throw ValidationError("--model: must be wan=FOLDER or ltx=FOLDER (got '\(pair)')")
                }
            }
            if let workers, workers.split(separator: ",").contains(where: { Int($0).map { !(1...256).contains($0) } ?? true }) {
                throw ValidationError("--workers: each count must be a number from 1 to 256 (got '\(workers)')")
            }
        }

        var sections: [String] { only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

        func run() throws {
            ProcessSetup.start()
            if let stitchChild, let scratch {
                let row = try BenchSections.stitchChild(seconds: stitchChild, scratch: scratch)
                print(String(decoding: try JSONCoding.encoder.encode(row), as: UTF8.self))
                return
            }
            if let farmChild, let scratch {
                let result = try BenchSections.farmChild(request: farmChild, scratch: scratch)
                print(String(decoding: try JSONCoding.encoder.encode(result), as: UTF8.self))
                return
            }
            // Not /tmp by default: there, test suites' churn of deleted files makes every file
            // creation slow on ext4, which would be measured as coordinator cost.
            let folder = scratch ?? FileManager.default.currentDirectoryPath + "/.bench/scratch-\(getpid())"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { if scratch == nil { try? FileManager.default.removeItem(atPath: folder) } }
            let suite = BenchSections(scratch: folder, quick: quick)
            var report = BenchReport()
            report.machine = BenchReport.machineDescription()
            let wanted = Set(sections)
            if wanted.contains("procedural") { report.procedural = suite.procedural() }
            if wanted.contains("diffusers") {
                guard let python = python ?? SidecarOptions.defaultPython(executable: ProcessSetup.executablePath) else {
                    throw ValidationError(
                        "the diffusers section needs the sidecar's Python: run scripts/install-diffusers or give --python")
                }
                let models = Dictionary(
                    model.map { pair in (String(pair.prefix { $0 != "=" }), String(pair.drop { $0 != "=" }.dropFirst())) },
                    uniquingKeysWith: { $1 })
                report.diffusers = try suite.diffusers(python: python, models: models)
            }
            if wanted.contains("stitch") { report.stitch = try suite.stitch() }
            if wanted.contains("size") { report.size = try suite.size() }
            if wanted.contains("coordinator") { report.coordinator = try suite.coordinatorCost(daskPeer: dask ? daskPeer : nil) }
            if wanted.contains("scaling") {
                let counts =
                    workers.map { $0.split(separator: ",").compactMap { Int($0) } }
                    ?? (quick ? [1, 4, 16] : [1, 4, 16, 64, 256]).filter { $0 <= maxWorkers }
                report.scaling = try suite.scaling(workerCounts: counts)
            }
            if wanted.contains("tail") { report.tail = try suite.tail() }
            print(report.tables())
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            print("results written to \(json)")
        }
    }
}
