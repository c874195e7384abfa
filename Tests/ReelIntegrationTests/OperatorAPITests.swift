import Foundation
import ReelCore
import Testing

/// `reel coordinator --http`: the operator API over real HTTP on loopback, with tokens made by
/// `reel token create`, driving a real render.
@Suite(.serialized) struct OperatorAPITests {
    /// A coordinator serving the API on a free loopback port, and its base URL.
    static func servedCluster(_ directory: TemporaryDirectory, extra: [String] = []) throws -> (cluster: TestCluster, base: String) {
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--http", "127.0.0.1:0"] + extra)
        var address: String?
        try waitUntil("the coordinator logs its API address", timeout: 10) {
            address = cluster.log("coordinator.log").firstMatch(of: /operator API and dashboard on http:\/\/([0-9.:]+)\//).map {
                String($0.1)
            }
            return address != nil
        }
        return (cluster, "http://\(address!)")
    }

    /// Makes a token with `reel token create` and returns it (the last line it prints).
    static func token(_ cluster: TestCluster, role: String, name: String) throws -> String {
        let made = try ReelBinary.run(["token", "create", "--role", role, "--name", name, "--data", cluster.data])
        #expect(made.status == 0, "\(made.err)")
        return String(made.out.split(separator: "\n").last ?? "")
    }

    static func spec(name: String, seconds: Double = 3) -> Data {
        Data(
            """
            name = "\(name)"
            prompt = "kites over a lake at dusk"
            seconds = \(seconds)
            fps = 12
            width = 96
            height = 64
            seed = 11
            steps = 6
            chunk_frames = 16
            overlap = 4
            output = "\(name).mp4"
            """.utf8)
    }

