import Foundation

/// What a URL path addresses, as kube-apiserver's RequestInfo resolver reads it.
enum APIPath: Sendable, Equatable {
    case version, health, openAPIV2, openAPIV3Index
    case openAPIV3(group: String, version: String)
    case coreVersions  // /api
    case groups  // /apis
    case group(String)  // /apis/{group}
    case resourceList(group: String, version: String)  // /api/v1, /apis/{g}/{v}
    case resource(ResourcePath)
    case unknown

    struct ResourcePath: Sendable, Equatable {
        var group: String
        var version: String
        var plural: String
        var namespace: String?
        var name: String?
        var subresource: String?
        /// Legacy `/watch/` path prefix.
        var legacyWatch: Bool
    }

    init(path rawPath: String) {
        let path = rawPath.removingPercentEncoding ?? rawPath
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch parts.first {
        case "version": self = parts.count == 1 ? .version : .unknown
        case "healthz", "livez", "readyz": self = .health
        case "openapi":
            switch Array(parts.dropFirst()) {
            case ["v2"]: self = .openAPIV2
            case ["v3"]: self = .openAPIV3Index
            case let rest where rest.count == 3 && rest[0] == "v3" && rest[1] == "api": self = .openAPIV3(group: "", version: rest[2])
            case let rest where rest.count == 4 && rest[0] == "v3" && rest[1] == "apis": self = .openAPIV3(group: rest[2], version: rest[3])
            default: self = .unknown
            }
        case "api":
            if parts.count == 1 {
                self = .coreVersions
                return
            }
            if parts.count == 2 {
                self = .resourceList(group: "", version: parts[1])
                return
            }
            self = Self.resource(group: "", version: parts[1], rest: Array(parts[2...]))
        case "apis":
            if parts.count == 1 {
                self = .groups
                return
            }
            if parts.count == 2 {
                self = .group(parts[1])
                return
            }
            if parts.count == 3 {
                self = .resourceList(group: parts[1], version: parts[2])
                return
            }
            self = Self.resource(group: parts[1], version: parts[2], rest: Array(parts[3...]))
        default: self = .unknown
        }
    }

    private static func resource(group: String, version: String, rest input: [String]) -> APIPath {
        var rest = input
        var legacyWatch = false
        if rest.first == "watch" {
            legacyWatch = true
            rest.removeFirst()
        }
        var namespace: String?
        if rest.count >= 2, rest[0] == "namespaces" {
            // `/namespaces/{name}/status` and `/finalize` are subresources of the namespace itself.
            if rest.count == 2 || (rest.count == 3 && (rest[2] == "status" || rest[2] == "finalize")) {
                return .resource(
                    ResourcePath(
                        group: group, version: version, plural: "namespaces", namespace: nil,
                        name: rest[1], subresource: rest.count == 3 ? rest[2] : nil, legacyWatch: legacyWatch))
            }
            namespace = rest[1]
            rest.removeFirst(2)
        }
        guard !rest.isEmpty, rest.count <= 3 else { return .unknown }
        return .resource(
            ResourcePath(
                group: group, version: version, plural: rest[0], namespace: namespace,
                name: rest.count >= 2 ? rest[1] : nil, subresource: rest.count == 3 ? rest[2] : nil, legacyWatch: legacyWatch))
    }
}

/// Decoded query parameters (the last value wins, as Go's `url.Values.Get` reads the first... either is fine for
/// the single-valued parameters the API uses).
struct QueryParameters: Sendable {
    private var values: [String: String] = [:]

    init(_ query: String?) {
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let rawKey = parts.first else { continue }
            let key = Self.decode(rawKey)
            if values[key] == nil { values[key] = parts.count > 1 ? Self.decode(parts[1]) : "" }
        }
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    subscript(_ key: String) -> String? { values[key] }

    func bool(_ key: String) -> Bool {
        guard let value = values[key] else { return false }
        return value == "true" || value == "1" || value.isEmpty
    }

    func int(_ key: String) -> Int? { values[key].flatMap { Int($0) } }
}
