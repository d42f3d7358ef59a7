import Foundation
import KubeKit

/// `DeleteOptions` from the body or the query.
struct DeleteOptions: Sendable {
    enum Propagation: String, Sendable {
        case background = "Background"
        case foreground = "Foreground"
        case orphan = "Orphan"
    }

    var propagation: Propagation?
    var preconditionUID: String?
    var preconditionResourceVersion: String?
    var gracePeriodSeconds: Int64?
    var dryRun = false

    static let foregroundFinalizer = "foregroundDeletion"
    static let orphanFinalizer = "orphan"
}

extension ClusterStore {
    func delete(_ resource: APIResource, namespace: String?, name: String, options: DeleteOptions) throws(APIError) -> JSONValue {
        let objectName = ObjectName(namespace: resource.namespaced ? (namespace ?? "") : "", name: name)
        guard let old = objects[resource.key]?[objectName] else { throw APIError.notFound(resource, name: name) }
        if let uid = options.preconditionUID, uid != old.uid {
            throw APIError.conflict(resource, name: name, detail: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.uid ?? "")")
        }
        if let rv = options.preconditionResourceVersion, rv != old.resourceVersionString {
            throw APIError.conflict(
                resource, name: name,
                detail: "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(old.resourceVersionString ?? "")")
        }
        if options.dryRun { return present(old, as: resource) }

        let propagation = options.propagation ?? (old.finalizers.contains(DeleteOptions.orphanFinalizer) ? .orphan : .background)
        if propagation == .orphan, let uid = old.uid { orphanDependents(of: uid) }

        var new = old
        var finalizers = old.finalizers.filter { $0 != DeleteOptions.orphanFinalizer }
        if propagation == .foreground, !finalizers.contains(DeleteOptions.foregroundFinalizer) {
            finalizers.append(DeleteOptions.foregroundFinalizer)
        }
        let isNamespace = resource.key == .namespaces
        let grace = podGracePeriod(resource, old, options)
        if finalizers.isEmpty && !isNamespace && grace == nil {
            commit(resource.key, objectName, old: old, new: nil)
            afterRemoval(resource.key, old)
            var gone = old
            gone.setMetadata("resourceVersion", .string(String(currentResourceVersion())))
            return present(gone, as: resource)
        }
        let shortensGrace = grace.map { $0 < (old["metadata"]?["deletionGracePeriodSeconds"]?.intValue ?? 0) } ?? false
        if old.isBeingDeleted, finalizers == old.finalizers, !shortensGrace { return present(old, as: resource) }
        new.setMetadata("finalizers", finalizers.isEmpty ? nil : .array(finalizers.map(JSONValue.string)))
        if !old.isBeingDeleted || shortensGrace {
            new.setMetadata("deletionTimestamp", .string(Clock.now(plusSeconds: grace ?? 0)))
            new.setMetadata("deletionGracePeriodSeconds", .int(grace ?? 0))
        }
        if isNamespace { new["status"]?["phase"] = "Terminating" }
        let stored = commit(resource.key, objectName, old: old, new: new) ?? new
        collectGarbage()
        return present(objects[resource.key]?[objectName] ?? stored, as: resource)
    }

    /// The grace period a deleted pod gets while a simulated kubelet stops it: the request's, else the pod's
    /// `terminationGracePeriodSeconds`, else 30. Nil (removed at once) without a kubelet, for a pod never scheduled or
    /// already finished, or for a zero grace period, as kube-apiserver's pod strategy decides.
    private func podGracePeriod(_ resource: APIResource, _ pod: JSONValue, _ options: DeleteOptions) -> Int64? {
        guard configuration.workloads != nil, resource.key == .pods,
            !(pod["spec"]?["nodeName"]?.stringValue ?? "").isEmpty, !pod.isPodTerminal
        else { return nil }
        let grace = options.gracePeriodSeconds ?? pod["spec"]?["terminationGracePeriodSeconds"]?.intValue ?? 30
        return grace > 0 ? grace : nil
    }

