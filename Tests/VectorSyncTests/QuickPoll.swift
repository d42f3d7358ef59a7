import TestSupport

/// Waits for `condition`, polling every 10 ms, so a moment inside a short window is caught; an error counts as "not
/// yet" (the schema may not exist yet, the server may be restarting).
func waitFor(_ what: String, timeout: Duration = .seconds(180), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw TestSetupError("timed out waiting for \(what)")
}
