import Foundation
import ReelClient
import ReelCore
import ReelStore
import ReelZMQ
import Testing

/// CURVE authentication end to end, and paths that specs must not escape.
@Suite(.serialized) struct SecurityTests {
    func makeKeys(_ directory: String, _ names: [String]) throws {
        for name in names {
            let result = try ReelBinary.run(["keys", "--name", name, "--out", "\(directory)/keys"])
            #expect(result.status == 0, "\(result.err)")
        }
    }

    /// Attack B: keys have roles. A worker key cannot list jobs; a submitter sees and
    /// controls only its own jobs and cannot pose as a worker; an admin sees everything.
    @Test func aListedKeyRendersAndEachRoleSeesOnlyWhatItMay() throws {
        let directory = TemporaryDirectory()
        let keys = "\(directory.path)/keys"
        try makeKeys(directory.path, ["coordinator", "good", "client", "other", "boss", "rogue"])
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(keys)/good.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600, "secret keys are private")
        var arguments = ["--curve-secret", "\(keys)/coordinator.key"]
        for (role, names) in [("worker", ["good"]), ("submitter", ["client", "other"]), ("admin", ["boss"])] {
            let folder = "\(directory.path)/allowed-\(role)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for name in names { try FileManager.default.copyItem(atPath: "\(keys)/\(name).pub", toPath: "\(folder)/\(name).pub") }
            arguments += ["--allow-\(role)", folder]
        }
        let cluster = try TestCluster(data: "\(directory.path)/data", coordinatorArguments: arguments)
        defer { cluster.stop() }
        let curve = { (name: String) in ["--curve-key", "\(keys)/\(name).key", "--server-key", "\(keys)/coordinator.pub"] }
        let keyed = { (name: String) in
            try CoordinatorClient(
                endpoint: cluster.endpoint, curve: (try KeyFiles.keyPair("\(keys)/\(name).key"), try KeyFiles.publicKey("\(keys)/coordinator.pub")))
        }
        try cluster.startWorker("posing-worker", arguments: curve("client"))
        // At debug level, so that a task it sampled would show in its log.
        try cluster.startWorker("rogue-worker", arguments: curve("rogue") + ["--log-level", "debug"])
        try cluster.startWorker("plain-worker")
        try cluster.startWorker("good-worker", arguments: curve("good") + ["--log-level", "debug"])
        var spec = try SpecLoaderForTests.load(writeSpec(in: directory.path, name: "secure", seconds: 2))
        spec.output = "\(cluster.outputRoot)/secure.mp4"

        // A client without keys gets no answer at all.
        let stranger = try cluster.client(timeout: 1)
        let refusal = #expect(throws: ReelError.self) { try stranger.status() }
        #expect(refusal?.message.contains("no answer from the coordinator") == true, "\(String(describing: refusal))")

        let client = try keyed("client")
        let job = try client.submit(spec)
        try waitUntil("the job is done") { try client.status(job: job).jobs[0].state == "done" }
        let report = try keyed("boss").status()
        #expect(Array(report.workers.keys) == ["good/good-worker"], "only the worker key joined, named by its key: \(report.workers)")
        #expect(report.jobs.map(\.id) == [job], "an admin sees every job")
        #expect(try client.status().jobs.map(\.id) == [job] && (try client.status().workers.isEmpty), "a submitter sees its jobs, not the workers")
        #expect(try cluster.store().job(job)?.owner == "client")
        let other = try keyed("other")
        #expect(try other.status().jobs.isEmpty, "another submitter's jobs are not listed")
        let hidden = #expect(throws: ReelError.self) { try other.control(job: job, .cancel) }
        #expect(hidden?.code == .notFound, "another submitter's job cannot be controlled: \(String(describing: hidden))")
        let forbidden = #expect(throws: ReelError.self) { try keyed("good").status() }
        #expect(forbidden?.code == .forbidden && forbidden?.message.contains("is a worker key") == true, "\(String(describing: forbidden))")
        #expect(cluster.log("coordinator.log").contains("from client, a submitter key"), "a submitter key cannot pose as a worker")
        let tasks = try cluster.store().tasks(job: job)
        #expect(tasks.allSatisfy { $0.worker == "good/good-worker" }, "task ownership is bound to the authenticated key")
        #expect(cluster.log("coordinator.log").contains("refused an unknown CURVE key"))
        #expect(cluster.log("good-worker.log").contains("sampled"), "at debug level a worker logs each task it sampled")
        #expect(!cluster.log("rogue-worker.log").contains("sampled"))
    }

    @Test func bindingBeyondLoopbackWithoutCurveIsRefused() throws {
        let directory = TemporaryDirectory()
        let result = try ReelBinary.run(["coordinator", "--data", "\(directory.path)/data", "--bind", "tcp://0.0.0.0:*"], timeout: 20)
        #expect(result.status != 0)
        #expect(result.err.contains("refusing to bind tcp://0.0.0.0:* without authentication"), "\(result.err)")
    }

    @Test func specOutputsCannotEscapeTheOutputRoot() throws {
        let directory = TemporaryDirectory()
        let cluster = try TestCluster(data: "\(directory.path)/data")
        defer { cluster.stop() }
        let root = cluster.outputRoot
        try FileManager.default.createSymbolicLink(atPath: "\(root)/escape", withDestinationPath: "/tmp")
        var spec = try SpecLoaderForTests.load(writeSpec(in: directory.path, name: "escape", seconds: 1))
        for (path, allowed) in [
            ("\(root)/ok/out.mp4", true), ("/etc/reel-escape.mp4", false), ("\(root)/../outside.mp4", false),
            ("\(root)/escape/through-link.mp4", false),
        ] {
            spec.output = path
            do {
                _ = try cluster.client().submit(spec)
                #expect(allowed, "\(path) was accepted")
            } catch let error as ReelError {
                #expect(!allowed, "\(path) was refused: \(error)")
                #expect(
                    error.code == .invalidSpec && error.message.contains("field 'output': must be inside the coordinator's output root"))
            }
        }
        spec.output = "\(root)/fine.mp4"
        spec.pngDirectory = "\(root)/../frames"
        let png = #expect(throws: ReelError.self) { try cluster.client().submit(spec) }
        #expect(png?.code == .invalidSpec && png?.message.contains("field 'png_dir': must be inside") == true, "\(String(describing: png))")
    }
}
