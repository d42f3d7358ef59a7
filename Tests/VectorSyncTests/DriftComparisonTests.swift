import Testing

@testable import VectorSync

/// The comparison of a source with a sink over pages, with no database: each side pages in its own order, and no
/// page is larger than asked.
@Suite("Drift comparison")
struct DriftComparisonTests {
    /// Pages of a sorted key → hash map after a cursor, as the source's keyset pagination gives them.
    struct PagedMap: Sendable {
        let entries: [(key: String, hash: String)]

        init(_ map: [String: String]) { entries = map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

        func page(after cursor: String?, limit: Int) -> (page: [String: String], next: String?) {
            let rest = entries.filter { cursor == nil || $0.key > cursor! }.prefix(limit)
            let page = Dictionary(uniqueKeysWithValues: rest.map { ($0.key, $0.hash) })
            return (page, rest.count < limit ? nil : rest.last?.key)
        }
    }

    @Test("missing, stale and orphaned are found across pages, and each page's repairs are handed over as found")
    func findsEveryKindAcrossPages() async throws {
        var source: [String: String] = [:]
        for id in 1...23 { source[String(id)] = "hash-\(id)" }
        var sink = source
        for id in ["3", "11", "22"] { sink[id] = nil }
        for id in ["5", "17"] { sink[id] = "old-hash" }
        for id in ["900", "901"] { sink[id] = "hash-\(id)" }
        let sourcePages = PagedMap(source)
        // The sink pages in another order than the source (as Qdrant scrolls by point id): by reversed key text.
        let sinkOrder = sink.keys.sorted { String($0.reversed()) < String($1.reversed()) }
        let limit = 4
        var largestPage = 0
        var repairs: [DriftRepairs] = []
        let counts = try await DriftComparison.walk(
            sourcePages: { (cursor: String?) in
                let page = sourcePages.page(after: cursor, limit: limit)
                largestPage = max(largestPage, page.page.count)
                return page
            },
            lookUpInSink: { keys in
                largestPage = max(largestPage, keys.count)
                return sink.filter { keys.contains($0.key) }
            },
            sinkPages: { (cursor: Int?) in
                let start = cursor ?? 0
                let ids = Array(sinkOrder[start..<min(start + limit, sinkOrder.count)])
                return (ids, start + limit < sinkOrder.count ? start + limit : nil)
            },
            lookUpInSource: { ids in Set(ids.filter { source[$0] != nil }) },
            repair: { repairs.append($0) })
        #expect(counts == DriftCounts(sourceRows: 23, sinkRows: 22, missing: 3, stale: 2, orphaned: 2))
        #expect(Set(repairs.flatMap(\.upserts)) == ["3", "11", "22", "5", "17"])
        #expect(Set(repairs.flatMap(\.deletes)) == ["900", "901"])
        #expect(repairs.allSatisfy { !$0.isEmpty })
        #expect(repairs.count > 1, "repairs arrive page by page, not at the end")
        #expect(largestPage <= limit)
    }

    @Test("a sink in step with its source needs no repair; an empty source makes every vector an orphan")
    func inStepAndEmpty() async throws {
        var inStep = DriftCounts()
        let none = DriftComparison.compare(sourcePage: ["1": "a", "2": "b"], sinkHashes: ["1": "a", "2": "b"], counts: &inStep)
        #expect(none.isEmpty)
        #expect(DriftComparison.compare(sinkPage: ["1", "2"], presentInSource: ["1", "2"], counts: &inStep).isEmpty)
        #expect(inStep == DriftCounts(sourceRows: 2, sinkRows: 2))

        var empty = DriftCounts()
        let orphans = DriftComparison.compare(sinkPage: ["7", "8"], presentInSource: [], counts: &empty)
        #expect(orphans == DriftRepairs(deletes: ["7", "8"]))
        #expect(empty == DriftCounts(sinkRows: 2, orphaned: 2))
    }

    @Test("a sink id that cannot be a key of the source's types is not sent to the database")
    func keyShapes() {
        let single = SourceKey(columns: [.init(name: try! SQLIdentifier("id", field: "t"), type: "bigint")])
        #expect(single.couldBeKey("42"))
        #expect(!single.couldBeKey("not-a-key"))
        let composite = SourceKey(columns: [
            .init(name: try! SQLIdentifier("doc", field: "t"), type: "uuid"), .init(name: try! SQLIdentifier("lang", field: "t"), type: "text"),
        ])
        #expect(composite.couldBeKey(#"["6f1c2c55-8f0e-4a53-9d3b-1f1e7f3a0b11", "en"]"#))
        #expect(!composite.couldBeKey(#"["6f1c2c55", "en"]"#))
        #expect(!composite.couldBeKey(#"["6f1c2c55-8f0e-4a53-9d3b-1f1e7f3a0b11"]"#))
        #expect(!composite.couldBeKey("42"))
    }
}