    func deleteCollection(
        _ resource: APIResource, namespace: String?, labels: LabelSelector, fields: FieldSelector, options: DeleteOptions
    ) throws(APIError) -> JSONValue {
        let victims = matchingObjects(resource.key, namespace: namespace, labels: labels, fields: fields)
        var deleted: [JSONValue] = []
        for victim in victims {
            guard let name = victim.metadataName else { continue }
            var perObject = options
            perObject.preconditionUID = nil
            perObject.preconditionResourceVersion = nil
            if let result = try? delete(resource, namespace: victim.metadataNamespace, name: name, options: perObject) {
                deleted.append(result)
            }
        }
        return [
            "kind": .string(resource.kind + "List"), "apiVersion": .string(resource.apiVersion),
            "metadata": ["resourceVersion": .string(String(currentResourceVersion()))], "items": .array(deleted),
        ]
    }

    // MARK: Consequences of a removal

    /// Runs after an object is gone for good: CRDs take their custom resources with them, and the garbage
    /// collector looks for dependents.
    func afterRemoval(_ key: StorageKey, _ removed: JSONValue) {
        if key == .customResourceDefinitions, let crdName = removed.metadataName,
            let group = removed["spec"]?["group"]?.stringValue, let plural = removed["spec"]?["names"]?["plural"]?.stringValue
        {
            let crKey = StorageKey(group: group, plural: plural)
            for (name, object) in (objects[crKey] ?? [:]).sorted(by: { $0.key < $1.key }) {
                commit(crKey, name, old: object, new: nil)
            }
            updateRegistry(forCRD: nil, removedName: crdName)
        }
        collectGarbage()
    }

    private func orphanDependents(of uid: String) {
        for (key, store) in objects {
            for (name, object) in store where object.ownerReferences.contains(where: { $0["uid"]?.stringValue == uid }) {
                var new = object
                let kept = object.ownerReferences.filter { $0["uid"]?.stringValue != uid }
                new.setMetadata("ownerReferences", kept.isEmpty ? nil : .array(kept))
                commit(key, name, old: object, new: new)
            }
        }
    }

    /// The garbage collector and namespace controller, run to a fixpoint after every change that can matter:
    /// dependents whose owners are all gone (or being deleted in the foreground) are deleted, dangling owner
    /// references next to live owners are dropped, `foregroundDeletion` is lifted once no blocking dependent is left,
    /// and a terminating namespace is emptied and then removed.
    func collectGarbage() {
        for _ in 0..<64 {
            if !garbageCollectionPass() { return }
        }
    }

    /// One pass; returns whether it changed anything.
    private func garbageCollectionPass() -> Bool {
        var changed = false
        let background = DeleteOptions(propagation: .background)
        for (key, store) in objects {
            guard let resource = registry.preferred(key) else { continue }
            for (name, object) in store where !object.ownerReferences.isEmpty && !object.isBeingDeleted {
                let owners = object.ownerReferences.map { reference -> JSONValue? in
                    guard let uid = reference["uid"]?.stringValue, let (ownerKey, ownerName) = uidIndex[uid] else { return nil }
                    return objects[ownerKey]?[ownerName]
                }
                let living = owners.compactMap { $0 }
                let ownerInForeground = living.contains { $0.isBeingDeleted && $0.finalizers.contains(DeleteOptions.foregroundFinalizer) }
                if living.isEmpty || ownerInForeground {
                    _ = try? delete(resource, namespace: name.namespace.isEmpty ? nil : name.namespace, name: name.name, options: background)
                    changed = true
                } else if living.count < owners.count {
                    var new = object
                    let kept = zip(object.ownerReferences, owners).filter { $0.1 != nil }.map(\.0)
                    new.setMetadata("ownerReferences", .array(kept))
                    commit(key, name, old: object, new: new)
                    changed = true
                }
            }
        }
        // Foreground deletion finishes once no dependent blocks it.
        for (key, store) in objects {
            for (name, object) in store where object.isBeingDeleted && object.finalizers.contains(DeleteOptions.foregroundFinalizer) {
                guard let uid = object.uid else { continue }
                if !hasBlockingDependent(uid) {
                    var new = object
                    let rest = object.finalizers.filter { $0 != DeleteOptions.foregroundFinalizer }
                    new.setMetadata("finalizers", rest.isEmpty ? nil : .array(rest.map(JSONValue.string)))
                    if rest.isEmpty {
                        commit(key, name, old: object, new: nil)
                    } else {
                        commit(key, name, old: object, new: new)
                    }
                    changed = true
                }
            }
        }
        // Terminating namespaces: delete their content, then the namespace itself.
        for (name, namespace) in objects[.namespaces] ?? [:] where namespace.isBeingDeleted {
            var remaining = 0
            for (key, store) in objects where key != .namespaces {
                guard let resource = registry.preferred(key), resource.namespaced else { continue }
                for (objectName, object) in store where objectName.namespace == name.name {
                    remaining += 1
                    if !object.isBeingDeleted {
                        _ = try? delete(resource, namespace: name.name, name: objectName.name, options: background)
                        changed = true
                    }
                }
            }
            if remaining == 0 {
                var finalized = namespace
                finalized["spec"]?["finalizers"] = nil
                if namespace.finalizers.isEmpty {
                    commit(.namespaces, name, old: namespace, new: nil)
                } else if namespace["spec"]?["finalizers"] != nil {
                    commit(.namespaces, name, old: namespace, new: finalized)
                } else {
                    continue
                }
                changed = true
            }
        }
        return changed
    }

