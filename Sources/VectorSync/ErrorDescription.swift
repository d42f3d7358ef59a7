import PostgresNIO

/// An error as logs, dead letters and health checks show it. PostgresNIO's own description hides everything (it
/// could hold bound values); this keeps the server's message and SQLSTATE, which name no bound value.
func describe(_ error: any Error) -> String {
    guard let psql = error as? PSQLError else { return "\(error)" }
    if let info = psql.serverInfo {
        let message = info[.message] ?? "no message"
        let detail = info[.detail].map { " (\($0))" } ?? ""
        return "Postgres error \(info[.sqlState] ?? "?"): \(message)\(detail)"
    }
    return "Postgres connection error: \(psql.code)"
}
