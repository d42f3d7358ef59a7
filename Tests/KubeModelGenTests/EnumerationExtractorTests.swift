import Foundation
import Testing

@testable import KubeModelGen

@Suite struct EnumerationExtractorTests {
    @Test("KubeSim's enumerations are what `kube-model-gen enums` reads from the reference OpenAPI document")
    func committedEnumerationsMatchTheGenerator() throws {
        let root = GeneratedCodeTests.repositoryRoot
        let reference = root.deletingLastPathComponent().appendingPathComponent("shared/reference/kubernetes/swagger.json")
        try #require(FileManager.default.fileExists(atPath: reference.path), "../shared/reference/kubernetes/swagger.json is missing beside the repository")
        let expected = try EnumerationExtractor.generate(swagger: Data(contentsOf: reference))
        let committed = try String(contentsOf: root.appendingPathComponent("Sources/KubeSim/Resources/enumerations.json"), encoding: .utf8)
        #expect(committed == expected, "the enumerations are stale; run `swift run kube-model-gen enums` from the repository root")
    }

    @Test("lists are read bare or quoted, asides in parentheses name no values, each phrase of quotedAfter gives one")
    func readsProse() throws {
        let bare = try EnumerationExtractor.extract(
            from: "Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates",
            source: .listAfter("Valid options are"), field: "type")
        #expect(bare == ["ExternalName", "ClusterIP", "NodePort", "LoadBalancer"])
        let quoted = try EnumerationExtractor.extract(
            from: "Services can be \"SingleStack\" (a single IP family), \"PreferDualStack\" (two families or one), or \"RequireDualStack\" (two). The",
            source: .listAfter("Services can be"), field: "ipFamilyPolicy")
        #expect(quoted == ["SingleStack", "PreferDualStack", "RequireDualStack"])
        let phrases = try EnumerationExtractor.extract(
            from: "If set to \"Local\", the proxy drops. The default value, \"Cluster\", routes to all.",
            source: .quotedAfter(["If set to", "The default value,"]), field: "internalTrafficPolicy")
        #expect(phrases == ["Local", "Cluster"])
        #expect(throws: EnumerationExtractor.ExtractionError.self) {
            try EnumerationExtractor.extract(from: "Anything goes.", source: .listAfter("Valid values are"), field: "x")
        }
    }
}