    static func submit(_ base: String, token: String, name: String, seconds: Double = 3) throws -> Int64 {
        let created = try HTTP.request(
            "\(base)/v1/jobs", method: "POST", token: token, headers: ["Content-Type": "application/toml"],
            body: spec(name: name, seconds: seconds))
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.json["id"] as? Int)
        #expect(created.header("Location") == "/v1/jobs/\(id)")
        return Int64(id)
    }

    @Test func aSubmitterRendersAndDownloadsOverHTTPAndSeesOnlyItsOwnJobs() throws {
        let directory = TemporaryDirectory()
        let (cluster, base) = try Self.servedCluster(directory)
        defer { cluster.stop() }
        let alice = try Self.token(cluster, role: "submitter", name: "alice")
        let bob = try Self.token(cluster, role: "submitter", name: "bob")
        let viewer = try Self.token(cluster, role: "viewer", name: "wall-screen")
        let admin = try Self.token(cluster, role: "admin", name: "ops")

        // No token, a wrong token, a viewer submitting.
        #expect(try HTTP.request("\(base)/v1/jobs").status == 401)
        #expect(try HTTP.request("\(base)/v1/jobs", token: "reel_not-a-token").status == 401)
        let refused = try HTTP.request(
            "\(base)/v1/jobs", method: "POST", token: viewer, headers: ["Content-Type": "application/toml"], body: Self.spec(name: "v"))
        #expect(refused.status == 403 && refused.json["error"] as? String == "forbidden", "\(refused.text)")

        let job = try Self.submit(base, token: alice, name: "api-alice")
        try cluster.startWorker("api-1")
        var shown: [String: Any] = [:]
        try waitUntil("the job is done, polled over HTTP", timeout: 180) {
            shown = try HTTP.request("\(base)/v1/jobs/\(job)", token: alice).json
            // The consistency report is recorded just after the job is done.
            return shown["state"] as? String == "done" && shown["consistency"] != nil
        }
        #expect(shown["owner"] as? String == "alice" && shown["progress"] as? Double == 1)
        let stages = (shown["stages"] as? [[String: Any]] ?? []).map { "\($0["name"]!) \($0["done"]!)/\($0["total"]!)" }
        #expect(stages.contains("encode 36/36") && stages.contains { $0.hasPrefix("chunks ") }, "\(stages)")
        #expect((shown["consistency"] as? [String: Any])?["frames"] != nil, "the consistency report is shown once encoded")

        // The video: whole, then one range of it.
        let video = try HTTP.request("\(base)/v1/jobs/\(job)/output", token: alice)
        #expect(video.status == 200 && video.header("Content-Type") == "video/mp4" && video.header("Accept-Ranges") == "bytes")
        let file = "\(directory.path)/downloaded.mp4"
        try video.body.write(to: URL(fileURLWithPath: file))
        let probed = try probe(file)
        #expect(probed["nb_read_frames"] == "36" && probed["width"] == "96", "\(probed)")
        #expect(video.body == FileManager.default.contents(atPath: "\(cluster.outputRoot)/api-alice.mp4"))
        let part = try HTTP.request("\(base)/v1/jobs/\(job)/output", token: alice, headers: ["Range": "bytes=100-355"])
        #expect(part.status == 206 && part.body == video.body[100...355], "\(part.status)")
        #expect(part.header("Content-Range") == "bytes 100-355/\(video.body.count)")
        let tail = try HTTP.request("\(base)/v1/jobs/\(job)/output", token: alice, headers: ["Range": "bytes=-10"])
        #expect(tail.status == 206 && tail.body == video.body.suffix(10))
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)/output", token: alice, headers: ["Range": "bytes=999999999-"]).status == 416)

        // Another submitter neither sees nor controls it; a viewer sees it and cannot control it.
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)", token: bob).status == 404)
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)/cancel", method: "POST", token: bob).status == 404)
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)/output", token: bob).status == 404)
        #expect((try HTTP.request("\(base)/v1/jobs", token: bob).json["jobs"] as? [Any])?.isEmpty == true)
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)", token: viewer).status == 200)
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)/cancel", method: "POST", token: viewer).status == 403)
        #expect(try HTTP.request("\(base)/v1/workers", token: alice).status == 403)
        let workers = try HTTP.request("\(base)/v1/workers", token: admin).json["workers"] as? [[String: Any]] ?? []
        #expect(workers.first?["id"] as? String == "api-1" && (workers.first?["tasksDone"] as? Int ?? 0) > 0, "\(workers)")

        // The event log, a page at a time, and the chunk map, all done.
        let first = try HTTP.request("\(base)/v1/jobs/\(job)/events?limit=2", token: viewer).json
        let next = try #require(first["next"] as? Int)
        let second = try HTTP.request("\(base)/v1/jobs/\(job)/events?limit=2&after=\(next)", token: viewer).json
        let ids = ((first["events"] as? [[String: Any]] ?? []) + (second["events"] as? [[String: Any]] ?? [])).compactMap {
            $0["id"] as? Int
        }
        #expect(ids.count == 4 && ids == ids.sorted() && Set(ids).count == 4, "\(ids)")
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)/events?limit=0", token: viewer).status == 400)
        let map = try HTTP.request("\(base)/v1/jobs/\(job)/chunks", token: alice).json
        let cells = map["cells"] as? [[String: Any]] ?? []
        #expect(!cells.isEmpty && cells.allSatisfy { $0["state"] as? String == "done" }, "\(map)")
        let preview = try HTTP.request("\(base)/v1/jobs/\(job)/chunks/0/preview.png", token: alice)
        #expect(preview.status == 200 && preview.body.prefix(4) == Data([0x89, 0x50, 0x4e, 0x47]))

        // The API's listener serves the Prometheus metrics too.
        let metrics = try HTTP.request("\(base)/metrics")
        let committed = metrics.text.split(separator: "\n").first { $0.hasPrefix("reel_tasks_committed_total ") }
        #expect(metrics.status == 200 && metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(
            committed.flatMap { Double($0.split(separator: " ")[1]) } == Double(try cluster.store().tasks(job: job).count),
            "\(committed ?? "none")")

        // A revoked token is refused at once.
        #expect(try ReelBinary.run(["token", "revoke", "alice", "--data", cluster.data]).status == 0)
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)", token: alice).status == 401)
        let listed = try ReelBinary.run(["token", "list", "--data", cluster.data]).out
        #expect(listed.contains("alice\tsubmitter") && listed.contains("revoked"), "\(listed)")
        #expect(!listed.contains(alice), "only the token's hash is kept")
    }

    @Test func aBadSpecGetsEveryProblemNamingItsFieldAndChangesNothing() throws {
        let directory = TemporaryDirectory()
        let (cluster, base) = try Self.servedCluster(directory)
        defer { cluster.stop() }
        let submitter = try Self.token(cluster, role: "submitter", name: "carol")
        let body = Data(
            #"{"name": "bad name!", "prompt": "kites", "seconds": -1, "fps": 0, "width": 5, "height": 64, "seed": 1, "output": "x.mp4", "colour": "red"}"#
                .utf8)
        let refused = try HTTP.request(
            "\(base)/v1/jobs", method: "POST", token: submitter, headers: ["Content-Type": "application/json"], body: body)
        #expect(refused.status == 400 && refused.json["error"] as? String == "invalid-spec", "\(refused.text)")
        let fields = Set((refused.json["problems"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(fields.isSuperset(of: ["colour"]), "\(refused.text)")
        // With every key known, each bad value is named.
        let known = Data(
            #"{"name": "bad name!", "prompt": "kites", "seconds": -1, "fps": 0, "width": 5, "height": 64, "seed": 1, "output": "x.mp4"}"#
                .utf8)
        let values = try HTTP.request(
            "\(base)/v1/jobs", method: "POST", token: submitter, headers: ["Content-Type": "application/json"], body: known)
        let named = Set((values.json["problems"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(values.status == 400 && named.isSuperset(of: ["name", "seconds", "fps", "width"]), "\(values.text)")
        let syntax = try HTTP.request(
            "\(base)/v1/jobs", method: "POST", token: submitter, headers: ["Content-Type": "application/toml"], body: Data("name = ".utf8))
        #expect(syntax.status == 400 && syntax.text.contains("\"field\":\"toml\""), "\(syntax.text)")
        let outside = try HTTP.request(
            "\(base)/v1/jobs", method: "POST", token: submitter, headers: ["Content-Type": "application/toml"],
            body: Data(
                String(decoding: Self.spec(name: "escape"), as: UTF8.self).replacingOccurrences(
                    of: "\"escape.mp4\"", with: "\"/etc/x.mp4\""
                ).utf8))
        #expect(outside.status == 400 && outside.text.contains("\"field\":\"output\""), "\(outside.text)")
        #expect(
            try HTTP.request("\(base)/v1/jobs", method: "POST", token: submitter, headers: ["Content-Type": "text/xml"], body: body).status
                == 400)
        let huge = try HTTP.request(
            "\(base)/v1/jobs", method: "POST", token: submitter, headers: ["Content-Type": "application/toml"],
            body: Data(repeating: UInt8(ascii: "#"), count: 300 * 1024))
        #expect(huge.status == 413 && huge.json["error"] as? String == "too-large", "\(huge.status) \(huge.text.prefix(200))")
        #expect(try cluster.store().jobs().isEmpty, "nothing was submitted")
    }

    @Test func jobsArePausedResumedAndCancelledOverHTTP() throws {
        let directory = TemporaryDirectory()
        let (cluster, base) = try Self.servedCluster(directory)
        defer { cluster.stop() }
        let dave = try Self.token(cluster, role: "submitter", name: "dave")
        let job = try Self.submit(base, token: dave, name: "controlled", seconds: 6)
        let paused = try HTTP.request("\(base)/v1/jobs/\(job)/pause", method: "POST", token: dave)
        #expect(paused.status == 200 && paused.json["state"] as? String == "paused", "\(paused.text)")
        #expect(
            try HTTP.request("\(base)/v1/jobs/\(job)/pause", method: "POST", token: dave).status == 409, "pausing a paused job conflicts")
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)/resume", method: "POST", token: dave).json["state"] as? String == "running")
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)/cancel", method: "POST", token: dave).json["state"] as? String == "cancelled")
        let events = try cluster.store().events(job: job).map(\.kind)
        #expect(events.contains("job-paused") && events.contains("job-cancelled"), "\(events)")
        // The dashboard's cookie alone may read, not change.
        let session = try HTTP.request("\(base)/v1/session", method: "POST", token: dave)
        let cookie = try #require(session.header("Set-Cookie")?.split(separator: ";").first.map(String.init))
        #expect(
            session.header("Set-Cookie")?.contains("HttpOnly") == true && session.header("Set-Cookie")?.contains("SameSite=Strict") == true)
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)", headers: ["Cookie": cookie]).status == 200)
        #expect(try HTTP.request("\(base)/v1/jobs/\(job)/resume", method: "POST", headers: ["Cookie": cookie]).status == 403)
        #expect(
            try HTTP.request("\(base)/v1/jobs/\(job)/resume", method: "POST", headers: ["Cookie": cookie, "X-Reel-Request": "1"]).status
                == 200)
    }

    /// Runs curl with `arguments`: what it wrote to stdout.
    static func curl(_ arguments: [String]) throws -> String { try runProgram("/usr/bin/curl", arguments, timeout: 30).out }

    /// Reads `seconds` of the live feed: the text it got.
    static func feed(_ base: String, token: String, lastEventID: Int64? = nil, seconds: Int = 3) throws -> String {
        try curl(
            ["-sN", "--max-time", "\(seconds)", "-H", "Authorization: Bearer \(token)", "\(base)/v1/events"]
                + (lastEventID.map { ["-H", "Last-Event-ID: \($0)"] } ?? []))
    }

    @Test func theLiveFeedResumesAfterLastEventIDAndShowsOnlyWhatTheTokenMayRead() throws {
        let directory = TemporaryDirectory()
        let (cluster, base) = try Self.servedCluster(directory)
        defer { cluster.stop() }
        let frank = try Self.token(cluster, role: "submitter", name: "frank")
        let grace = try Self.token(cluster, role: "submitter", name: "grace")
        let franks = try Self.submit(base, token: frank, name: "franks", seconds: 6)
        let graces = try Self.submit(base, token: grace, name: "graces", seconds: 6)
        // From the first event on: frank's job's events and views, none of grace's.
        let resumed = try Self.feed(base, token: frank, lastEventID: 0)
        let ids = resumed.matches(of: /id: ([0-9]+)\nevent: event\ndata: (.*)\n/).map { (Int($0.1)!, String($0.2)) }
        #expect(!ids.isEmpty && ids.allSatisfy { $0.1.contains("\"job\":\(franks)") }, "\(resumed.prefix(1500))")
        #expect(ids.map(\.0) == ids.map(\.0).sorted())
        let views = resumed.matches(of: /event: job\ndata: (.*)\n/).compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.1.utf8)) as? [String: Any])?["id"] as? Int
        }
        #expect(views.contains(Int(franks)) && !views.contains(Int(graces)), "\(views)")
        #expect(!resumed.contains("event: workers"), "a submitter does not see the workers")
        // From the last one seen: nothing older comes again.
        let last = try #require(ids.last?.0)
        let later = try Self.feed(base, token: frank, lastEventID: Int64(last), seconds: 2)
        let again = later.matches(of: /id: ([0-9]+)\n/).map { Int($0.1)! }
        #expect(again.allSatisfy { $0 > last }, "\(again)")
    }

    @Test func theAPIListensBeyondLoopbackOnlyOverTLS() throws {
        let refused = try ReelBinary.run(["coordinator", "--data", TemporaryDirectory().path, "--http", "0.0.0.0:0"])
        #expect(refused.status != 0 && refused.err.contains("beyond loopback"), "\(refused.err)")
        let directory = TemporaryDirectory()
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        made.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-keyout", "\(directory.path)/key.pem", "-out", "\(directory.path)/cert.pem",
        ]
        made.standardError = FileHandle.nullDevice
        try made.run()
        made.waitUntilExit()
        let cluster = try TestCluster(
            data: "\(directory.path)/data",
            coordinatorArguments: [
                "--http", "0.0.0.0:0", "--http-tls-cert", "\(directory.path)/cert.pem", "--http-tls-key", "\(directory.path)/key.pem",
            ])
        defer { cluster.stop() }
        var port: String?
        try waitUntil("the coordinator logs its HTTPS address", timeout: 10) {
            port = cluster.log("coordinator.log").firstMatch(of: /operator API and dashboard on https:\/\/[0-9.:]+:([0-9]+)\//).map {
                String($0.1)
            }
            return port != nil
        }
        let curl = { (url: String) throws -> String in
            try Self.curl(["-s", "--max-time", "5", "--cacert", "\(directory.path)/cert.pem", "-w", " %{http_code}", url])
        }
        try waitUntil("the API answers over HTTPS once the loop turns", timeout: 10) {
            try curl("https://localhost:\(port!)/healthz").hasSuffix("{\"status\":\"ok\"} 200")
        }
        #expect(try curl("https://localhost:\(port!)/v1/jobs").hasSuffix(" 401"))
        #expect(try curl("http://localhost:\(port!)/healthz").hasSuffix(" 000"), "no plain HTTP")
    }
}
