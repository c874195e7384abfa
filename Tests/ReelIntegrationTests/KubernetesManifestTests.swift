import Foundation
import Testing

/// Deploy/kubernetes, rendered by kustomize and checked offline against Kubernetes' own
/// schemas (`kubernetes-validate --strict`: an unknown field fails), then read back for what
/// the farm needs of it: one coordinator with its own volume and probes on its real endpoints,
/// workers that can drain, GPUs where asked for, an autoscaler on a metric that exists.
@Suite struct KubernetesManifestTests {
    static let overlays = ["cpu", "gpu"]
    static let root = "\(Diffusers.repository)/Deploy/kubernetes"
    static let validator = "\(Diffusers.repository)/.venv-ops/bin/kubernetes-validate"
    static var kubectl: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl")
            ? "/usr/bin/kubectl" : "\(Diffusers.repository)/.venv-ops/bin/kubectl"
    }

    /// The overlay's objects as JSON dictionaries (YAML read by the validator's own PyYAML).
    static func objects(_ overlay: String) throws -> [[String: Any]] {
        let python = "\(Diffusers.repository)/.venv-ops/bin/python"
        let script = "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))"
        let json = try Diffusers.run(
            "/bin/bash", ["-c", "set -o pipefail; \(kubectl) kustomize '\(root)/overlays/\(overlay)' | '\(python)' -c '\(script)'"])
        try #require(json.status == 0, "kubectl kustomize \(overlay), read as YAML: \(json.output)")
        return try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
    }

    static func object(_ objects: [[String: Any]], kind: String, name: String) throws -> [String: Any] {
        try #require(objects.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name })
    }

    @Test(arguments: overlays)
    func everyOverlayValidatesStrictlyAgainstKubernetesSchemas(overlay: String) throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.validator), "kubernetes-validate is missing: run scripts/install-deps")
        let check = try Diffusers.run(
            "/bin/bash",
            ["-c", "set -o pipefail; \(Self.kubectl) kustomize '\(Self.root)/overlays/\(overlay)' | '\(Self.validator)' --strict -"])
        #expect(check.status == 0, "\(check.output)")
        #expect(!check.output.contains("ERROR") && !check.output.contains("WARN"), "\(check.output)")
        #expect(check.output.contains("passed for resource statefulset/reel-coordinator"))
    }

    @Test(arguments: overlays)
    func theCoordinatorIsOneReplicaWithItsOwnVolumeAndProbesOnRealEndpoints(overlay: String) throws {
        let objects = try Self.objects(overlay)
        let coordinator = try Self.object(objects, kind: "StatefulSet", name: "reel-coordinator")
        let spec = try #require(coordinator["spec"] as? [String: Any])
        #expect(spec["replicas"] as? Int == 1)
        let claims = try #require(spec["volumeClaimTemplates"] as? [[String: Any]])
        #expect((claims.first?["spec"] as? [String: Any])?["accessModes"] as? [String] == ["ReadWriteOnce"])
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let arguments = try #require(container["args"] as? [String])
        #expect(arguments.contains("--data=/var/lib/reel"))
        #expect(((container["volumeMounts"] as? [[String: Any]]) ?? []).contains { $0["mountPath"] as? String == "/var/lib/reel" })
        // The probes ask the paths the metrics listener serves, on the port it is told to bind.
        let metricsPort = try #require(arguments.first { $0.hasPrefix("--metrics=") }?.split(separator: ":").last.flatMap { Int($0) })
        let ports = (container["ports"] as? [[String: Any]]) ?? []
        #expect(ports.contains { $0["name"] as? String == "metrics" && $0["containerPort"] as? Int == metricsPort })
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/readyz")] {
            let get = (container[probe] as? [String: Any])?["httpGet"] as? [String: Any]
            #expect(get?["path"] as? String == path && get?["port"] as? String == "metrics", "\(probe)")
        }
        // The CURVE key comes from a Secret.
        let volumes = (pod["volumes"] as? [[String: Any]]) ?? []
        #expect(volumes.contains { ($0["secret"] as? [String: Any])?["secretName"] as? String == "reel-coordinator-key" })
        #expect(container["resources"].map { ($0 as? [String: Any])?["limits"] != nil } == true)
    }

    @Test(arguments: overlays)
    func workersDrainWithinTheirGracePeriodAndScaleOnTheQueueDepth(overlay: String) throws {
        let objects = try Self.objects(overlay)
        let worker = try Self.object(objects, kind: "Deployment", name: "reel-worker")
        let pod = try #require(((worker["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let arguments = try #require(container["args"] as? [String])
        let drain = try #require(
            arguments.first { $0.hasPrefix("--drain-seconds=") }.flatMap { Int($0.dropFirst("--drain-seconds=".count)) })
        let grace = try #require(pod["terminationGracePeriodSeconds"] as? Int)
        #expect(grace > drain + 30, "a chunk's time plus the drain must fit in the grace period")
        #expect(arguments.contains("--connect=tcp://reel-coordinator:5555"))
        _ = try Self.object(objects, kind: "Service", name: "reel-coordinator")
        _ = try Self.object(objects, kind: "PodDisruptionBudget", name: "reel-worker")
        // The autoscaler's metric is the adapter's name for a series the coordinator exports.
        let autoscaler = try Self.object(objects, kind: "HorizontalPodAutoscaler", name: "reel-worker")
        let metric =
            ((((autoscaler["spec"] as? [String: Any])?["metrics"] as? [[String: Any]])?.first?["external"] as? [String: Any])?["metric"]
            as? [String: Any])?["name"] as? String
        let rules = try String(contentsOfFile: "\(Self.root)/prometheus-adapter-rules.yaml", encoding: .utf8)
        #expect(metric == "reel_tasks_outstanding" && rules.contains("as: \(metric ?? "?")"))
        #expect(rules.contains(#"reel_tasks{state="outstanding"}"#))
        let exported = try String(
            contentsOfFile: "\(Diffusers.repository)/Sources/ReelCoordinator/PrometheusMetrics.swift", encoding: .utf8)
        #expect(exported.contains(#""tasks", """#) && exported.contains(#"for state in ["ready", "leased", "outstanding"]"#))
        if overlay == "gpu" {
            let limits = (container["resources"] as? [String: Any])?["limits"] as? [String: Any]
            #expect(limits?["nvidia.com/gpu"] as? String == "1")
            #expect((pod["nodeSelector"] as? [String: Any])?["nvidia.com/gpu.present"] as? String == "true")
            #expect(((pod["tolerations"] as? [[String: Any]]) ?? []).contains { $0["key"] as? String == "nvidia.com/gpu" })
            #expect(arguments.contains("--backend=diffusers"))
        }
    }

    @Test(arguments: overlays)
    func everyOptionThePodsPassExists(overlay: String) throws {
        for object in try Self.objects(overlay) where ["StatefulSet", "Deployment"].contains(object["kind"] as? String) {
            let pod = ((object["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
            for container in (pod?["containers"] as? [[String: Any]]) ?? [] {
                let arguments = (container["args"] as? [String]) ?? []
                let subcommand = try #require(arguments.first)
                let help = try ReelBinary.run([subcommand, "--help"]).out
                for option in arguments.dropFirst() {
                    let name = String(option.prefix { $0 != "=" })
                    #expect(help.contains(name + " "), "reel \(subcommand) has no \(name)")
                }
            }
        }
    }
}
