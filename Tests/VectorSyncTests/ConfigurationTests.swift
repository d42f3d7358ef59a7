import PipelineFixtures
import Testing

@testable import VectorSync

@Suite("Configuration and embedding without a server")
struct ConfigurationTests {
    @Test func templatesRenderColumnsAndRejectBadPlaceholders() throws {
        let template = try TextTemplate("{name}: {description} {{in braces}}")
        #expect(template.columns == ["name", "description"])
        #expect(template.render(["name": .string("Lamp"), "description": .null]) == "Lamp:  {in braces}")
        #expect(template.render(["name": .int(12), "description": .double(2.5)]) == "12: 2.5 {in braces}")
        #expect(throws: ConfigurationError.self) { try TextTemplate("{name") }
        #expect(throws: ConfigurationError.self) { try TextTemplate("no columns") }
        #expect(throws: ConfigurationError.self) { try TextTemplate("{na me}") }
        #expect(throws: ConfigurationError.self) { try TextTemplate("a } b {name}") }
    }

    @Test("a bigint above 2^53 keeps every digit: in a row, in embedded text and as a Qdrant point id")
    func bigintsStayExact() throws {
        let row = try JSONValue.parse(#"{"id": 9007199254740993, "price": 12.5, "big": 9223372036854775807}"#)
        #expect(row["id"] == .int(9_007_199_254_740_993))
        #expect(row["price"] == .double(12.5))
        let template = try TextTemplate("{id} {big} {price}")
        #expect(template.render(row.objectValue ?? [:]) == "9007199254740993 9223372036854775807 12.5")
        #expect(JSONValue.object(["id": .int(9_007_199_254_740_993)]).canonicalJSON == #"{"id":9007199254740993}"#)
        #expect(QdrantSink.pointID("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(QdrantSink.pointID("18446744073709551615").stringValue != nil, "beyond Int64: a UUID")
    }

    @Test func aMustacheTemplateIsRefusedWithTheRightForm() {
        do {
            _ = try TextTemplate("{{title}}\n\n{{ body }}", field: "--text-template")
            Issue.record("a Mustache template was accepted")
        } catch {
            #expect(error.field == "--text-template")
            #expect(error.description.contains("write {title}"))
        }
    }

    @Test func aCompositeKeyKeepsItsColumnsInOrderAndRefusesRepeats() throws {
        let source = try SourceTable(table: "docs.chunks", primaryKey: ["document_id", "chunk"], textTemplate: "{text}")
        #expect(source.primaryKey.map(\.name) == ["document_id", "chunk"])
        #expect(throws: ConfigurationError.self) { try SourceTable(table: "t", primaryKey: ["a", "a"], textTemplate: "{b}") }
        #expect(throws: ConfigurationError.self) { try SourceTable(table: "t", primaryKey: [String](), textTemplate: "{b}") }
    }

    @Test func errorsNameTheFieldAndTheFix() {
        do {
            _ = try SourceTable(table: "a.b.c", primaryKey: "id", textTemplate: "{name}")
            Issue.record("a three-part table name was accepted")
        } catch {
            #expect(error.field == "source.table")
            #expect(error.description.contains("schema.table"))
        }
        do {
            _ = try SourceTable(table: "products", primaryKey: "id", textTemplate: "{name}", payloadColumns: ["ok", "drop table"])
            Issue.record("a payload column with a space was accepted")
        } catch {
            #expect(error.field == "source.payloadColumns[1]")
        }
        #expect(throws: ConfigurationError.self) {
            try Pelican.Configuration(pipeline: String(repeating: "p", count: 41), source: try ProductCatalog().sourceTable())
        }
        #expect(throws: ConfigurationError.self) { try HashEmbedder(dimension: 0) }
    }

    @Test func maxReceiveCountIsThePostgresQueuesAndRefusedForSQS() throws {
        #expect(try QueueSettings(kind: "postgres", maxReceiveCount: nil).maxReceiveCount == 5)
        #expect(try QueueSettings(kind: "postgres", maxReceiveCount: 2).maxReceiveCount == 2)
        let sqs = { (count: Int?) throws(ConfigurationError) in
            try QueueSettings(kind: "sqs", maxReceiveCount: count, sqsQueueURL: "http://127.0.0.1:1/123/changes", region: "eu-west-1")
        }
        #expect(try sqs(nil).kind == .sqs)
        do {
            _ = try sqs(3)
            Issue.record("--max-receive-count was accepted for an sqs queue, which ignores it")
        } catch {
            #expect(error.field == "--max-receive-count")
            #expect(error.description.contains("RedrivePolicy"))
        }
    }

    @Test func postgresURIsParseWithoutRepeatingThePassword() throws {
        let endpoint = try PostgresEndpoint(url: "postgres://app:s%40cret@db.example:6543/shop?sslmode=require", field: "source.url")
        #expect(endpoint.host == "db.example")
        #expect(endpoint.port == 6543)
        #expect(endpoint.username == "app")
        #expect(endpoint.password == "s@cret")
        #expect(endpoint.database == "shop")
        #expect(endpoint.sslMode == .require)
        do {
            _ = try PostgresEndpoint(url: "postgres://app:hunter2@db/shop?sslmode=sometimes", field: "source.url")
            Issue.record("an unknown sslmode was accepted")
        } catch {
            #expect(error.field == "source.url")
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func theHashEmbedderIsDeterministicNormalisedAndSimilarityPreserving() async throws {
        let embedder = try HashEmbedder(dimension: 384)
        let vectors = try await embedder.embed(["Smart lamp that uses AI", "smart LAMP that uses ai!", "A rugged tent for travel"])
        #expect(vectors[0] == vectors[1])
        for vector in vectors {
            #expect(vector.count == 384)
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
        let related = try await embedder.embed(["Smart lamp that uses AI to dim"])[0]
        func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        #expect(cosine(vectors[0], related) > cosine(vectors[2], related))
        // The published FNV-1a 64 test values: vectors are the same on every machine and in every run.
        #expect(HashEmbedder.fnv1a("") == 0xcbf2_9ce4_8422_2325)
        #expect(HashEmbedder.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
        await #expect(throws: EmbeddingError.rejected(index: 1, reason: "it has no words")) {
            try await embedder.embed(["fine", "  ... "])
        }
    }

    @Test func generatedProductsAreDeterministic() {
        let first = ProductCatalog.product(17, seed: 3)
        #expect(first == ProductCatalog.product(17, seed: 3))
        #expect(first != ProductCatalog.product(18, seed: 3))
        #expect(first.sku == "SKU-00000017")
        #expect(first.description.hasPrefix("The "))
        #expect((5...1000).contains(first.price))
    }
}
