import ArgumentParser
import Foundation
import Logging

@main
struct Reel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A render farm for long generated videos.",
        discussion: "Start with `reel render Config/examples/demo.toml`.",
        subcommands: [
            Render.self, Coordinator.self, Worker.self, Submit.self, Status.self, Wait.self, Pause.self, Resume.self, Cancel.self,
            PlanCommand.self, Keys.self, Token.self, OpenAPI.self, Score.self, Bench.self,
        ]
    )
}

/// Options every long-running command shares.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessInfo.processInfo.environment["REEL_LOG_LEVEL"] ?? "info"

    func makeLogger(_ label: String) -> Logger {
        ProcessSetup.start()
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }
}
