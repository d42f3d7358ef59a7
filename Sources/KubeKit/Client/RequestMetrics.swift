import Metrics

/// client-go's request metrics, so dashboards made for Go operators work: `rest_client_requests_total{verb,code}`
/// and `rest_client_request_duration_seconds{verb}`. `verb` is the HTTP method, as client-go reports it.
struct RequestMetrics: Sendable {
    let factory: (any MetricsFactory)?

    func record(verb: String, code: String, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        if let factory {
            Counter(label: "rest_client_requests_total", dimensions: [("verb", verb), ("code", code)], factory: factory)
                .increment()
            Timer(label: "rest_client_request_duration_seconds", dimensions: [("verb", verb)], factory: factory)
                .recordNanoseconds(nanoseconds)
        } else {
            Counter(label: "rest_client_requests_total", dimensions: [("verb", verb), ("code", code)]).increment()
            Timer(label: "rest_client_request_duration_seconds", dimensions: [("verb", verb)])
                .recordNanoseconds(nanoseconds)
        }
    }
}
