import ArgumentParser
import Foundation
import VectorBlocksAPI
import VectorBlocksCLI

struct PipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline", abstract: "Manage VectorPipelines: a Postgres table kept in step with vector stores.",
        subcommands: [Create.self, List.self, Describe.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a pipeline from a table into this operator's Clusters.",
            discussion: """
                Examples:
                  kbctl pipeline create documents --source-secret app-database:uri --table public.documents --primary-key id \\
                    --text-template '{title}: {body}' --payload-column title --qdrant-cluster vectors --dimension 384
                  kbctl pipeline create chunks --source-secret app-database --table docs.chunks --primary-key document_id --primary-key lang \\
                    --text-template '{body}' --embedder openai --model text-embedding-3-small --dimension 1536 \\
                    --openai-api-key-secret openai:api-key --pgvector-cluster embeddings --pgvector-table public.chunk_vectors
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The pipeline's name.") var name: String
        @Option(help: "The Secret holding the source database's URI: NAME or NAME:KEY (key default: uri).") var sourceSecret: String
        @Option(help: "The table: table or schema.table.") var table: String
        @Option(name: .customLong("primary-key"), help: "A primary-key column; repeat for each column of a composite key.") var primaryKey: [String] = []
        @Option(help: "The embedded text, with {column} placeholders, e.g. '{title}: {body}'.") var textTemplate: String
        @Option(name: .customLong("payload-column"), help: "A column copied into each vector's payload; repeat for more.") var payloadColumns: [String] = []
        @Flag(help: "Embed only later changes, not the rows already in the table.") var noBackfill = false
        @Option(help: "hash or openai.") var embedder = "hash"
        @Option(help: "The vectors' dimension.") var dimension: Int32 = 384
        @Option(help: "The openai embedder's model, e.g. text-embedding-3-small.") var model: String?
        @Option(help: "An OpenAI-compatible API root (default https://api.openai.com/v1).") var openaiURL: String?
        @Option(help: "The Secret with the API key: NAME:KEY (key default: api-key).") var openaiAPIKeySecret: String?
        @Option(help: "A Qdrant Cluster of this operator to write to.") var qdrantCluster: String?
        @Option(help: "Its collection (default: the pipeline's name).") var qdrantCollection: String?
        @Option(help: "A pgvector Cluster of this operator to write to.") var pgvectorCluster: String?
        @Option(help: "Its table, schema.table (default: public.<name>_vectors).") var pgvectorTable: String?
        @Option(help: "Emu's fewest replicas (default 1).") var minReplicas: Int32?
        @Option(help: "Emu's most replicas (default 10).") var maxReplicas: Int32?
        @Option(help: "Queued messages per Emu replica (default 1000).") var targetBacklogPerReplica: Int32?
        @Option(help: "How often Emu verifies every sink against the table and repairs drift, e.g. 6h (default: never).")
        var verifyInterval: String?

        func run() async throws {
            try await global.run(.pipelineCreate) { session in
                var creation = PipelineCreation(
                    name: name, namespace: session.namespace, sourceSecret: sourceSecret, table: table,
                    primaryKey: primaryKey.isEmpty ? ["id"] : primaryKey, textTemplate: textTemplate)
                creation.payloadColumns = payloadColumns
                creation.backfill = !noBackfill
                creation.embedder = embedder
                creation.dimension = dimension
                creation.model = model
                creation.openaiURL = openaiURL
                creation.openaiAPIKeySecret = openaiAPIKeySecret
                creation.qdrantCluster = qdrantCluster
                creation.qdrantCollection = qdrantCollection
                creation.pgvectorCluster = pgvectorCluster
                creation.pgvectorTable = pgvectorTable
                creation.minReplicas = minReplicas
                creation.maxReplicas = maxReplicas
                creation.targetBacklogPerReplica = targetBacklogPerReplica
                creation.verifyInterval = verifyInterval
                Terminal.print(try await session.printCreated(try await session.createPipeline(creation)))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List pipelines.", discussion: "Examples:\n  kbctl pipeline list\n  kbctl pipeline list -A -o wide")
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.customShort("A"), .long], help: "List pipelines of every namespace.") var allNamespaces = false

        func run() async throws {
            try await global.run(.pipelineList) { Terminal.print(try await $0.listPipelines(allNamespaces: allNamespaces)) }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a pipeline's backfill, backlog, lag, dead letters, sinks, conditions and events.",
            discussion: "Example:\n  kbctl pipeline describe documents")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await global.run(.pipelineDescribe) { Terminal.print(try await $0.describePipeline(name)) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a pipeline: Pelican and Emu stop; spec.source.onDelete says whether its trigger and state leave the source.",
            discussion: "Example:\n  kbctl pipeline delete documents")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await global.run(.pipelineDelete) { session in
                Terminal.print(try await session.deletePipeline(name))
            }
        }
    }
}
