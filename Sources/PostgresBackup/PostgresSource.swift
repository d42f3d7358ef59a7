/// The server a base backup copies: its address, the replication user, and libpq's password environment
/// (PGPASSWORD or PGPASSFILE, passed to pg_basebackup as is, never on its command line).
public struct PostgresSource: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    /// Whether it is a streaming standby (recorded in the manifest; pg_basebackup itself fails when a standby is
    /// promoted during the backup, so such a backup is never recorded as complete).
    public var isStandby: Bool
    /// The primary of a standby source, asked for a CHECKPOINT first: a standby's backup starts at its next
    /// restartpoint, which waits for the primary's next checkpoint (up to checkpoint_timeout on an idle primary).
    public var primaryHost: String?

    public init(host: String, port: Int = 5432, user: String, isStandby: Bool, primaryHost: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.isStandby = isStandby
        self.primaryHost = primaryHost
    }
}
