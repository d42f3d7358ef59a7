import Foundation
import KubeKit
import Testing

@testable import KubeSim

/// `application/vnd.kubernetes.protobuf`, as kubectl's imperative commands send built-in kinds.
@Suite("Protobuf bodies")
struct ProtobufTests {
    let deployment: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": [
            "name": "web", "namespace": "demo", "labels": ["app": "web"], "creationTimestamp": "2026-12-03T10:00:00Z",
            "resourceVersion": "9223372036854775807",
        ],
        "spec": [
            "replicas": 0, "selector": ["matchLabels": ["app": "web"]],
            "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%", "maxUnavailable": 1]],
            "template": [
                "metadata": ["labels": ["app": "web"]],
                "spec": [
                    "containers": [
                        [
                            "name": "web", "image": "nginx:1.27", "args": ["-g", "daemon off;"],
                            "ports": [["containerPort": 8080, "name": "http", "protocol": "TCP"]],
                            "resources": ["limits": ["cpu": "500m", "memory": "1Gi"]],
                            "env": [["name": "MODE", "value": "ünïcode ✓"]],
                        ]
                    ],
                    "securityContext": ["runAsUser": 999, "runAsNonRoot": true],
                ],
            ],
        ],
    ]

    @Test("a Deployment survives JSON → protobuf → JSON unchanged, an explicit replicas: 0 included")
    func deploymentRoundTrips() throws {
        let envelope = try #require(ProtobufEnvelope.encode(deployment))
        #expect(envelope.starts(with: [0x6B, 0x38, 0x73, 0x00]))
        #expect(try ProtobufEnvelope.decode(envelope) == deployment)
    }

    @Test("a Secret's bytes stay base64 in JSON and raw in protobuf; a ConfigMap and a Namespace round-trip")
    func secretsAndConfigMaps() throws {
        let secret: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "src"], "type": "Opaque",
            "data": ["url": .string(Data("postgres://u:p@h/db".utf8).base64EncodedString())],
        ]
        let envelope = try #require(ProtobufEnvelope.encode(secret))
        #expect(envelope.count < 120, "the value travels as raw bytes")
        #expect(try ProtobufEnvelope.decode(envelope) == secret)
        for object: JSONValue in [
            ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "annotations": ["a": "b"]], "data": ["k": "v"]],
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "demo"], "spec": ["finalizers": ["kubernetes"]]],
            ["apiVersion": "v1", "kind": "NamespaceList", "metadata": ["resourceVersion": "5"], "items": [["metadata": ["name": "a"]]]],
        ] {
            #expect(try ProtobufEnvelope.decode(#require(ProtobufEnvelope.encode(object))) == object)
        }
    }

    @Test("custom resources have no protobuf form, as on a real server")
    func customResourcesAreRefused() throws {
        let cluster: JSONValue = ["apiVersion": "apps.vectorblocks.io/v1alpha1", "kind": "Cluster", "metadata": ["name": "c"]]
        #expect(ProtobufEnvelope.encode(cluster) == nil)
        let unknown = ProtobufCodec.shared.encode(
            ["typeMeta": ["apiVersion": "apps.vectorblocks.io/v1alpha1", "kind": "Cluster"], "raw": ""],
            as: "k8s.io.apimachinery.pkg.runtime.Unknown")
        #expect(throws: APIError.self) { try ProtobufEnvelope.decode(ProtobufEnvelope.magic + unknown) }
        #expect(throws: APIError.self) { try ProtobufEnvelope.decode([0x7B, 0x7D]) }
    }

    @Test("Go durations and timestamps as metav1 writes them")
    func durationsAndTimes() {
        #expect(ProtobufCodec.goDuration(nanoseconds: 3_723_000_000_000) == "1h2m3s")
        #expect(ProtobufCodec.goDuration(nanoseconds: 1_500_000_000) == "1.5s")
        #expect(ProtobufCodec.goDuration(nanoseconds: 0) == "0s")
        #expect(ProtobufCodec.parseGoDuration("1h2m3s") == 3_723_000_000_000)
        #expect(ProtobufCodec.timestamp(seconds: 1_796_292_000, nanos: 123_456_000, micro: true) == "2026-12-03T10:00:00.123456Z")
        #expect(ProtobufCodec.parseTimestamp("2026-12-03T10:00:00.123456Z")?.nanos == 123_456_000)
    }
}
