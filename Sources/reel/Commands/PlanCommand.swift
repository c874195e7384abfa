import ArgumentParser
import Foundation
import ReelPlan
import ReelSampler

extension Reel {
    struct PlanCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "plan", abstract: "Validate a spec and print its plan.")

        @Argument(help: "The job spec (TOML).")
        var spec: String

        func run() throws {
            let spec = try SpecLoader.load(spec)
            let plan = Planner.plan(spec)
            print("job \(spec.name): \(spec.frameCount) frames of \(spec.width)x\(spec.height) at \(spec.fps) fps (\(spec.seconds) s)")
            if let model = spec.model {
                let geometry = model.geometry
                print(
                    "model: \(model.path) (\(geometry.pipeline), family \(geometry.family)): VAE \(geometry.temporalCompression)x in time, \(geometry.spatialCompression)x in space, patch \(geometry.patchFrames)x\(geometry.patchHeight)x\(geometry.patchWidth)"
                )
                let decoded = geometry.pixelFrames(forLatentFrames: plan.grid.frames)
                print(
                    "latent frames: \(plan.grid.frames), decoding to \(decoded) frames\(decoded > spec.frameCount ? ", trimmed to \(spec.frameCount)" : "")"
                )
            }
            print("latent grid: \(plan.grid.frames) x \(plan.grid.channels) x \(plan.grid.height) x \(plan.grid.width)")
            print("time windows: \(plan.windows.count) of \(spec.chunkFrames) frames, overlap >= \(spec.overlap)")
            print("tiles: \(plan.tileRows.count) x \(plan.tileColumns.count)")
            print("chunks: \(plan.chunks.count)")
            if !plan.seams.isEmpty || !plan.shots.allSatisfy({ $0.keyframes.isEmpty }) {
                let sets = plan.keyframeTrees.map(\.setCount).reduce(0, +), levels = plan.keyframeTrees.map { $0.depth + 1 }.max() ?? 0
                print(
                    "keyframes: \(plan.shots.map(\.keyframes.count).reduce(0, +)) in \(sets) set(s) of up to \(spec.keyframeCapacity) frames, \(levels) level(s) coarse to fine; seam windows: \(plan.seams.count)"
                )
            }
            if !plan.decodes.isEmpty {
                let model = spec.model!
                let sides = model.geometry.decoderCausal ? "before each (a causal decoder)" : "on each side"
                print(
                    "decode windows: \(plan.decodes.count) of up to \(model.decodeFrames) latent frames, \(model.decodeOverlap) warm-up latent frames \(sides)"
                )
            }
            print("tasks: \(plan.units.count)")
            print(String(format: "redundant compute: %.3fx from chunk overlap", plan.redundancy))
            for line in PlanCost.of(spec, plan).lines { print(line) }
            print("output: \(spec.output)")
        }
    }
}
