import Foundation
import KubeKit
import KubeSim
import Testing

@Suite struct ServiceAndVolumeTests {
    func service(_ name: String, selector: [String: String], type: String = "ClusterIP", headless: Bool = false, publishNotReady: Bool = false) -> JSONValue {
        var spec: [String: JSONValue] = [
            "type": .string(type), "selector": .object(selector.mapValues(JSONValue.string)),
            "ports": [["name": "http", "port": 80, "targetPort": "http"]],
        ]
        if headless { spec["clusterIP"] = "None" }
        if publishNotReady { spec["publishNotReadyAddresses"] = true }
        return ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    @Test func endpointsFollowPodReadiness() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, client in
            try await client.post(servicesPath, service("vec", selector: ["app": "vec"]))
            try await client.post(servicesPath, service("vec-headless", selector: ["app": "vec"], headless: true, publishNotReady: true))
            try await client.post(statefulSetsPath, statefulSet("vec", replicas: 2))
            try await eventually("2 ready") { try await client.get("\(statefulSetsPath)/vec").body["status"]?["readyReplicas"] == 2 ? true : nil }
            let endpoints = try await eventually("two addresses") { () -> JSONValue? in
                let object = try await client.get("/api/v1/namespaces/default/endpoints/vec").body
                return object["subsets"]?[0]?["addresses"]?.arrayValue?.count == 2 ? object : nil
            }
            let subset = try #require(endpoints["subsets"]?[0])
            // The named target port resolves to the container's port.
            #expect(subset["ports"] == [["name": "http", "port": 6333, "protocol": "TCP"]])
            let podIPs = Set(try await client.items(podsPath).compactMap { $0["status"]?["podIP"]?.stringValue })
            #expect(Set(subset["addresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } ?? []) == podIPs)
            #expect(subset["addresses"]?[0]?["targetRef"]?["kind"] == "Pod")
            #expect(subset["addresses"]?[0]?["hostname"] == nil)  // subdomain is vec-headless, not vec

            try await server.setPodReady(false, "vec-1")
            let split = try await eventually("vec-1 not ready") { () -> JSONValue? in
                let object = try await client.get("/api/v1/namespaces/default/endpoints/vec").body
                return object["subsets"]?[0]?["notReadyAddresses"]?.arrayValue?.count == 1 ? object : nil
            }
            #expect(split["subsets"]?[0]?["addresses"]?.arrayValue?.map { $0["targetRef"]?["name"] } == ["vec-0"])
            #expect(split["subsets"]?[0]?["notReadyAddresses"]?[0]?["targetRef"]?["name"] == "vec-1")
            // publishNotReadyAddresses: peers find each other before they are ready, by hostname.
            let headless = try await eventually("headless endpoints") { () -> JSONValue? in
                let object = try await client.get("/api/v1/namespaces/default/endpoints/vec-headless").body
                return object["subsets"]?[0]?["addresses"]?.arrayValue?.count == 2 ? object : nil
            }
            #expect(headless["subsets"]?[0]?["notReadyAddresses"] == nil)
            #expect(Set(headless["subsets"]?[0]?["addresses"]?.arrayValue?.compactMap { $0["hostname"]?.stringValue } ?? []) == ["vec-0", "vec-1"])

            try await client.delete("\(servicesPath)/vec")
            try await eventually("endpoints removed with the service") {
                try await client.get("/api/v1/namespaces/default/endpoints/vec").status == 404 ? true : nil
            }
        }
    }

    /// Endpoints follow a pod whose labels stop matching, a Service whose selector changes, and come back when deleted.
    @Test func endpointsFollowLabelsAndSelectors() async throws {
        try await withServer(configuration: simulatedWorkloads()) { _, client in
            try await client.post(servicesPath, service("vec", selector: ["app": "vec"]))
            try await client.post(statefulSetsPath, statefulSet("vec", replicas: 2))
            let addresses = { () async throws -> [String] in
                let object = try await client.get("/api/v1/namespaces/default/endpoints/vec").body
                return (object["subsets"]?[0]?["addresses"]?.arrayValue ?? []).compactMap { $0["targetRef"]?["name"]?.stringValue }.sorted()
            }
            try await eventually("both pods listed") { try await addresses() == ["vec-0", "vec-1"] ? true : nil }

            try await client.mergePatch("\(podsPath)/vec-1", ["metadata": ["labels": ["role": "standby"]]])
            try await client.mergePatch("\(servicesPath)/vec", ["spec": ["selector": ["role": "standby"]]])
            try await eventually("only the relabelled pod listed") { try await addresses() == ["vec-1"] ? true : nil }

            try await client.mergePatch("\(podsPath)/vec-1", ["metadata": ["labels": ["role": "leader"]]])
            try await eventually("a pod that stops matching leaves") { try await addresses() == [] ? true : nil }

            try await client.mergePatch("\(podsPath)/vec-0", ["metadata": ["labels": ["role": "standby"]]])
            try await eventually("a pod that starts matching joins") { try await addresses() == ["vec-0"] ? true : nil }

            try await client.delete("/api/v1/namespaces/default/endpoints/vec")
            try await eventually("deleted endpoints come back") { try await addresses() == ["vec-0"] ? true : nil }
        }
    }

    @Test func loadBalancerGetsAHostname() async throws {
        try await withServer(configuration: simulatedWorkloads()) { _, client in
            let created = try await client.post(servicesPath, service("public", selector: ["app": "x"], type: "LoadBalancer"))
            #expect(created.body["status"]?["loadBalancer"]?["ingress"] == nil)
            #expect(created.body["spec"]?["ports"]?[0]?["nodePort"] != nil)
            let hostname = try await eventually("ingress") {
                try await client.get("\(servicesPath)/public").body["status"]?["loadBalancer"]?["ingress"]?[0]?["hostname"]?.stringValue
            }
            #expect(hostname.range(of: #"^public-[a-z0-9]+\.elb\.sim\.local$"#, options: .regularExpression) != nil, "\(hostname)")
            let plain = try await client.post(servicesPath, service("internal", selector: ["app": "x"]))
            #expect(plain.status == 201)

            try await client.mergePatch("\(servicesPath)/public", ["spec": ["type": "ClusterIP"]])
            try await eventually("ingress removed") {
                try await client.get("\(servicesPath)/public").body["status"]?["loadBalancer"]?["ingress"] == nil ? true : nil
            }
            #expect(try await client.get("\(servicesPath)/internal").body["status"]?["loadBalancer"]?["ingress"] == nil)
        }
    }

    @Test func claimsBindGrowAndRefuseToShrink() async throws {
        try await withServer(configuration: simulatedWorkloads()) { _, client in
            let claim: JSONValue = [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "vol"],
                "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "10Gi"]]],
            ]
            try await client.post(claimsPath, claim)
            let bound = try await eventually("bound") { () -> JSONValue? in
                let object = try await client.get("\(claimsPath)/vol").body
                return object["status"]?["phase"] == "Bound" ? object : nil
            }
            #expect(bound["status"]?["capacity"]?["storage"] == "10Gi")
            #expect(bound["status"]?["accessModes"] == ["ReadWriteOnce"])

            let grown = try await client.mergePatch("\(claimsPath)/vol", ["spec": ["resources": ["requests": ["storage": "20Gi"]]]])
            #expect(grown.status == 200)
            try await eventually("capacity follows") {
                try await client.get("\(claimsPath)/vol").body["status"]?["capacity"]?["storage"] == "20Gi" ? true : nil
            }

            let shrunk = try await client.mergePatch("\(claimsPath)/vol", ["spec": ["resources": ["requests": ["storage": "15Gi"]]]])
            #expect(shrunk.status == 422)
            #expect(shrunk.reason == "Invalid")
            #expect(
                shrunk.body["message"]
                    == "PersistentVolumeClaim \"vol\" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than status.capacity")
            #expect(shrunk.body["details"]?["causes"]?[0]?["field"] == "spec.resources.requests.storage")
            // The same size written another way (20480Mi == 20Gi) is not a shrink.
            let same = try await client.mergePatch("\(claimsPath)/vol", ["spec": ["resources": ["requests": ["storage": "20480Mi"]]]])
            #expect(same.status == 200)
        }
    }
}
