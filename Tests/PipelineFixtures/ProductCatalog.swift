import Foundation
import KubeSim
import Logging
import PostgresNIO
import VectorSync

/// A product row as the reference architecture's generator makes them.
public struct Product: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var sku: String
    public var description: String
    public var price: Double
    public var lastUpdated: Date
}

/// Generates the reference's products table and rows: deterministic for a seed, so tests and benchmarks can rebuild
/// the expected text of any row.
public struct ProductCatalog: Sendable {
    public let table: QualifiedTableName

    public init(table: String = "public.products") throws(ConfigurationError) {
        self.table = try QualifiedTableName(table, field: "table")
    }

    /// The source settings for this table: the reference's text and payload.
    public func sourceTable() throws(ConfigurationError) -> SourceTable {
        try SourceTable(table: table.description, primaryKey: "id", textTemplate: "{name}: {description}", payloadColumns: ["sku", "price"])
    }

    public func createTable(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.guardedQuery(
            """
            CREATE TABLE IF NOT EXISTS \(unescaped: table.quoted) (
                id bigint PRIMARY KEY,
                name text NOT NULL,
                sku text NOT NULL UNIQUE,
                description text NOT NULL,
                price numeric(10, 2) NOT NULL,
                last_updated timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
    }

    /// Inserts the products in one statement.
    public func insert(_ products: [Product], _ connection: PostgresConnection, logger: Logger) async throws {
        guard !products.isEmpty else { return }
        try await connection.guardedQuery(
            """
            INSERT INTO \(unescaped: table.quoted) (id, name, sku, description, price, last_updated)
            SELECT * FROM unnest(\(products.map(\.id)), \(products.map(\.name)), \(products.map(\.sku)),
                                 \(products.map(\.description)), \(products.map(\.price))::float8[]::numeric[],
                                 \(products.map(\.lastUpdated)))
            """, logger: logger)
    }

    static let adjectives = [
        "Smart", "Portable", "Wireless", "Ergonomic", "Compact", "Rugged", "Solar", "Quiet", "Modular", "Heated",
        "Waterproof", "Foldable", "Vintage", "Organic", "Magnetic", "Adaptive",
    ]
    static let nouns = [
        "Lamp", "Speaker", "Backpack", "Kettle", "Keyboard", "Camera", "Thermostat", "Blender", "Headphones", "Drone",
        "Tent", "Watch", "Router", "Chair", "Scanner", "Projector",
    ]
    static let features = [
        "uses AI to adapt to your habits", "charges in under an hour", "is made from recycled aluminium",
        "pairs with any phone", "folds flat for travel", "runs for a week on one charge", "survives a drop from two metres",
        "learns your schedule", "is quiet enough for a library", "keeps drinks hot for twelve hours",
        "streams in high definition", "works offline", "has a five year warranty", "cleans itself",
    ]

    /// Product `index` (1-based) of the catalogue made with `seed`; the same arguments always give the same product.
    public static func product(_ index: Int64, seed: UInt64 = 1) -> Product {
        var random = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: index))
        let adjective = adjectives[random.next(below: adjectives.count)]
        let noun = nouns[random.next(below: nouns.count)]
        let first = features[random.next(below: features.count)]
        var second = features[random.next(below: features.count)]
        if second == first { second = features[(features.firstIndex(of: first)! + 1) % features.count] }
        let model = 100 + random.next(below: 900)
        return Product(
            id: index,
            name: "\(adjective) \(noun) \(model)",
            sku: String(format: "SKU-%08lld", index),
            description: "The \(adjective.lowercased()) \(noun.lowercased()) that \(first) and \(second).",
            price: Double(500 + random.next(below: 99_500)) / 100,
            lastUpdated: Date(timeIntervalSince1970: 1_700_000_000 + Double(random.next(below: 30_000_000))))
    }

    public static func products(_ range: ClosedRange<Int64>, seed: UInt64 = 1) -> [Product] {
        range.map { product($0, seed: seed) }
    }
}

extension SeededGenerator {
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
