import Foundation
import Hummingbird
import KubeKit

/// Who sent a request, as kube-apiserver's authenticators name them.
struct UserInfo: Sendable, Hashable {
    var name: String
    var groups: [String]

    static let anonymous = UserInfo(name: "system:anonymous", groups: ["system:unauthenticated"])

    static func serviceAccount(namespace: String, name: String) -> UserInfo {
        UserInfo(
            name: "system:serviceaccount:\(namespace):\(name)",
            groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"])
    }

    var isAdministrator: Bool { groups.contains("system:masters") }
}

/// A token issued for a ServiceAccount: valid while that very ServiceAccount (same uid) exists.
struct ServiceAccountToken: Sendable {
    var namespace: String
    var name: String
    var uid: String
}

extension ClusterStore {
    /// Issues a token for an existing ServiceAccount; 404 when there is none.
    func issueServiceAccountToken(namespace: String, name: String) throws(APIError) -> String {
        let key = StorageKey(group: "", plural: "serviceaccounts")
        guard let account = objects[key]?[ObjectName(namespace: namespace, name: name)], let uid = account.uid else {
            throw APIError(
                code: 404, reason: "NotFound", message: "serviceaccounts \"\(name)\" not found",
                details: APIError.details(name: name, group: "", kind: "serviceaccounts"))
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let token =
            "kubesim-sa."
            + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        serviceAccountTokens[token] = ServiceAccountToken(namespace: namespace, name: name, uid: uid)
        return token
    }

    /// The ServiceAccount a token was issued for, if the token is one of ours and the account still exists.
    func serviceAccountUser(token: String) -> UserInfo? {
        guard let issued = serviceAccountTokens[token] else { return nil }
        let key = StorageKey(group: "", plural: "serviceaccounts")
        guard objects[key]?[ObjectName(namespace: issued.namespace, name: issued.name)]?.uid == issued.uid else { return nil }
        return .serviceAccount(namespace: issued.namespace, name: issued.name)
    }
}

/// `POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`: the TokenRequest API, as kubelet uses it for
/// projected service-account tokens.
struct TokenRequestHandler: Sendable {
    let store: ClusterStore

    func handle(_ request: Request, namespace: String, name: String, verb: String) async throws -> Response {
        guard verb == "create" else { throw APIError.methodNotAllowed() }
        let buffer = try await request.apiBody()
        let body = buffer.readableBytes > 0 ? try RequestBodyDecoder.decode(Data(buffer.readableBytesView), allowYAML: false) : .object([:])
        let expiration = body["spec"]?["expirationSeconds"]?.intValue ?? 3600
        if expiration < 600 {
            throw APIError(
                code: 422, reason: "Invalid",
                message:
                    "TokenRequest.authentication.k8s.io \"\(name)\" is invalid: spec.expirationSeconds: Invalid value: \(expiration): may not specify a duration less than 10 minutes",
                details: APIError.details(
                    name: name, group: "authentication.k8s.io", kind: "TokenRequest",
                    causes: [
                        APIError.cause(
                            "FieldValueInvalid", field: "spec.expirationSeconds",
                            message: "Invalid value: \(expiration): may not specify a duration less than 10 minutes")
                    ]))
        }
        let token = try await store.issueServiceAccountToken(namespace: namespace, name: name)
        let expires = Date.now.addingTimeInterval(TimeInterval(expiration))
            .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
        var spec = body["spec"] ?? .object([:])
        spec["expirationSeconds"] = .int(expiration)
        if spec["audiences"] == nil { spec["audiences"] = ["https://kubernetes.default.svc"] }
        let response: JSONValue = [
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .null],
            "spec": spec, "status": ["token": .string(token), "expirationTimestamp": .string(expires)],
        ]
        return KubeSimResponder.json(response, status: 201)
    }
}
