import Foundation
import ReelCore
import ReelStore
import Synchronization

/// Chunk previews made on first request from committed artifacts and kept (a bounded number).
final class PreviewCache: Sendable {
    private let artifacts: String
    private let images = Mutex<[String: [UInt8]]>([:])
    static let capacity = 1024

    init(artifactsRoot: String) {
        artifacts = artifactsRoot
    }

    /// The PNG preview of `chunk` of `plan`, whose committed latents are at `location`.
    func png(job: Int64, spec: JobSpec, plan: Plan, chunk: Int, location: ArtifactLocation) throws -> [UInt8] {
        let key = "\(job)/\(chunk)/\(location)"
        if let image = images.withLock({ $0[key] }) { return image }
        let region = plan.chunks[chunk].region
        let channels = plan.grid.channels
        let plane = region.rows.count * region.columns.count
        let bytes = try ArtifactStore(root: artifacts).read(location)
        let latents = try LatentCodec.decode(bytes, expectedCount: region.frames.count * channels * plane)
        let middle = region.frames.count / 2
        let frame = latents[(middle * channels * plane)..<((middle + 1) * channels * plane)]
        let projection = spec.model.map { LatentPreview.projection(family: $0.geometry.family, channels: channels) }
        let rgb = LatentPreview.rgb(frame, channels: channels, projection: projection)
        let thumbnail = LatentPreview.thumbnail(rgb, width: region.columns.count, height: region.rows.count)
        let image = PNGEncoder.encode(rgb: thumbnail.pixels, width: thumbnail.width, height: thumbnail.height)
        images.withLock { images in
            if images.count >= Self.capacity { images.removeAll() }
            images[key] = image
        }
        return image
    }
}
