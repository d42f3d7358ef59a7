/// Why a backup, a WAL transfer or a restore failed, in words meant for a Backup's status or a Cluster's condition
/// (never with a credential in them).
public struct BackupFailure: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
