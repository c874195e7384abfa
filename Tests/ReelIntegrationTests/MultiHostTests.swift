import Foundation
import ReelCore
import ReelStore
import Testing

/// Coordinator and workers on separate hosts (network namespaces joined by veth pairs and a
/// bridge), talking CURVE over the real network stack, not loopback.
@Suite(.serialized) struct MultiHostTests {
    /// Runs `reel arguments` inside a host's namespace and returns its standard output.
    func reel(on host: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", host, ReelBinary.path] + arguments
        let out = Pipe(), errors = Pipe()
        process.standardOutput = out
        process.standardError = errors
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ReelError(.usage, "reel \(arguments.first ?? "") on \(host) failed: \(message)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func waitUntil(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws -> Double {
        let started = Date()
        while try !condition() {
            guard Date().timeIntervalSince(started) < timeout else { throw ReelError(.network, "timed out waiting until \(what)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return Date().timeIntervalSince(started)
    }

    @Test(.enabled(if: NetworkNamespaces.shouldRun, "needs root and iproute2 (ip netns); as root it fails instead of skipping unless REEL_SKIP_MULTIHOST=1"))
    func workersOnOtherHostsRenderWhileAHostJoinsAndAnotherIsCutOff() throws {
        try #require(NetworkNamespaces.available, "running as root but `ip netns add` fails: install iproute2, or set REEL_SKIP_MULTIHOST=1")
        let network = try NetworkNamespaces(count: 4)
        defer { network.release() }
        let directory = TemporaryDirectory()
        let keys = "\(directory.path)/keys", allowed = "\(directory.path)/allowed"
        try FileManager.default.createDirectory(atPath: allowed, withIntermediateDirectories: true)
        for name in ["coordinator", "worker", "client"] {
            #expect(try ReelBinary.run(["keys", "--name", name, "--out", keys]).status == 0)
        }
        for name in ["worker", "client"] {
            try FileManager.default.copyItem(atPath: "\(keys)/\(name).pub", toPath: "\(allowed)/\(name).pub")
        }
        let cluster = try TestCluster(
            data: "\(directory.path)/data", coordinatorArguments: [
                "--curve-secret", "\(keys)/coordinator.key", "--allow-worker", "\(allowed)/worker.pub", "--allow-admin", "\(allowed)/client.pub",
            ],
            bind: "tcp://\(network.address(of: 0)):*", host: network.hosts[0])
        defer { cluster.stop() }
        #expect(cluster.endpoint.hasPrefix("tcp://\(network.address(of: 0)):"), "bound on the host network, not loopback")
        let curve = ["--curve-key", "\(keys)/worker.key", "--server-key", "\(keys)/coordinator.pub"]
        for index in [1, 2] { try cluster.startWorker("host\(index)", arguments: curve, host: network.hosts[index]) }

        let specPath = writeSpec(
            in: directory.path, name: "hosts", seconds: 8, fps: 24, width: 64, height: 64, extra: "backend = \"simulated\"\nstep_ms = 60")
        let job = try Int64(
            reel(
                on: network.hosts[0],
                [
                    "submit", specPath, "--out", "\(directory.path)/hosts.mp4", "--coordinator", cluster.endpoint, "--curve-key",
                    "\(keys)/client.key", "--server-key", "\(keys)/coordinator.pub",
                ]))!
        let store = try cluster.store()
        func leasedTo(_ worker: String) throws -> [TaskRecord] {
            try store.tasks(job: job).filter { $0.state == .leased && $0.worker?.hasSuffix("/\(worker)") == true }
        }
        _ = try waitUntil("3 tasks are committed", timeout: 60) { try store.taskCounts(job: job)[.done] ?? 0 >= 3 }

        // A third host joins mid-render and takes work at once.
        try cluster.startWorker("host3", arguments: curve, host: network.hosts[3])
        let joinedAfter = try waitUntil("host3 gets a task", timeout: 10) {
            try store.events(job: job).contains { $0.kind == "task-leased" && $0.detail.hasSuffix("/host3") }
        }
        #expect(joinedAfter < 5, "host3 took its first task \(joinedAfter) s after it started")

        // Host 1 is cut off while it holds a task: the task moves elsewhere.
        _ = try waitUntil("host1 holds a lease", timeout: 30) { try !leasedTo("host1").isEmpty }
        let cutAt = try store.events(job: job).last!.id!
        try network.cut(1)
        // A result already on the wire when the link went down still lands: the stranded
        // tasks are those host1 holds once nothing more can arrive from it.
        Thread.sleep(forTimeInterval: 0.5)
        let stranded = try leasedTo("host1").map(\.id!)
        #expect(!stranded.isEmpty, "host1 held a task (it runs one and has one queued) when it was cut off")
        _ = try waitUntil("the job is done", timeout: 180) { try store.job(job)?.state == .done }

        let events = try store.events(job: job)
        for id in stranded {
            // Re-leased elsewhere: as a straggler's backup, or after host1's leases were requeued.
            #expect(
                events.contains { $0.taskId == id && $0.kind == "task-leased" && !$0.detail.hasSuffix("/host1") && $0.id! > cutAt },
                "task \(id) was leased to another host after the cut")
        }
        let tasks = try store.tasks(job: job)
        for id in stranded {
            let task = tasks.first { $0.id == id }!
            #expect(task.state == .done && task.worker?.hasSuffix("/host1") == false, "task \(id) was finished by another host")
        }
        #expect(try store.commitCounts(job: job).values.allSatisfy { $0 == 1 }, "every task committed exactly once")
        #expect(tasks.contains { $0.worker?.hasSuffix("/host3") == true }, "the new host committed work")

        var spec = try SpecLoaderForTests.load(specPath)
        spec.stepMilliseconds = 0
        spec.output = "/unused.mp4"
        let reference = try Reference.run(spec).outcome
        let record = try #require(try store.job(job))
        #expect(record.latentChecksum == Checksum.hex(reference.latentChecksum), "byte-identical to an undisturbed render")
        #expect(record.frameChecksum == Checksum.hex(reference.frameChecksum))
        #expect(try probe("\(directory.path)/hosts.mp4")["nb_read_frames"] == "192")
    }
}
