import Foundation
import Testing

/// `reel bench --quick` end to end: real worker processes, real ffmpeg. Not a measurement: it
/// checks that every section of the suite still runs and writes its results, so a change that
/// breaks one (such as a section's job refused by a new limit) fails here rather than in the
/// next benchmark run.
@Suite struct BenchTests {
    static let sections = ["scaling", "tail", "coordinator", "size", "stitch", "procedural"]

    @Test func everySectionOfTheQuickSuiteRunsAndWritesItsRows() throws {
        let directory = TemporaryDirectory()
        let json = "\(directory.path)/bench.json"
        let result = try ReelBinary.run(["bench", "--quick", "--no-dask", "--json", json, "--scratch", directory.path], timeout: 1200)
        try #require(result.status == 0, "reel bench --quick failed: \(result.err.suffix(4000))")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
        let results = try #require(object as? [String: Any], "the results are a JSON object")
        for section in Self.sections {
            let rows = results[section] as? [[String: Any]] ?? []
            #expect(!rows.isEmpty, "section \(section) wrote no rows")
        }
        // The scaling rows are timed to the last commit and on to the MP4, in all three modes.
        let scaling = results["scaling"] as? [[String: Any]] ?? []
        #expect(Set(scaling.compactMap { $0["mode"] as? String }) == ["independent", "rolling", "autoregressive"])
        for row in scaling {
            let commit = row["toLastCommitSeconds"] as? Double ?? 0, output = row["toOutputSeconds"] as? Double ?? 0
            #expect(commit > 0 && output >= commit, "\(row["mode"] ?? "?") at \(row["workers"] ?? "?") workers: \(commit) s, \(output) s")
        }
        #expect(result.out.contains("eff. to MP4") && result.out.contains("tail range s"), "the scaling and tail tables are printed")
    }
}
