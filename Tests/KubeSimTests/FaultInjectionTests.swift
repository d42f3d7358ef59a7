import AsyncHTTPClient
import Foundation
import KubeKit
import KubeSim
import Testing

@Suite struct FaultInjectionTests {
    /// The status codes of `count` GETs of one ConfigMap, in order.
    func codes(_ client: TestClient, count: Int) async throws -> [Int] {
        var codes: [Int] = []
        for _ in 0..<count { codes.append(try await client.get("/api/v1/namespaces/default/configmaps/target").status) }
        return codes
    }

    @Test func errorRatesAreObservedAndReproducible() async throws {
        try await withServer { server, client in
            try await client.post("/api/v1/namespaces/default/configmaps", configMap("target"))
            let faults = FaultInjection(errorRates: ["get": .init(internalError: 0.2, tooManyRequests: 0.1, conflict: 0.5)], seed: 42)
            try await server.setFaults(faults)
            let first = try await codes(client, count: 400)
            let errors = first.filter { $0 == 500 }.count
            let throttled = first.filter { $0 == 429 }.count
            // Binomial(400, 0.2) and (400, 0.1): these bounds are more than five standard deviations wide.
            #expect((40...120).contains(errors), "\(errors) internal errors")
            #expect((15...65).contains(throttled), "\(throttled) throttled")
            #expect(first.allSatisfy { [200, 500, 429].contains($0) }, "reads never conflict")

            try await server.setFaults(faults)
            #expect(try await codes(client, count: 400) == first, "the same seed gives the same faults")

            let throttledResponse = try await eventually("a 429") { () -> TestResponse? in
                let response = try await client.get("/api/v1/namespaces/default/configmaps/target")
                return response.status == 429 ? response : nil
            }
            #expect(throttledResponse.reason == "TooManyRequests")
            #expect(throttledResponse.body["details"]?["retryAfterSeconds"] == 1)
            let failure = try await eventually("a 500") { () -> TestResponse? in
                let response = try await client.get("/api/v1/namespaces/default/configmaps/target")
                return response.status == 500 ? response : nil
            }
            #expect(failure.reason == "InternalError")
            #expect(failure.body["kind"] == "Status")

            // Discovery is never faulted; other verbs have no rates of their own.
            #expect(try await client.get("/version").status == 200)
            #expect(try await client.get("/api/v1/namespaces/default/configmaps").status == 200)
            let counts = await server.requestCounts()
            #expect(counts[RequestKey(verb: "get", resource: "configmaps")] ?? 0 >= 800)

            // Latency alone delays requests but fails none.
            try await server.setFaults(FaultInjection(latency: .milliseconds(5)))
            #expect(try await codes(client, count: 20).allSatisfy { $0 == 200 })
            #expect(await server.faults().latency == .milliseconds(5))
        }
    }

    @Test func retryAfterHeaderAndConflictsOnWrites() async throws {
        var configuration = KubeSimConfiguration()
        configuration.faults = FaultInjection(errorRates: ["*": .init(conflict: 1)], retryAfterSeconds: 3, seed: 7)
        try await withServer(configuration: configuration) { server, client in
            #expect(try await client.post("/api/v1/namespaces/default/configmaps", configMap("c")).status == 201)
            let patched = try await client.mergePatch("/api/v1/namespaces/default/configmaps/c", ["data": ["k": "2"]])
            #expect(patched.status == 409)
            #expect(patched.reason == "Conflict")
            #expect(patched.body["message"]?.stringValue?.contains("the object has been modified") == true)
            #expect(try await client.get("/api/v1/namespaces/default/configmaps/c").body["data"]?["k"] == "v", "a faulted write changes nothing")

            try await server.setFaults(FaultInjection(errorRates: ["list": .init(tooManyRequests: 1)], retryAfterSeconds: 3))
            var request = HTTPClientRequest(url: server.baseURL + "/api/v1/namespaces/default/configmaps")
            request.method = .GET
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status.code == 429)
            #expect(response.headers.first(name: "Retry-After") == "3")
            _ = try await response.body.collect(upTo: 1 << 20)

            await #expect(throws: KubeSimError.invalidFaults("errorRates[get].internalError is 1.5: use a probability from 0 to 1")) {
                try await server.setFaults(FaultInjection(errorRates: ["get": .init(internalError: 1.5)]))
            }
        }
        var invalid = KubeSimConfiguration()
        invalid.faults.watchDropRate = -1
        await #expect(throws: KubeSimError.self) { _ = try await KubeSimServer.start(configuration: invalid) }
    }

    @Test func watchesAreDroppedAtRandom() async throws {
        try await withServer { server, client in
            for index in 0..<30 { try await client.post("/api/v1/namespaces/default/configmaps", configMap("cm\(index)")) }
            let path = "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5"
            try await server.setFaults(FaultInjection(watchDropRate: 1, seed: 1))
            #expect(try await client.watch(path, count: 100).count == 1, "the stream ends after its first event")

            try await server.setFaults(FaultInjection(watchDropRate: 0.2, seed: 99))
            var lengths: [Int] = []
            for _ in 0..<20 { lengths.append(try await client.watch(path, count: 100).count) }
            // Geometric with p = 0.2 capped at 30: mean near 5; all 20 streams reaching 30 events has chance 1e-58.
            #expect(lengths.allSatisfy { (1...30).contains($0) })
            #expect(lengths.filter { $0 < 30 }.count >= 15, "\(lengths)")
            try await server.setFaults(FaultInjection(watchDropRate: 0.2, seed: 99))
            var again: [Int] = []
            for _ in 0..<20 { again.append(try await client.watch(path, count: 100).count) }
            #expect(again == lengths, "the same seed drops the same watches at the same events")

            try await server.setFaults(.none)
            #expect(try await client.watch("/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2", count: 100).count == 30)
        }
    }

    @Test func controllersAreNotFaulted() async throws {
        try await withServer(configuration: simulatedWorkloads()) { server, client in
            try await client.post(statefulSetsPath, statefulSet("calm", replicas: 3))
            try await server.setFaults(
                FaultInjection(errorRates: ["create": .init(internalError: 1), "update": .init(internalError: 1), "patch": .init(internalError: 1)], seed: 3))
            #expect(try await client.mergePatch("\(statefulSetsPath)/calm", ["metadata": ["labels": ["x": "y"]]]).status == 500)
            try await eventually("3 ready despite the faults") {
                try await client.get("\(statefulSetsPath)/calm").body["status"]?["readyReplicas"] == 3 ? true : nil
            }
        }
    }
}
