import Foundation
import ReelCore
import Testing

/// The operator API checked by outside tools against a running coordinator: its OpenAPI
/// document by openapi-spec-validator, the server by schemathesis fuzzing through that
/// document, and the dashboard by a real headless chromium driven by Playwright.
@Suite(.serialized) struct OperatorBrowserTests {
    static let tools = "\(Diffusers.repository)/.venv-ops/bin"

    /// Runs a program to completion; (status, stdout and stderr together).
    static func run(_ program: String, _ arguments: [String], timeout: Double = 600) throws -> (status: Int32, output: String) {
        try #require(FileManager.default.isExecutableFile(atPath: program), "\(program) is missing: run scripts/install-deps")
        let run = try runProgram(program, arguments, timeout: timeout)
        return (run.status, run.out + run.err)
    }

    @Test func theDocumentValidatesAndSchemathesisFindsNoServerErrorAndNoResponseOffItsSchema() throws {
        let validated = try Self.run("\(Self.tools)/openapi-spec-validator", ["\(Diffusers.repository)/Docs/api/openapi.json"])
        #expect(validated.status == 0 && validated.output.contains("OK"), "\(validated.output)")

        let directory = TemporaryDirectory()
        let (cluster, base) = try OperatorAPITests.servedCluster(directory)
        defer { cluster.stop() }
        let admin = try OperatorAPITests.token(cluster, role: "admin", name: "fuzzer")
        // A finished job, so ids, events, chunks and a video exist to be found.
        let job = try OperatorAPITests.submit(base, token: admin, name: "fuzzed", seconds: 2)
        try cluster.startWorker("fuzzed-1")
        try cluster.waitFor(job: job) { $0.state == "done" }
        let fuzzed = try Self.run(
            "\(Self.tools)/schemathesis",
            [
                "run", "\(base)/v1/openapi.json", "-H", "Authorization: Bearer \(admin)",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
                // The live feed never ends: a fuzzer cannot wait for it.
                "--exclude-operation-id", "liveEvents", "--max-examples", "40", "--generation-deterministic", "--request-timeout", "10",
            ])
        let summary = fuzzed.output.firstMatch(of: /([0-9]+) generated, ([0-9]+) passed/)
        #expect(fuzzed.status == 0, "\(fuzzed.output.suffix(3000))")
        #expect(summary != nil && summary?.1 == summary?.2 && Int(summary?.1 ?? "0")! > 300, "\(fuzzed.output.suffix(1500))")
        measure("schemathesis against the API", summary.map { "\($0.1) generated, \($0.2) passed" } ?? "no summary")
        // Still up and serving, and nothing failed inside.
        #expect(cluster.coordinator.isRunning)
        #expect(try HTTP.request("\(base)/healthz").status == 200)
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)", token: admin).json["state"] as? String != nil)
        #expect(!cluster.log("coordinator.log").contains("API request failed"), "\(cluster.log("coordinator.log").suffix(2000))")
    }

    @Test func theDashboardFollowsARenderInARealBrowser() throws {
        let chromium = ["/usr/bin/chromium", "/usr/local/bin/chromium"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try #require(chromium != nil, "Debian's chromium is missing: run scripts/install-deps")
        let directory = TemporaryDirectory()
        let (cluster, base) = try OperatorAPITests.servedCluster(directory)
        defer { cluster.stop() }
        let viewer = try OperatorAPITests.token(cluster, role: "viewer", name: "wall-screen")
        let submitter = try OperatorAPITests.token(cluster, role: "submitter", name: "erin")
        // Slow enough (simulated steps of 150 ms, one worker) to watch the chunk map fill in.
        let spec =
            String(decoding: OperatorAPITests.spec(name: "watched", seconds: 8), as: UTF8.self)
            + "\nbackend = \"simulated\"\nstep_ms = 150\n"
        let created = try HTTP.request(
            "\(base)/v1/jobs", method: "POST", token: submitter, headers: ["Content-Type": "application/toml"], body: Data(spec.utf8))
        let job = try #require(created.json["id"] as? Int, "\(created.text)")
        try cluster.startWorker("render-node-1", arguments: ["--backend", "simulated"])
        let screenshots = "\(Diffusers.repository)/.build/test-artefacts/dashboard"
        try? FileManager.default.removeItem(atPath: screenshots)
        try FileManager.default.createDirectory(atPath: screenshots, withIntermediateDirectories: true)
        let browsed = try Self.run(
            "\(Self.tools)/python",
            [
                "\(Diffusers.repository)/Tests/ReelOperatorTools/check_dashboard.py", "--base", base, "--token", viewer, "--job", "\(job)",
                "--screenshots", screenshots,
            ], timeout: 400)
        #expect(browsed.status == 0, "\(browsed.output.suffix(3000))")
        measure("dashboard in chromium", browsed.output.split(separator: "\n").last.map(String.init) ?? "")
        for shot in ["jobs", "job-rendering", "job-done", "workers"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: "\(screenshots)/\(shot).png")[.size] as? Int) ?? 0
            #expect(size > 10_000, "screenshot \(shot).png")
        }
    }
}
