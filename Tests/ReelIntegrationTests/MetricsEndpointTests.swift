import Foundation
import ReelCore
import ReelStore
import ReelWire
import ReelZMQ
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `reel coordinator --metrics`: Prometheus metrics and health checks over real HTTP on
/// loopback, read while a real render runs, and a real Prometheus scraping them.
@Suite(.serialized) struct MetricsEndpointTests {
    /// GET over HTTP: (status, body).
    static func get(_ url: String) throws -> (status: Int, body: String) {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Int, String), any Error> = .failure(ReelError(.network, "no answer from \(url)"))
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 10
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                result = .failure(error)
            } else {
                result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self)))
            }
            done.signal()
        }.resume()
        done.wait()
        return try result.get()
    }

    /// The value of one sample (`name{labels}` exactly as exposed) in a text exposition.
    static func sample(_ exposition: String, _ series: String) -> Double? {
        exposition.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    /// The metrics address from the coordinator's log line.
    static func address(in cluster: TestCluster) throws -> String {
        var address: String?
        try waitUntil("the coordinator logs its metrics address", timeout: 10) {
            address = cluster.log("coordinator.log").firstMatch(of: /metrics and health on http:\/\/([0-9.:]+)\/metrics/).map {
                String($0.1)
            }
            return address != nil
        }
        return address!
    }

    /// A coordinator serving metrics on a free loopback port, a small spec for it, and the
    /// metrics address (`host:port`).
    static func meteredCluster(_ name: String, seed: Int) throws -> (
        directory: TemporaryDirectory, spec: String, cluster: TestCluster, address: String
    ) {
        let directory = TemporaryDirectory()
        let spec = writeSpec(in: directory.path, name: name, seconds: 4, width: 64, height: 64, seed: seed)
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: ["--metrics", "127.0.0.1:0"])
        return (directory, spec, cluster, try address(in: cluster))
    }

    @Test func metricsCountARenderAndHealthFollowsTheLoop() throws {
        let (directory, spec, cluster, address) = try Self.meteredCluster("metered", seed: 9)
        defer { cluster.stop() }
        let base = "http://\(address)"
        // Ready once the store is open and the endpoint bound: the loop has turned.
        try waitUntil("the coordinator is ready", timeout: 10) { try Self.get("\(base)/readyz").status == 200 }
        let health = try Self.get("\(base)/healthz")
        #expect(health.status == 200 && health.body.hasPrefix("loop turned"), "\(health)")
        #expect(try Self.get("\(base)/jobs").status == 404, "serves nothing but metrics and health")

        try cluster.startWorker("metered-1")
        let job = try cluster.submit(spec, output: "metered.mp4")
        try cluster.waitFor(job: job) { $0.state == "done" }
        let tasks = try cluster.store().tasks(job: job).count
        let frames = try cluster.client().status(job: job).jobs[0].framesTotal
        // Gauges are refreshed once a second, counters at once: the job may be done before a
        // refresh has seen its last commit.
        try waitUntil("the gauges show the idle worker and no outstanding task", timeout: 5) {
            let body = try Self.get("\(base)/metrics").body
            return Self.sample(body, "reel_workers") == 1 && Self.sample(body, #"reel_tasks{state="outstanding"}"#) == 0
        }
        let metrics = try Self.get("\(base)/metrics")
        #expect(metrics.status == 200)
        let text = metrics.body
        #expect(Self.sample(text, "reel_tasks_committed_total") == Double(tasks), "\(text.prefix(3000))")
        #expect(Self.sample(text, "reel_tasks_dispatched_total").map { $0 >= Double(tasks) } == true)
        #expect(Self.sample(text, "reel_dispatch_latency_seconds_count").map { $0 >= Double(tasks) } == true)
        #expect(Self.sample(text, "reel_commit_latency_seconds_count") == Double(tasks))
        #expect(Self.sample(text, #"reel_jobs_finished_total{state="done"}"#) == 1)
        #expect(Self.sample(text, "reel_frames_encoded_total") == Double(frames))
        #expect(Self.sample(text, "reel_sampler_seconds_total").map { $0 > 0 } == true)
        #expect(Self.sample(text, "reel_committed_bytes_total").map { $0 > 0 } == true)
        // Every metric has HELP and TYPE, and names end in their unit.
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            #expect(text.contains("# HELP \(parts[2]) "), "no HELP for \(parts[2])")
            if parts[3] == "counter" { #expect(parts[2].hasSuffix("_total")) }
        }
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"), "promtool is missing: run scripts/install-deps")
        let path = "\(directory.path)/metrics.txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let lint = try Diffusers.run("/bin/sh", ["-c", "/usr/bin/promtool check metrics < \(path)"])
        #expect(lint.status == 0 && lint.output.isEmpty, "promtool check metrics:\n\(lint.output)")
    }

    /// A free TCP port on loopback (bound, read back, released).
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(socket, $0, length) == 0, getsockname(socket, $0, &length) == 0 else {
                    throw ReelError(.network, "no free port")
                }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func aRealPrometheusScrapesTheCommittedTaskCount() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus"), "prometheus is missing: run scripts/install-deps")
        let (directory, spec, cluster, target) = try Self.meteredCluster("scraped", seed: 13)
        defer { cluster.stop() }
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: reel
                static_configs:
                  - targets: ["\(target)"]
            """
        try config.write(toFile: "\(directory.path)/prometheus.yml", atomically: true, encoding: .utf8)
        let port = try Self.freePort()
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        prometheus.arguments = [
            "--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/tsdb",
            "--web.listen-address=127.0.0.1:\(port)",
        ]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        prometheus.standardOutput = log
        prometheus.standardError = log
        try prometheus.run()
        defer {
            kill(prometheus.processIdentifier, SIGKILL)
            prometheus.waitUntilExit()
        }
        let api = "http://127.0.0.1:\(port)"
        let started = Date()
        try waitUntil("Prometheus is ready", timeout: 20) { (try? Self.get("\(api)/-/ready").status) == 200 }
        let ready = Date().timeIntervalSince(started)

        try cluster.startWorker("scraped-1")
        let job = try cluster.submit(spec, output: "scraped.mp4")
        try cluster.waitFor(job: job) { $0.state == "done" }
        let tasks = try cluster.store().tasks(job: job).count
        // PromQL over Prometheus' HTTP API: the scraped counter equals the job's task count.
        var value: Double?
        try waitUntil("Prometheus has scraped the whole job", timeout: 20) {
            let answer = try Self.get("\(api)/api/v1/query?query=reel_tasks_committed_total")
            let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
            let result = ((json?["data"] as? [String: Any])?["result"] as? [[String: Any]])?.first
            value = (result?["value"] as? [Any])?.last.flatMap { Double("\($0)") }
            return value == Double(tasks)
        }
        let up = try Self.get("\(api)/api/v1/query?query=up").body
        #expect(up.contains(#""value":["#) && up.contains(#","1"]"#), "the target is up: \(up)")
        print(
            "MEASURE Prometheus ready in \(String(format: "%.2f", ready)) s; reel_tasks_committed_total = \(Int(value ?? -1)) of \(tasks) tasks"
        )
    }

    @Test func aQueueDepthGaugeFollowsOutstandingWork() throws {
        let (directory, spec, cluster, address) = try Self.meteredCluster("queued", seed: 11)
        defer { withExtendedLifetime(directory) { cluster.stop() } }
        let base = "http://\(address)"
        let job = try cluster.submit(spec, output: "queued.mp4")
        let tasks = try cluster.store().tasks(job: job).count
        // No worker yet: every task is outstanding, what an autoscaler scales workers on.
        try waitUntil("the queue depth shows the job", timeout: 5) {
            Self.sample(try Self.get("\(base)/metrics").body, #"reel_tasks{state="outstanding"}"#) == Double(tasks)
        }
        let text = try Self.get("\(base)/metrics").body
        #expect(Self.sample(text, #"reel_jobs{state="running"}"#) == 1)
        #expect(Self.sample(text, #"reel_tasks{state="ready"}"#).map { $0 >= 1 } == true)
        #expect(Self.sample(text, "reel_workers") == 0)
        // Ready tasks by stage add up to the ready tasks: a rolling job starts with its keyframe.
        let byStage = ["keyframes", "chunks", "seams", "decode"].compactMap {
            Self.sample(text, #"reel_stage_tasks{stage="\#($0)",state="ready"}"#)
        }
        #expect(byStage.count == 4 && byStage.reduce(0, +) == Self.sample(text, #"reel_tasks{state="ready"}"#), "\(byStage)")
        #expect(Self.sample(text, #"reel_stage_tasks{stage="keyframes",state="ready"}"#) == 1)
        // Dropped messages are counted by reason: a garbled one and a result from a peer that sent no READY.
        let context = ZMQContext()
        let peer = try RawPeer(context, endpoint: cluster.endpoint)
        _ = try peer.socket.send([[0xff, 0x00]], dontWait: false)
        try peer.send(.result(TaskResult(lease: LeaseRef(task: 1, attempt: 1), checksum: 0, sampleMilliseconds: 1, latents: [])))
        try waitUntil("the drops are counted by reason", timeout: 5) {
            let metrics = try Self.get("\(base)/metrics").body
            return Self.sample(metrics, #"reel_dropped_messages_total{reason="malformed"}"#) == 1
                && Self.sample(metrics, #"reel_dropped_messages_total{reason="unknown-peer"}"#) == 1
        }
        peer.socket.close()
        try cluster.startWorker("late")
        try cluster.waitFor(job: job) { $0.state == "done" }
        try waitUntil("the queue drains", timeout: 5) {
            Self.sample(try Self.get("\(base)/metrics").body, #"reel_tasks{state="outstanding"}"#) == 0
        }
    }

    @Test func aBadMetricsAddressIsRefusedByName() throws {
        for address in ["127.0.0.1", "127.0.0.1:70000", ":80", "127.0.0.1:-1"] {
            let run = try ReelBinary.run(["coordinator", "--data", NSTemporaryDirectory() + "reel-never", "--metrics", address])
            #expect(run.status != 0 && run.err.contains("--metrics"), "\(address): \(run.err)")
        }
    }
}
