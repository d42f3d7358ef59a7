import Foundation
import KubeKit
import Testing
import X509

@testable import KubeSim

/// What a pod is given to reach the API server, built without a host to run pods on.
@Suite struct InClusterAccessUnitTests {
    @Test func theKubernetesServiceAndTheVariablesTheKubeletWrites() {
        let apiServer = APIServerService(clusterIP: "10.104.7.1", advertiseAddress: "10.100.7.1")
        let environment = Dictionary(uniqueKeysWithValues: apiServer.environment)
        #expect(environment["KUBERNETES_SERVICE_HOST"] == "10.104.7.1")
        #expect(environment["KUBERNETES_SERVICE_PORT"] == "443")
        #expect(environment["KUBERNETES_SERVICE_PORT_HTTPS"] == "443")
        #expect(environment["KUBERNETES_PORT"] == "tcp://10.104.7.1:443")
        #expect(environment["KUBERNETES_PORT_443_TCP_ADDR"] == "10.104.7.1")
        let service = apiServer.service
        #expect(service["metadata"]?["name"] == "kubernetes" && service["metadata"]?["namespace"] == "default")
        #expect(service["spec"]?["clusterIP"] == "10.104.7.1")
        #expect(service["spec"]?["selector"] == nil, "its endpoints are the API server's, not pods'")
        let endpoints = apiServer.endpoints(port: 43117)
        #expect(endpoints["subsets"]?[0]?["addresses"]?[0]?["ip"] == "10.100.7.1")
        #expect(endpoints["subsets"]?[0]?["ports"]?[0]?["port"] == 43117)
        #expect(endpoints["subsets"]?[0]?["ports"]?[0]?["name"] == service["spec"]?["ports"]?[0]?["name"])
    }

    @Test func theServingCertificateNamesTheServiceAddressAndNames() throws {
        let apiServer = APIServerService(clusterIP: "10.104.7.1", advertiseAddress: "10.100.7.1")
        let identity = try TLSIdentity.selfSigned(host: "127.0.0.1", alternativeNames: apiServer.certificateNames)
        let certificate = try Certificate(pemEncoded: identity.certificatePEM)
        let names = try #require(try certificate.extensions.subjectAlternativeNames)
        let dns = names.compactMap { name -> String? in if case .dnsName(let text) = name { text } else { nil } }
        let ips = names.compactMap { name -> [UInt8]? in if case .ipAddress(let octets) = name { Array(octets.bytes) } else { nil } }
        #expect(Set(dns).isSuperset(of: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]))
        #expect(Set(ips) == [[127, 0, 0, 1], [10, 104, 7, 1], [10, 100, 7, 1]])
    }

    @Test func admissionMountsTheServiceAccountTokenWhereNothingIsMounted() {
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "team"],
            "spec": [
                "initContainers": [["name": "init", "image": "x"]],
                "containers": [
                    ["name": "main", "image": "x"],
                    ["name": "own", "image": "x", "volumeMounts": [["name": "mine", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"]]],
                ],
                "volumes": [["name": "mine", "emptyDir": [:]]],
            ],
        ]
        var admitted = pod
        ServiceAccountAdmission.apply(to: &admitted, account: nil, suffix: "abcde")
        #expect(admitted["spec"]?["serviceAccountName"] == "default")
        let volumes = admitted["spec"]?["volumes"]?.arrayValue ?? []
        #expect(volumes.map { $0["name"]?.stringValue } == ["mine", "kube-api-access-abcde"])
        let sources = volumes.last?["projected"]?["sources"]?.arrayValue ?? []
        #expect(sources.first?["serviceAccountToken"]?["path"] == "token")
        #expect(sources.dropFirst().first?["configMap"]?["name"] == "kube-root-ca.crt")
        #expect(sources.last?["downwardAPI"]?["items"]?[0]?["fieldRef"]?["fieldPath"] == "metadata.namespace")
        let mountOf = { (field: String, index: Int) in admitted["spec"]?[field]?[index]?["volumeMounts"]?.arrayValue?.map { $0["name"]?.stringValue ?? "" } }
        #expect(mountOf("initContainers", 0) == ["kube-api-access-abcde"])
        #expect(mountOf("containers", 0) == ["kube-api-access-abcde"])
        #expect(mountOf("containers", 1) == ["mine"], "a container with its own mount there keeps it")
        #expect(admitted["spec"]?["containers"]?[0]?["volumeMounts"]?[0]?["readOnly"] == true)

        var optedOut = pod
        optedOut["spec"]?["automountServiceAccountToken"] = false
        ServiceAccountAdmission.apply(to: &optedOut, account: nil, suffix: "abcde")
        #expect(optedOut["spec"]?["volumes"]?.arrayValue?.count == 1)
        var accountOptedOut = pod
        ServiceAccountAdmission.apply(to: &accountOptedOut, account: ["automountServiceAccountToken": false], suffix: "abcde")
        #expect(accountOptedOut["spec"]?["volumes"]?.arrayValue?.count == 1)
    }
}
