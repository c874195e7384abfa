import ReelCore

/// A chunk's middle frame as a small RGB image, from its committed latents: the pixels
/// themselves for the procedural backend; for a model's latents a linear projection to RGB (a
/// 3 × C matrix per family, as model UIs show live previews), so no VAE is needed.
enum LatentPreview {
    /// Width of a preview, in pixels (height keeps the aspect).
    static let width = 160

    /// The RGB projection of a model family's latent channels: rows are channels, columns R, G, B.
    struct Projection: Sendable {
        let factors: [[Float]]
        let bias: [Float]
    }

    /// Wan 2.1's latent-to-RGB factors, the widely used approximation of its VAE (ComfyUI's
    /// `latent_formats.Wan21`), for its 16 latent channels.
    static let wan = Projection(
        factors: [
            [-0.1299, -0.1692, 0.2932], [0.0671, 0.0406, 0.0442], [0.3568, 0.2548, 0.1747], [0.0372, 0.2344, 0.1420],
            [0.0313, 0.0189, -0.0328], [0.0296, -0.0956, -0.0665], [-0.3477, -0.4059, -0.2925], [0.0166, 0.1902, 0.1975],
            [-0.0412, 0.0267, -0.1364], [-0.1293, 0.0740, 0.1636], [0.0680, 0.3019, 0.1128], [0.0032, 0.0581, 0.0639],
            [-0.1251, 0.0927, 0.1699], [0.0060, -0.0633, 0.0005], [0.3477, 0.2275, 0.2950], [0.1984, 0.0913, 0.1861],
        ], bias: [-0.1835, -0.0868, -0.3360])

    /// The projection for `family` with `channels` latent channels: Wan's factors for a
    /// 16-channel Wan model; otherwise (LTX-Video, whose published factors are not carried,
    /// or an unusual channel count) the first three channels as R, G and B.
    static func projection(family: String, channels: Int) -> Projection {
        if family == "wan" && channels == wan.factors.count { return wan }
        let factors = (0..<channels).map { channel in (0..<3).map { Float(channel == $0 ? 1 : 0) } }
        return Projection(factors: factors, bias: [0, 0, 0])
    }

    /// One frame of planar latents (`channels` planes of `height × width`) as interleaved RGB
    /// in [-1, 1]: the values when there are three channels and no projection, else projected.
    static func rgb(_ frame: ArraySlice<Float>, channels: Int, projection: Projection?) -> [Float] {
        let plane = frame.count / max(1, channels)
        var rgb = [Float](repeating: 0, count: plane * 3)
        let base = frame.startIndex
        for pixel in 0..<plane {
            for colour in 0..<3 {
                if let projection {
                    var value = projection.bias[colour]
                    for channel in 0..<channels { value += frame[base + channel * plane + pixel] * projection.factors[channel][colour] }
                    rgb[pixel * 3 + colour] = value
                } else {
                    rgb[pixel * 3 + colour] = channels > colour ? frame[base + colour * plane + pixel] : 0
                }
            }
        }
        return rgb
    }

    /// Interleaved RGB in [-1, 1] of `width × height`, scaled (nearest pixel) to ``width`` wide, as 8-bit RGB.
    static func thumbnail(_ rgb: [Float], width: Int, height: Int) -> (pixels: [UInt8], width: Int, height: Int) {
        let outWidth = min(Self.width, width), outHeight = max(1, height * outWidth / max(1, width))
        var pixels = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        for y in 0..<outHeight {
            let sourceY = y * height / outHeight
            for x in 0..<outWidth {
                let source = (sourceY * width + x * width / outWidth) * 3
                for colour in 0..<3 {
                    pixels[(y * outWidth + x) * 3 + colour] = UInt8(max(0, min(255, ((rgb[source + colour] + 1) * 127.5).rounded())))
                }
            }
        }
        return (pixels, outWidth, outHeight)
    }
}
