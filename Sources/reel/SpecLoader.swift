import Foundation
import ReelClient
import ReelCore

/// Reads a spec file and makes its paths absolute (relative paths are relative to the spec file).
enum SpecLoader {
    static func load(_ path: String, outputOverride: String? = nil) throws -> JobSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReelError(.usage, "cannot read the spec file \(path)")
        }
        let base = (absolute(path, relativeTo: FileManager.default.currentDirectoryPath) as NSString).deletingLastPathComponent
        var spec = try JobSpecParser.parse(String(decoding: data, as: UTF8.self), source: path) { (model: String) throws(SpecProblemError) in
            let folder = absolute(model, relativeTo: base)
            return (folder, try ModelFolder.geometry(folder))
        }
        if let outputOverride {
            spec.output = absolute(outputOverride, relativeTo: FileManager.default.currentDirectoryPath)
            let problems = JobSpecParser.problems(in: spec)
            if !problems.isEmpty { throw ReelError(.invalidSpec, "--out: " + problems.map(\.description).joined(separator: "; ")) }
        } else {
            spec.output = absolute(spec.output, relativeTo: base)
        }
        spec.pngDirectory = spec.pngDirectory.map { absolute($0, relativeTo: base) }
        return spec
    }

    static func absolute(_ path: String, relativeTo base: String) -> String {
        let joined = path.hasPrefix("/") ? path : "\(base)/\(path)"
        return (joined as NSString).standardizingPath
    }
}
