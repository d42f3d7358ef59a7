import TestSupport

/// Waits for `condition`, polling every 10 ms, so a moment inside a short window is caught; an error counts as "not
/// yet" (the schema may not exist yet, the server may be restarting).
func waitFor(_ what: String, timeout: Duration = .seconds(180), _ condition: () async throws -> Bool) async throws {
    _ = try await eventually(what, timeout: timeout, every: .milliseconds(10)) { try await condition() ? true : nil }
}
