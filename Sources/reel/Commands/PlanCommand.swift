import ArgumentParser
import Foundation
import ReelPlan

extension Reel {
    struct PlanCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "plan", abstract: "Validate a spec and print its plan.")

        @Argument(help: "The job spec (TOML).")
        var spec: String

        func run() throws {
            let spec = try SpecLoader.load(spec)
            let plan = Planner.plan(spec)
            print("job \(spec.name): \(spec.frameCount) frames of \(spec.width)x\(spec.height) at \(spec.fps) fps (\(spec.seconds) s)")
            print("latent grid: \(plan.grid.frames) x \(plan.grid.channels) x \(plan.grid.height) x \(plan.grid.width)")
            print("time windows: \(plan.windows.count) of \(spec.chunkFrames) frames, overlap >= \(spec.overlap)")
            print("tiles: \(plan.tileRows.count) x \(plan.tileColumns.count)")
            print("chunks: \(plan.chunks.count)")
            print(String(format: "redundant compute: %.3fx", plan.redundancy))
            print("output: \(spec.output)")
        }
    }
}
