import Foundation
import ReelClient
import ReelCore
import TOMLKit

/// A job spec sent to `POST /v1/jobs`: TOML (`application/toml`, as `reel submit` reads it) or
/// JSON (`application/json`, the same keys), checked by the same rules as a spec file.
enum SpecBody {
    /// Largest body accepted (a spec with hundreds of shots fits in a few KiB).
    static let maxBytes = 256 * 1024

    /// The spec in `body`, or every problem with it, each naming its field. Model folders
    /// are read relative to `base` (the coordinator's working folder).
    static func read(_ body: [UInt8], contentType: String?, base: String) -> Result<JobSpec, SpecProblems> {
        let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let readModel: JobSpecParser.ModelReader = { (model: String) throws(SpecProblemError) in
            let folder = ((model.hasPrefix("/") ? model : "\(base)/\(model)") as NSString).standardizingPath
            return (folder, try ModelFolder.geometry(folder))
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            return .failure(SpecProblems(problems: [SpecProblem(field: "body", problem: "is not UTF-8 text")]))
        }
        switch type {
        case "application/toml", "text/toml", "text/plain":
            return JobSpecParser.read(text, readModel: readModel)
        case "application/json":
            let value: JSONValue
            do { value = try JSONDecoder().decode(JSONValue.self, from: Data(body)) } catch {
                return .failure(SpecProblems(problems: [SpecProblem(field: "body", problem: "is not valid JSON: \(error)")]))
            }
            guard case .object(let fields) = value else {
                return .failure(SpecProblems(problems: [SpecProblem(field: "body", problem: "must be a JSON object of spec keys")]))
            }
            var problems: [SpecProblem] = []
            let table = toml(fields, path: "", problems: &problems)
            guard problems.isEmpty else { return .failure(SpecProblems(problems: problems)) }
            return JobSpecParser.read(table, readModel: readModel)
        default:
            return .failure(
                SpecProblems(problems: [
                    SpecProblem(
                        field: "Content-Type", problem: "must be application/toml or application/json (got '\(contentType ?? "none")')")
                ]))
        }
    }

    /// A JSON object as the TOML table a spec file would give. JSON has no TOML dates, and
    /// null has no TOML form: a null field is a problem.
    private static func toml(_ fields: [String: JSONValue], path: String, problems: inout [SpecProblem]) -> TOMLTable {
        let table = TOMLTable()
        for (key, value) in fields {
            if let converted = toml(value, path: path + key, problems: &problems) { table[key] = converted }
        }
        return table
    }

    private static func toml(_ value: JSONValue, path: String, problems: inout [SpecProblem]) -> (any TOMLValueConvertible)? {
        switch value {
        case .bool(let value): return value
        case .integer(let value): return Int(value)
        case .number(let value): return value
        case .string(let value): return value
        case .array(let values):
            let array = TOMLArray()
            for (index, value) in values.enumerated() {
                if let converted = toml(value, path: "\(path)[\(index)]", problems: &problems) { array.append(converted) }
            }
            return array
        case .object(let fields): return toml(fields, path: path + ".", problems: &problems)
        case .null:
            problems.append(SpecProblem(field: path, problem: "must not be null (leave the key out for its default)"))
            return nil
        }
    }
}
