import ArgumentParser

/// Benchmarks that print figures; run by hand or by a script, never asserted on by tests.
@main
struct VectorBlocksBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectorblocks-bench",
        abstract: "VectorBlocks benchmarks.",
        subcommands: [
            ModelsBenchmark.self, KubeSimBenchmark.self, OperatorBenchmark.self, PipelineBenchmark.self, PipelineOperatorBenchmark.self,
            EmbedBenchmark.self, FailoverBenchmark.self, BackupBenchmark.self, WALCompressionBenchmark.self,
        ])
}
