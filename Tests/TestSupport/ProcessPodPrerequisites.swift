import KubeSim
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the operator's tests of pods that run need: root (pods run in network and mount namespaces) and PostgreSQL
/// with pgvector for the `pgvector/pgvector` image; nil without PostgreSQL.
public let processPodPostgres = PostgresBinaries.find(searchRoots: [repositoryRoot.path])

/// Whether those tests can run here, and why not when they cannot, for a suite's `.enabled(if:)`.
public let canRunPgvectorProcessPods = geteuid() == 0 && processPodPostgres != nil
public let pgvectorProcessPodsSkipReason: Comment =
    "needs root (pods run in network and mount namespaces) and PostgreSQL with pgvector (run scripts/test.sh)"

/// Expects that a stopped server with pods that run left nothing behind (`processPodLeftovers`). When another server
/// has meanwhile claimed the same network, what is there is its own: the check is skipped, as nothing can be told.
public func expectNoProcessPodLeftovers(bridge: String, directory: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let leftovers = processPodLeftovers(bridge: bridge, directory: directory) else { return }
    #expect(leftovers.isEmpty, "left behind: \(leftovers.joined(separator: "; "))", sourceLocation: sourceLocation)
}
