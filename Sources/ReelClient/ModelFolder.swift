import Foundation
import ReelCore

/// A diffusers model folder on this machine: the shell that reads the configs for the pure
/// ``ModelFamilies/geometry(folder:read:)``.
public enum ModelFolder {
    /// The geometry of the model in `folder`; errors name the `model` field.
    public static func geometry(_ folder: String) throws(SpecProblemError) -> ModelGeometry {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SpecProblemError(SpecProblem(field: "model", problem: "no model folder at \(folder)"))
        }
        return try ModelFamilies.geometry(folder: folder) { FileManager.default.contents(atPath: $0) }
    }
}
