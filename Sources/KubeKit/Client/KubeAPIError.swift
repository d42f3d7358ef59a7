import Foundation

/// An answer from the API server that was not a success, with the server's `Status`: its code, reason, message and
/// the causes with their field paths.
public struct KubeAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: MetaV1.Status
    /// The HTTP status code of the response (or, for a watch ERROR event, the Status's own code).
    public var code: Int
    /// The wait the server asked for in Retry-After, on 429 and some 5xx answers.
    public var retryAfter: Duration?

    public init(status: MetaV1.Status, code: Int, retryAfter: Duration? = nil) {
        self.status = status
        self.code = code
        self.retryAfter = retryAfter
    }

    /// The kinds of failure callers act on, from the Status reason and, where that is absent, the code.
    public enum Category: Sendable, Hashable {
        case badRequest, unauthorized, forbidden, notFound, alreadyExists, conflict, gone, invalid
        case tooManyRequests, internalError, serviceUnavailable, timeout, unsupportedMediaType, other
    }

    public var reason: String { status.reason ?? "" }
    public var message: String { status.message ?? "" }
    public var causes: [MetaV1.StatusCause] { status.details?.causes ?? [] }

    public var category: Category {
        switch reason {
        case "BadRequest": return .badRequest
        case "Unauthorized": return .unauthorized
        case "Forbidden": return .forbidden
        case "NotFound": return .notFound
        case "AlreadyExists": return .alreadyExists
        case "Conflict": return .conflict
        case "Gone", "Expired": return .gone
        case "Invalid": return .invalid
        case "TooManyRequests": return .tooManyRequests
        case "InternalError": return .internalError
        case "ServiceUnavailable": return .serviceUnavailable
        case "Timeout", "ServerTimeout": return .timeout
        case "UnsupportedMediaType": return .unsupportedMediaType
        default: break
        }
        switch code {
        case 400: return .badRequest
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 409: return .conflict
        case 410: return .gone
        case 415: return .unsupportedMediaType
        case 422: return .invalid
        case 429: return .tooManyRequests
        case 503: return .serviceUnavailable
        case 504: return .timeout
        case 500...599: return .internalError
        default: return .other
        }
    }

    public var isNotFound: Bool { category == .notFound }
    public var isAlreadyExists: Bool { category == .alreadyExists }
    public var isConflict: Bool { category == .conflict }
    public var isGone: Bool { category == .gone }
    public var isInvalid: Bool { category == .invalid }
    public var isForbidden: Bool { category == .forbidden }
    public var isUnauthorized: Bool { category == .unauthorized }
    public var isTooManyRequests: Bool { category == .tooManyRequests }

    /// Whether a read may be sent again: throttling and server-side failures, not answers about the request itself.
    var isRetriable: Bool {
        switch category {
        case .tooManyRequests, .internalError, .serviceUnavailable, .timeout: return true
        default: return code >= 500
        }
    }

    public var description: String {
        var text = "\(code) \(reason.isEmpty ? "Failure" : reason)"
        if !message.isEmpty { text += ": \(message)" }
        let fields = causes.compactMap { cause -> String? in
            guard let field = cause.field else { return cause.message }
            return "\(field): \(cause.message ?? cause.reason ?? "invalid")"
        }
        if !fields.isEmpty, !message.contains(fields[0]) { text += " (" + fields.joined(separator: "; ") + ")" }
        return text
    }

    /// A Status for an answer whose body was not one (a proxy's HTML page, an empty 503).
    static func synthesized(code: Int, body: String, retryAfter: Duration?) -> KubeAPIError {
        let reason: String
        switch code {
        case 400: reason = "BadRequest"
        case 401: reason = "Unauthorized"
        case 403: reason = "Forbidden"
        case 404: reason = "NotFound"
        case 405: reason = "MethodNotAllowed"
        case 409: reason = "Conflict"
        case 410: reason = "Gone"
        case 415: reason = "UnsupportedMediaType"
        case 422: reason = "Invalid"
        case 429: reason = "TooManyRequests"
        case 503: reason = "ServiceUnavailable"
        case 504: reason = "Timeout"
        default: reason = code >= 500 ? "InternalError" : "Unknown"
        }
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        let message = trimmed.isEmpty ? "the server answered \(code) with no Status" : String(trimmed.prefix(300))
        let status = MetaV1.Status(code: Int32(code), message: message, reason: reason, status: "Failure")
        return KubeAPIError(status: status, code: code, retryAfter: retryAfter)
    }
}

/// A failure to talk to the API server at all, or to make sense of its answer.
public enum KubeClientError: Error, Sendable, CustomStringConvertible {
    /// The server could not be reached or the connection broke.
    case transport(server: String, reason: String)
    /// The server answered with a body that is not the expected JSON.
    case decoding(what: String, reason: String)
    /// The call itself is wrong, such as a namespaced kind with no namespace.
    case invalidRequest(String)
    /// A write was not sent: the client's fence allows none now (its leader no longer holds the lease).
    case fenced

    public var description: String {
        switch self {
        case .transport(let server, let reason): return "cannot reach the API server at \(server): \(reason)"
        case .decoding(let what, let reason): return "cannot decode \(what) from the API server: \(reason)"
        case .invalidRequest(let reason): return reason
        case .fenced: return "write not sent: this process no longer holds the leader election lease"
        }
    }
}
