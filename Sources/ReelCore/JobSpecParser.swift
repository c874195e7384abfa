import TOMLKit

/// One thing wrong with a spec: the field it concerns and what is wrong with it.
public struct SpecProblem: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var problem: String
    public var description: String { "field '\(field)': \(problem)" }

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }
}

/// Every problem found in a spec.
public struct SpecProblems: Error, Sendable {
    public let problems: [SpecProblem]

    public init(problems: [SpecProblem]) {
        self.problems = problems
    }
}

/// Parses and validates job specs written in TOML.
///
/// Every problem is collected, so a user fixes a spec in one pass; the thrown
/// ``ReelError`` (code `invalid-spec`) lists each one on its own line.
public enum JobSpecParser {
    /// Keys a spec may contain; anything else is reported as unknown (typos must not pass silently).
    public static let knownKeys: Set<String> = [
        "name", "prompt", "seconds", "fps", "width", "height", "seed", "backend", "steps", "shift",
        "chunk_frames", "overlap", "tile_width", "tile_height", "tile_overlap", "output", "png_dir",
        "consistency", "conditioning", "keyframe_every", "seam_strength", "shots", "step_ms", "priority",
        "model", "guidance_scale", "negative_prompt", "dtype", "decode_frames", "decode_overlap", "notify_url",
    ]

    /// Keys of the diffusers backend's model settings.
    static let modelKeys: Set<String> = ["guidance_scale", "negative_prompt", "dtype", "decode_frames", "decode_overlap"]

    /// Reads a model folder's geometry for a spec's `model` path (as written in the spec).
    public typealias ModelReader = (String) throws(SpecProblemError) -> (path: String, geometry: ModelGeometry)

    /// Longest video a spec may ask for, in seconds (four hours).
    public static let maxSeconds = 4.0 * 3600

    /// Parses `text` and returns the validated spec, or throws listing every problem.
    /// `readModel` resolves and reads the folder of a diffusers spec's `model`; without it such a
    /// spec is refused (its geometry cannot be known).
    public static func parse(_ text: String, source: String = "spec", readModel: ModelReader? = nil) throws -> JobSpec {
        switch read(text, readModel: readModel) {
        case .success(let spec): return spec
        case .failure(let failure) where failure.problems.first?.field == syntaxField:
            throw ReelError(.invalidSpec, "\(source): \(failure.problems[0].problem)")
        case .failure(let failure):
            let lines = failure.problems.map { "  - \($0)" }.joined(separator: "\n")
            throw ReelError(.invalidSpec, "\(source) has \(failure.problems.count) problem(s):\n\(lines)")
        }
    }

    /// The field a TOML syntax error is reported under.
    public static let syntaxField = "toml"

    /// Parses `text`: the validated spec, or every problem (a syntax error is one problem, of
    /// field ``syntaxField``).
    public static func read(_ text: String, readModel: ModelReader? = nil) -> Result<JobSpec, SpecProblems> {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            return .failure(
                SpecProblems(problems: [
                    SpecProblem(
                        field: syntaxField,
                        problem:
                            "not valid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
                ]))
        } catch {
            return .failure(SpecProblems(problems: [SpecProblem(field: syntaxField, problem: "not valid TOML: \(error)")]))
        }
        return read(table, readModel: readModel)
    }

    /// Reads a spec's fields from `table` (TOML, or JSON made into a table): the validated
    /// spec, or every problem.
    public static func read(_ table: TOMLTable, readModel: ModelReader? = nil) -> Result<JobSpec, SpecProblems> {
        var reader = FieldReader(table: table, readModel: readModel)
        let spec = reader.read()
        guard reader.problems.isEmpty, let spec else {
            return .failure(
                SpecProblems(
                    problems: reader.problems.isEmpty ? [SpecProblem(field: "spec", problem: "is not a job spec")] : reader.problems))
        }
        return .success(spec)
    }

