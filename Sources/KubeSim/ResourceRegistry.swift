import KubeKit

/// Every resource the server serves: the built-in ones read from the swagger at start-up and the versions of each
/// established CustomResourceDefinition. A value type; the store owns the live copy and hands out snapshots.
struct ResourceRegistry: Sendable {
    /// apiVersion → plural → resource.
    private(set) var byGroupVersion: [String: [String: APIResource]] = [:]
    /// CRD name → the resources it added, so that deleting the CRD removes exactly those.
    private var crdResources: [String: [APIResource]] = [:]

    init(builtin: [APIResource]) {
        for resource in builtin { add(resource) }
    }

    private mutating func add(_ resource: APIResource) {
        byGroupVersion[resource.apiVersion, default: [:]][resource.plural] = resource
    }

    func resource(group: String, version: String, plural: String) -> APIResource? {
        byGroupVersion[group.isEmpty ? version : "\(group)/\(version)"]?[plural]
    }

    func resource(apiVersion: String, kind: String) -> APIResource? {
        byGroupVersion[apiVersion]?.values.first { $0.kind == kind }
    }

    func hasGroupVersion(group: String, version: String) -> Bool {
        byGroupVersion[group.isEmpty ? version : "\(group)/\(version)"] != nil
    }

    /// The served versions of a group, preferred first (v1 before v1beta1 before v1alpha1, higher numbers first).
    func versions(ofGroup group: String) -> [String] {
        let versions = byGroupVersion.values.compactMap { $0.values.first }.filter { $0.group == group }.map(\.version)
        return Set(versions).sorted(by: VersionPriority.higher)
    }

    /// Named groups in a stable order: built-in groups alphabetically, like the real server's sorted output.
    var groups: [String] {
        Set(byGroupVersion.values.compactMap { $0.values.first?.group }).filter { !$0.isEmpty }.sorted()
    }

    /// The resource at the group's preferred version, used when an object must be read without a request version.
    func preferred(_ key: StorageKey) -> APIResource? {
        for version in versions(ofGroup: key.group) {
            if let resource = resource(group: key.group, version: version, plural: key.plural) { return resource }
        }
        return nil
    }

    /// Every storage key once, at its preferred version.
    var allStored: [APIResource] {
        var seen: Set<StorageKey> = []
        var result: [APIResource] = []
        for group in [""] + groups {
            for version in versions(ofGroup: group) {
                for resource in (byGroupVersion[group.isEmpty ? version : "\(group)/\(version)"] ?? [:]).values.sorted(by: { $0.plural < $1.plural })
                where seen.insert(resource.key).inserted {
                    result.append(resource)
                }
            }
        }
        return result
    }

    // MARK: CustomResourceDefinitions

    /// Registers (or re-registers) the served versions of a CRD. Returns the accepted names for its status.
    @discardableResult
    mutating func register(crd: JSONValue) -> JSONValue? {
        guard let name = crd["metadata"]?["name"]?.stringValue, let spec = crd["spec"],
            let group = spec["group"]?.stringValue, let names = spec["names"],
            let plural = names["plural"]?.stringValue, let kind = names["kind"]?.stringValue
        else { return nil }
        unregister(crdName: name)
        let namespaced = spec["scope"]?.stringValue != "Cluster"
        var added: [APIResource] = []
        for version in spec["versions"]?.arrayValue ?? [] {
            guard let versionName = version["name"]?.stringValue, version["served"]?.boolValue ?? true else { continue }
            var subresources: Set<String> = []
            if version["subresources"]?["status"] != nil { subresources.insert("status") }
            if version["subresources"]?["scale"] != nil { subresources.insert("scale") }
            let resource = APIResource(
                group: group, version: versionName, kind: kind, plural: plural,
                singular: names["singular"]?.stringValue ?? kind.lowercased(), namespaced: namespaced,
                verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                shortNames: names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                categories: names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                subresources: subresources, definition: nil,
                customSchema: version["schema"]?["openAPIV3Schema"],
                printerColumns: version["additionalPrinterColumns"])
            add(resource)
            added.append(resource)
        }
        crdResources[name] = added
        var accepted = names
        if accepted["singular"] == nil { accepted["singular"] = .string(kind.lowercased()) }
        if accepted["listKind"] == nil { accepted["listKind"] = .string(kind + "List") }
        return accepted
    }

    mutating func unregister(crdName: String) {
        for resource in crdResources.removeValue(forKey: crdName) ?? [] {
            byGroupVersion[resource.apiVersion]?[resource.plural] = nil
            if byGroupVersion[resource.apiVersion]?.isEmpty == true { byGroupVersion[resource.apiVersion] = nil }
        }
    }
}

/// Kubernetes version ordering: GA before beta before alpha, then by major and minor number, descending.
enum VersionPriority {
    private static func rank(_ version: String) -> (Int, Int, Int) {
        let scanner = Array(version)
        guard scanner.first == "v" else { return (0, 0, 0) }
        var index = 1
        var major = 0
        while index < scanner.count, let digit = scanner[index].wholeNumberValue {
            major = major * 10 + digit
            index += 1
        }
        let rest = String(scanner[index...])
        if rest.isEmpty { return (3, major, 0) }
        let minor = Int(rest.drop { !$0.isNumber }) ?? 0
        if rest.hasPrefix("beta") { return (2, major, minor) }
        if rest.hasPrefix("alpha") { return (1, major, minor) }
        return (0, major, minor)
    }

    static func higher(_ lhs: String, _ rhs: String) -> Bool {
        let (a, b) = (rank(lhs), rank(rhs))
        if a != b { return a > b }
        return lhs < rhs
    }
}
