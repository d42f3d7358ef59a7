import Testing

@testable import KubeKit

@Suite("Label selectors")
struct LabelSelectorTests {
    @Test(arguments: [
        ("app=web", ["app": "web"], true),
        ("app==web", ["app": "web"], true),
        ("app!=web", ["app": "db"], true),
        ("app!=web", [:], true),
        ("tier in (db, cache)", ["tier": "cache"], true),
        ("tier in (db,cache)", ["tier": "web"], false),
        ("tier notin (db)", [:], true),
        ("tier notin (db)", ["tier": "db"], false),
        ("canary", ["canary": "yes"], true),
        ("!canary", ["canary": "yes"], false),
        ("app=web,tier in (a,b),!canary", ["app": "web", "tier": "b"], true),
        ("app=web,tier in (a,b),!canary", ["app": "web", "tier": "b", "canary": ""], false),
        ("", ["anything": "x"], true),
    ])
    func parsesAndMatches(selector: String, labels: [String: String], matches: Bool) throws {
        #expect(try LabelSelector(parsing: selector).matches(labels) == matches)
    }

    @Test func printsACanonicalFormThatParsesBack() throws {
        let selector = try LabelSelector(parsing: "b in (y, x),a=1,!c")
        #expect(selector.description == "b in (x,y),a=1,!c")
        #expect(try LabelSelector(parsing: selector.description) == selector)
    }

    @Test func metaLabelSelectorWithExpressions() throws {
        let selector = try LabelSelector(
            MetaV1.LabelSelector(
                matchExpressions: [
                    .init(key: "role", operator: "In", values: ["primary", "secondary"]),
                    .init(key: "paused", operator: "DoesNotExist"),
                ],
                matchLabels: ["app.kubernetes.io/instance": "orders"]))
        #expect(selector.matches(["app.kubernetes.io/instance": "orders", "role": "primary"]))
        #expect(!selector.matches(["app.kubernetes.io/instance": "orders", "role": "primary", "paused": "1"]))
        #expect(!selector.matches(["app.kubernetes.io/instance": "other", "role": "primary"]))
        #expect(throws: LabelSelectorError.self) {
            try LabelSelector(MetaV1.LabelSelector(matchExpressions: [.init(key: "a", operator: "Near")]))
        }
    }

    @Test func malformedSelectorsSayWhy() {
        #expect(throws: LabelSelectorError.self) { try LabelSelector(parsing: "tier in db") }
        #expect(throws: LabelSelectorError.self) { try LabelSelector(parsing: "a b") }
    }
}
