import ArgumentParser
import ReelCoordinator

extension Reel {
    struct Coordinator: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the coordinator: the job store and the ZeroMQ endpoint workers and clients talk to.")

        @Option(help: "Data directory: the SQLite store, chunk artifacts, logs.")
        var data: String = "reel-data"

        @Option(help: "ZeroMQ endpoint to bind (loopback by default; `tcp://127.0.0.1:*` picks a free port).")
        var bind: String = "tcp://127.0.0.1:5555"

        @Option(help: "Seconds of silence after which a worker is dead and its tasks are requeued.")
        var workerTimeout: Double = 5

        @OptionGroup var logging: LoggingOptions

        func run() throws {
            let logger = logging.makeLogger("reel.coordinator")
            let coordinator = try ReelCoordinator.Coordinator(
                options: CoordinatorOptions(
                    dataDirectory: data, bind: bind,
                    timings: SchedulerTimings(workerTimeoutSeconds: workerTimeout)),
                logger: logger)
            try coordinator.run { ProcessSetup.shouldStop }
        }
    }
}