    private func hasBlockingDependent(_ uid: String) -> Bool {
        objects.values.contains { store in
            store.values.contains { object in
                object.ownerReferences.contains { $0["uid"]?.stringValue == uid && $0["blockOwnerDeletion"]?.boolValue == true }
            }
        }
    }

    // MARK: CustomResourceDefinitions

    func validateCRD(_ crd: JSONValue, resource: APIResource) throws(APIError) {
        let name = crd.metadataName ?? ""
        var causes: [(field: String, reason: String, message: String)] = []
        let spec = crd["spec"]
        let group = spec?["group"]?.stringValue ?? ""
        let plural = spec?["names"]?["plural"]?.stringValue ?? ""
        if group.isEmpty { causes.append(("spec.group", "FieldValueRequired", "Required value")) }
        if plural.isEmpty { causes.append(("spec.names.plural", "FieldValueRequired", "Required value")) }
        if (spec?["names"]?["kind"]?.stringValue ?? "").isEmpty { causes.append(("spec.names.kind", "FieldValueRequired", "Required value")) }
        if !group.isEmpty, !plural.isEmpty, name != "\(plural).\(group)" {
            causes.append(("metadata.name", "FieldValueInvalid", "Invalid value: \"\(name)\": must be spec.names.plural+\".\"+spec.group"))
        }
        let scope = spec?["scope"]?.stringValue ?? ""
        if scope != "Namespaced", scope != "Cluster" {
            causes.append(("spec.scope", "FieldValueNotSupported", "Unsupported value: \"\(scope)\": supported values: \"Cluster\", \"Namespaced\""))
        }
        let versions = spec?["versions"]?.arrayValue ?? []
        if versions.isEmpty {
            causes.append(("spec.versions", "FieldValueInvalid", "Invalid value: null: must have exactly one version marked as storage version"))
        }
        if versions.filter({ $0["storage"]?.boolValue == true }).count != 1, !versions.isEmpty {
            causes.append(("spec.versions", "FieldValueInvalid", "Invalid value: \(versions.count): must have exactly one version marked as storage version"))
        }
        if !causes.isEmpty { throw APIError.invalid(resource, name: name, causes: causes) }
    }

    /// What the apiextensions controllers write: accepted names and the NamesAccepted and Established conditions.
    func establish(_ crd: JSONValue) -> JSONValue {
        var copy = crd
        var scratch = registry
        let accepted = scratch.register(crd: crd) ?? crd["spec"]?["names"] ?? .object([:])
        let now = Clock.now()
        let previous = crd["status"]?["conditions"]?.arrayValue ?? []
        func condition(_ type: String, _ reason: String, _ message: String) -> JSONValue {
            let time = previous.first { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }?["lastTransitionTime"] ?? .string(now)
            return ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message), "lastTransitionTime": time]
        }
        let storedVersions = crd["spec"]?["versions"]?.arrayValue?.filter { $0["storage"]?.boolValue == true }.compactMap { $0["name"] } ?? []
        var status: [String: JSONValue] = crd["status"]?.objectValue ?? [:]
        status["acceptedNames"] = accepted
        status["conditions"] = [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ]
        let known = status["storedVersions"]?.arrayValue ?? []
        status["storedVersions"] = .array(known + storedVersions.filter { !known.contains($0) })
        copy["status"] = .object(status)
        return copy
    }
}
