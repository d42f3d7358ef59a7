/// What a verify pass found in one sink: the source rows it has no vector for (missing), those whose vector was made
/// from other content (stale), and the vectors of rows the source does not have (orphaned).
public struct DriftCounts: Sendable, Hashable {
    public var sourceRows: Int64 = 0
    public var sinkRows: Int64 = 0
    public var missing: Int64 = 0
    public var stale: Int64 = 0
    public var orphaned: Int64 = 0

    public init(sourceRows: Int64 = 0, sinkRows: Int64 = 0, missing: Int64 = 0, stale: Int64 = 0, orphaned: Int64 = 0) {
        self.sourceRows = sourceRows
        self.sinkRows = sinkRows
        self.missing = missing
        self.stale = stale
        self.orphaned = orphaned
    }
}

/// The repairs one page calls for: keys to upsert again (the normal path re-reads, re-embeds and rewrites them) and
/// ids to delete.
public struct DriftRepairs: Sendable, Hashable {
    public var upserts: [String] = []
    public var deletes: [String] = []

    public init(upserts: [String] = [], deletes: [String] = []) {
        self.upserts = upserts
        self.deletes = deletes
    }

    public var isEmpty: Bool { upserts.isEmpty && deletes.isEmpty }
}

/// The comparison of a source with a sink, page by page, without either side in memory: each source page is looked
/// up in the sink, each sink page in the source. Neither side needs the other's order (Qdrant scrolls in point-id
/// order, the source pages in key order), and each lookup is a bounded query on an index.
public enum DriftComparison {
    /// A source page (key → the content hash the row has now) against the hashes the sink stores for those keys.
    public static func compare(sourcePage: [String: String], sinkHashes: [String: String], counts: inout DriftCounts) -> DriftRepairs {
        counts.sourceRows += Int64(sourcePage.count)
        var repairs = DriftRepairs()
        for (key, hash) in sourcePage.sorted(by: { $0.key < $1.key }) {
            switch sinkHashes[key] {
            case nil:
                counts.missing += 1
                repairs.upserts.append(key)
            case let stored? where stored != hash:
                counts.stale += 1
                repairs.upserts.append(key)
            default: break
            }
        }
        return repairs
    }

    /// A sink page (its ids) against those of them the source has.
    public static func compare(sinkPage: [String], presentInSource: Set<String>, counts: inout DriftCounts) -> DriftRepairs {
        counts.sinkRows += Int64(sinkPage.count)
        let orphaned = sinkPage.filter { !presentInSource.contains($0) }
        counts.orphaned += Int64(orphaned.count)
        return DriftRepairs(deletes: orphaned)
    }

    /// Walks both sides through their pagers to the end. `lookUpInSink` answers the stored hashes of some keys,
    /// `lookUpInSource` which of some ids are source rows; `repair` gets each page's repairs as they are found, so
    /// the keys of a badly drifted sink are never all held at once.
    public static func walk<SourceCursor: Sendable, SinkCursor: Sendable>(
        sourcePages: (SourceCursor?) async throws -> (page: [String: String], next: SourceCursor?),
        lookUpInSink: ([String]) async throws -> [String: String],
        sinkPages: (SinkCursor?) async throws -> (ids: [String], next: SinkCursor?),
        lookUpInSource: ([String]) async throws -> Set<String>,
        repair: (DriftRepairs) async throws -> Void
    ) async throws -> DriftCounts {
        var counts = DriftCounts()
        var sourceCursor: SourceCursor?
        repeat {
            let (page, next) = try await sourcePages(sourceCursor)
            if !page.isEmpty {
                let repairs = compare(sourcePage: page, sinkHashes: try await lookUpInSink(Array(page.keys)), counts: &counts)
                if !repairs.isEmpty { try await repair(repairs) }
            }
            sourceCursor = next
        } while sourceCursor != nil
        var sinkCursor: SinkCursor?
        repeat {
            let (ids, next) = try await sinkPages(sinkCursor)
            if !ids.isEmpty {
                let repairs = compare(sinkPage: ids, presentInSource: try await lookUpInSource(ids), counts: &counts)
                if !repairs.isEmpty { try await repair(repairs) }
            }
            sinkCursor = next
        } while sinkCursor != nil
        return counts
    }
}