    /// Checks a spec built in code (the same rules as for parsed specs).
    public static func problems(in spec: JobSpec) -> [SpecProblem] {
        SpecRules.check(spec)
    }
}

/// Reads typed fields out of a TOML table, recording a problem for each missing or mistyped one.
private struct FieldReader {
    let table: TOMLTable
    let readModel: JobSpecParser.ModelReader?
    var problems: [SpecProblem] = []

    mutating func read() -> JobSpec? {
        for key in table.keys.sorted() where !JobSpecParser.knownKeys.contains(key) {
            problems.append(
                SpecProblem(field: key, problem: "unknown key (known keys: \(JobSpecParser.knownKeys.sorted().joined(separator: ", ")))"))
        }
        let name = string("name")
        let prompt =
            table["shots"] != nil && table["prompt"] == nil
            ? table["shots"]?.array?.first?.table?["prompt"]?.string ?? "" : string("prompt")
        let seconds = number("seconds")
        let fps = integer("fps")
        let width = integer("width")
        let height = integer("height")
        let seed = integer("seed")
        let backendName = string("backend", default: BackendKind.procedural.rawValue)
        let steps = integer("steps", default: 10)
        let shift = number("shift", default: 3.0)
        let chunkFrames = integer("chunk_frames", default: 48)
        let overlap = integer("overlap", default: 8)
        let tileWidth = integer("tile_width", default: 0)
        let tileHeight = integer("tile_height", default: 0)
        let tileOverlap = integer("tile_overlap", default: 16)
        let output = string("output")
        let pngDirectory = optionalString("png_dir")
        let consistency = choice("consistency", default: ConsistencyMode.rolling)
        let conditioning = choice("conditioning", default: ConditioningMethod.native)
        let keyframeEvery = optionalInteger("keyframe_every")
        let seamStrength = number("seam_strength", default: 0.5)
        let shots = readShots()
        let stepMilliseconds = integer("step_ms", default: 0)
        let priority = integer("priority", default: 0)
        let notifyURL = optionalString("notify_url")
        let model = readModelSettings(backend: backendName)

        var backend: BackendKind?
        if let backendName {
            backend = BackendKind(rawValue: backendName)
            if backend == nil {
                problems.append(
                    SpecProblem(
                        field: "backend",
                        problem: "unknown backend '\(backendName)' (known: \(BackendKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                    ))
            }
        }
        if let seed, seed < 0 {
            problems.append(SpecProblem(field: "seed", problem: "must be >= 0 (got \(seed))"))
        }
        guard let name, let prompt, let seconds, let consistency, let conditioning, let seamStrength,
            let shots, let stepMilliseconds, let priority, let fps, let width, let height, let seed, seed >= 0, let backend,
            let steps, let shift, let chunkFrames, let overlap, let tileWidth, let tileHeight, let tileOverlap,
            let output
        else { return nil }
        if backend == .diffusers && model == nil { return nil }
        var spec = JobSpec(
            name: name, prompt: prompt, seconds: seconds, fps: fps, width: width, height: height,
            seed: UInt64(seed), backend: backend, steps: steps, shift: shift, chunkFrames: chunkFrames,
            overlap: overlap, tileWidth: tileWidth, tileHeight: tileHeight, tileOverlap: tileOverlap,
            output: output, pngDirectory: pngDirectory, consistency: consistency, conditioning: conditioning,
            keyframeEvery: keyframeEvery, seamStrength: seamStrength, shots: shots, model: model)
        spec.stepMilliseconds = stepMilliseconds
        spec.priority = priority == 0 ? nil : priority
        spec.notifyURL = notifyURL
        problems += SpecRules.check(spec)
        return spec
    }

    /// The diffusers backend's settings: nil for other backends (where any model key is a problem).
    mutating func readModelSettings(backend: String?) -> ModelSettings? {
        guard backend == BackendKind.diffusers.rawValue else {
            for key in (JobSpecParser.modelKeys.union(["model"])).sorted() where table[key] != nil {
                problems.append(SpecProblem(field: key, problem: "applies to the diffusers backend only (backend is \(backend ?? "?"))"))
            }
            return nil
        }
        if table["shift"] != nil {
            problems.append(SpecProblem(field: "shift", problem: "the model's own scheduler sets the shift on the diffusers backend"))
        }
        let guidance = number("guidance_scale", default: 5.0)
        let negative = string("negative_prompt", default: "")
        let dtype = choice("dtype", default: ModelDType.float32)
        let decodeFrames = integer("decode_frames", default: 8)
        let decodeOverlap = integer("decode_overlap", default: 8)
        guard let path = string("model") else { return nil }
        guard let readModel else {
            problems.append(SpecProblem(field: "model", problem: "cannot be read here (no model folder reader)"))
            return nil
        }
        let found: (path: String, geometry: ModelGeometry)
        do { found = try readModel(path) } catch {
            problems.append(error.problem)
            return nil
        }
        guard let guidance, let negative, let dtype, let decodeFrames, let decodeOverlap else { return nil }
        return ModelSettings(
            path: found.path, geometry: found.geometry, guidanceScale: guidance, negativePrompt: negative, dtype: dtype,
            decodeFrames: decodeFrames, decodeOverlap: decodeOverlap)
    }

    private mutating func value(_ key: String, required: Bool) -> TOMLValueConvertible? {
        guard let value = table[key] else {
            if required { problems.append(SpecProblem(field: key, problem: "is required")) }
            return nil
        }
        return value
    }

    private mutating func wrongType(_ key: String, _ expected: String, _ value: TOMLValueConvertible) {
        problems.append(SpecProblem(field: key, problem: "must be \(expected) (got a \(value.type))"))
    }

    mutating func string(_ key: String, default fallback: String? = nil) -> String? {
        guard let value = value(key, required: fallback == nil) else { return fallback }
        guard let text = value.string else { wrongType(key, "a string", value); return nil }
        return text
    }

    mutating func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, default fallback: Choice) -> Choice?
    where Choice.RawValue == String {
        guard let name = string(key, default: fallback.rawValue) else { return nil }
        guard let value = Choice(rawValue: name) else {
            problems.append(
                SpecProblem(
                    field: key, problem: "unknown value '\(name)' (known: \(Choice.allCases.map(\.rawValue).joined(separator: ", ")))"))
            return nil
        }
        return value
    }

    /// `[[shots]]` tables: `prompt` and `start` (seconds).
    mutating func readShots() -> [JobSpec.Shot]? {
        guard let value = table["shots"] else { return [] }
        guard let array = value.array else { wrongType("shots", "an array of tables ([[shots]])", value); return nil }
        var shots: [JobSpec.Shot] = []
        for (index, element) in array.enumerated() {
            guard let shot = element.table, let prompt = shot["prompt"]?.string,
                let start = shot["start"]?.double ?? shot["start"]?.int.map(Double.init)
            else {
                problems.append(SpecProblem(field: "shots[\(index)]", problem: "needs a string 'prompt' and a number 'start' (seconds)"))
                return nil
            }
            shots.append(JobSpec.Shot(prompt: prompt, start: start))
        }
        return shots
    }

    mutating func optionalString(_ key: String) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { wrongType(key, "a string", value); return nil }
        return text
    }

    /// An integer the spec may leave out (nil then, and the spec's own default applies).
    mutating func optionalInteger(_ key: String) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else { wrongType(key, "an integer", value); return nil }
        return number
    }

    mutating func integer(_ key: String, default fallback: Int? = nil) -> Int? {
        guard let value = value(key, required: fallback == nil) else { return fallback }
        guard let number = value.int else { wrongType(key, "an integer", value); return nil }
        return number
    }

    mutating func number(_ key: String, default fallback: Double? = nil) -> Double? {
        guard let value = value(key, required: fallback == nil) else { return fallback }
        if let number = value.double { return number }
        if let number = value.int { return Double(number) }
        wrongType(key, "a number", value)
        return nil
    }
}
