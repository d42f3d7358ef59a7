import Foundation
import KubeKit

/// Where an object lives inside one resource's store: namespace ("" when cluster-scoped) and name, ordered the way
/// etcd keys are.
struct ObjectName: Sendable, Hashable, Comparable {
    var namespace: String
    var name: String

    static func < (lhs: ObjectName, rhs: ObjectName) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

/// Small accessors for the metadata of untyped objects.
extension JSONValue {
    var metadataName: String? { self["metadata"]?["name"]?.stringValue }
    var metadataNamespace: String? { self["metadata"]?["namespace"]?.stringValue }
    var objectName: ObjectName? { metadataName.map { ObjectName(namespace: metadataNamespace ?? "", name: $0) } }
    var uid: String? { self["metadata"]?["uid"]?.stringValue }
    var resourceVersionString: String? { self["metadata"]?["resourceVersion"]?.stringValue }
    var finalizers: [String] { self["metadata"]?["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    var isBeingDeleted: Bool {
        if let timestamp = self["metadata"]?["deletionTimestamp"], timestamp != .null { return true }
        return false
    }
    var ownerReferences: [JSONValue] { self["metadata"]?["ownerReferences"]?.arrayValue ?? [] }

    mutating func setMetadata(_ key: String, _ value: JSONValue?) {
        if self["metadata"]?.objectValue == nil { self["metadata"] = .object([:]) }
        self["metadata"]?[key] = value
    }

    /// The object without server-maintained bookkeeping, to decide whether a write changes anything.
    var withoutBookkeeping: JSONValue {
        var copy = self
        copy["metadata"]?["resourceVersion"] = nil
        copy["metadata"]?["managedFields"] = nil
        return copy
    }

    /// Everything except metadata and status: what `metadata.generation` tracks.
    var specPart: JSONValue {
        var copy = self
        copy["metadata"] = nil
        copy["status"] = nil
        copy["apiVersion"] = nil
        copy["kind"] = nil
        return copy
    }
}

enum Clock {
    /// RFC 3339 with whole seconds, as Kubernetes writes `metav1.Time`.
    static func now(plusSeconds seconds: Int64 = 0) -> String {
        Date.now.addingTimeInterval(TimeInterval(seconds)).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
    }
}

/// Name rules from apimachinery's validation.
enum NameValidation {
    static func pathSegment(_ name: String) -> String? {
        if name == "." || name == ".." { return "may not be '\(name)'" }
        if name.contains("/") || name.contains("%") { return "may not contain '/' or '%'" }
        return nil
    }

    /// The rule a resource's names follow: labels for namespaces and Services, path segments for RBAC, subdomains
    /// otherwise. Every message the rule gives, as kube-apiserver lists them all.
    static func problems(with name: String, for resource: APIResource) -> [String] {
        switch (resource.group, resource.plural) {
        case ("", "namespaces"), ("", "services"): ValueFormats.dns1123Label(name)
        case ("rbac.authorization.k8s.io", _): pathSegment(name).map { [$0] } ?? []
        default: ValueFormats.dns1123Subdomain(name)
        }
    }

    static func generatedSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement() ?? "x" })
    }
}
