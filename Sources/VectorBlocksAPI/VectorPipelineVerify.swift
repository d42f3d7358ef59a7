import KubeKit

extension VectorPipelineSpec {
    /// Drift repair: how often Emu compares every sink with the source and re-queues what is missing, stale or
    /// orphaned. Off unless an interval is set: a verify reads the whole table and every sink.
    public struct Verify: Codable, Sendable, Hashable, SchemaDescribed {
        /// A Go duration such as `6h`; at least `1m`, or `0s` for no verify.
        public var interval: String?

        public init(interval: String? = nil) {
            self.interval = interval
        }

        /// The shortest interval: a verify reads the whole source table, which must not run back to back.
        public static let minimumSeconds = 60.0

        /// The interval in whole seconds (0: no verify), or nil when it is not a valid duration.
        public var intervalSeconds: Int? {
            guard let interval else { return 0 }
            guard let seconds = UnitDuration.goSeconds(interval) else { return nil }
            return Int(seconds.rounded(.up))
        }

        public static let schema = Schema.object([
            "interval": .string(pattern: #"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$"#)
        ])
    }
}

extension VectorPipeline {
    /// The verify interval's problems: not a duration, shorter than a minute, or asked of a pipeline whose
    /// backfill is off (the verify would embed every row the backfill was told to leave alone).
    func verifyErrors() -> [FieldError] {
        guard let verify = spec.verify, let interval = verify.interval else { return [] }
        let field = FieldPath("spec").child("verify").child("interval").description
        guard let seconds = verify.intervalSeconds else {
            return [FieldError(field: field, message: "Invalid value: \"\(interval)\": not a duration", fix: "write a Go duration such as 6h or 30m")]
        }
        if seconds == 0 { return [] }
        if Double(seconds) < VectorPipelineSpec.Verify.minimumSeconds {
            return [
                FieldError(
                    field: field, message: "Invalid value: \"\(interval)\": shorter than 1m",
                    fix: "use at least 1m (a verify reads the whole table and every sink), or 0s for no verify")
            ]
        }
        if spec.source.backfill == false {
            return [
                FieldError(
                    field: field, message: "Forbidden: spec.source.backfill is false, and a verify would embed every row the backfill skipped",
                    fix: "remove spec.verify, or enable the backfill")
            ]
        }
        return []
    }
}

extension VectorPipelineStatus {
    /// A sink's last verify against the source, as Emu recorded it.
    public struct SinkVerify: Codable, Sendable, Hashable, SchemaDescribed {
        public var time: MetaV1.Time?
        /// Rows in the source table when it was walked.
        public var sourceRows: Int64?
        /// Source rows without a vector.
        public var missing: Int64?
        /// Vectors made from other content than the row's now.
        public var stale: Int64?
        /// Vectors of rows the source does not have.
        public var orphaned: Int64?
        /// Changes queued to repair the sink.
        public var requeued: Int64?

        public init(
            time: MetaV1.Time? = nil, sourceRows: Int64? = nil, missing: Int64? = nil, stale: Int64? = nil, orphaned: Int64? = nil,
            requeued: Int64? = nil
        ) {
            self.time = time
            self.sourceRows = sourceRows
            self.missing = missing
            self.stale = stale
            self.orphaned = orphaned
            self.requeued = requeued
        }

        public static let schema = Schema.object([
            "time": .string(format: "date-time"),
            "sourceRows": .integer(format: "int64", minimum: 0),
            "missing": .integer(format: "int64", minimum: 0),
            "stale": .integer(format: "int64", minimum: 0),
            "orphaned": .integer(format: "int64", minimum: 0),
            "requeued": .integer(format: "int64", minimum: 0),
        ])
    }
}
