import Foundation
import KubeKit

/// The kinds of PATCH the server accepts.
enum PatchKind: Sendable {
    case merge
    case json
    case apply(force: Bool)
    case strategic
}

extension ClusterStore {
    // MARK: Create

    func create(_ resource: APIResource, namespace: String?, body: JSONValue, context: WriteContext) throws(APIError) -> JSONValue {
        var object = try decodeBuiltin(checkedBody(body, for: resource, namespace: namespace), resource: resource, context: context, via: .body)
        var name = object.metadataName ?? ""
        if name.isEmpty, let prefix = object["metadata"]?["generateName"]?.stringValue, !prefix.isEmpty {
            name = prefix + NameValidation.generatedSuffix()
            object.setMetadata("name", .string(name))
        }
        if name.isEmpty {
            throw APIError.invalid(resource, name: "", causes: [("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")])
        }
        let nameProblems = NameValidation.problems(with: name, for: resource)
        if !nameProblems.isEmpty {
            throw APIError.invalid(
                resource, name: name, causes: nameProblems.map { ("metadata.name", "FieldValueInvalid", "Invalid value: \"\(name)\": \($0)") })
        }
        if resource.key == .customResourceDefinitions {
            try validateCRD(object, resource: resource)
        }
        let objectName = ObjectName(namespace: resource.namespaced ? (namespace ?? "") : "", name: name)
        if resource.namespaced {
            guard let namespaceObject = objects[.namespaces]?[ObjectName(namespace: "", name: objectName.namespace)] else {
                throw APIError(
                    code: 404, reason: "NotFound", message: "namespaces \"\(objectName.namespace)\" not found",
                    details: APIError.details(name: objectName.namespace, group: "", kind: "namespaces"))
            }
            if namespaceObject.isBeingDeleted {
                throw APIError(
                    code: 403, reason: "Forbidden",
                    message:
                        "\(resource.qualifiedResource) \"\(name)\" is forbidden: unable to create new content in namespace \(objectName.namespace) because it is being terminated",
                    details: APIError.details(
                        name: name, group: resource.group, kind: resource.plural,
                        causes: [
                            [
                                "reason": "NamespaceTerminating", "message": .string("namespace \(objectName.namespace) is being terminated"),
                                "field": "metadata.namespace",
                            ]
                        ]))
            }
        }
        if objects[resource.key]?[objectName] != nil {
            throw APIError.alreadyExists(resource, name: name)
        }
        let now = Clock.now()
        for field in ["uid", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"] {
            object["metadata"]?[field] = nil
        }
        object.setMetadata("uid", .string(UUID().uuidString.lowercased()))
        object.setMetadata("creationTimestamp", .string(now))
        object.setMetadata("generation", .int(1))
        if resource.hasStatus { object["status"] = nil }
        applyCreateDefaults(&object, resource: resource)
        if !resource.namespaced { object["metadata"]?["namespace"] = nil }
        ManagedFields.recordUpdate(
            old: nil, new: &object, manager: context.manager, apiVersion: resource.apiVersion,
            subresource: nil, schema: SchemaNavigator(resource: resource), now: now)
        return try finishCreate(resource, objectName, object, context: context)
    }

    /// Stores a prepared new object (shared by POST and by server-side apply of an absent object).
    func finishCreate(_ resource: APIResource, _ objectName: ObjectName, _ prepared: JSONValue, context: WriteContext) throws(APIError) -> JSONValue {
        var object = try admitBuiltin(admitCustomResource(prepared, old: nil, resource: resource), old: nil, resource: resource)
        if resource.key == .customResourceDefinitions {
            object = establish(object)
        }
        if context.dryRun {
            object.setMetadata("resourceVersion", .string(String(currentResourceVersion())))
            return present(object, as: resource)
        }
        let stored = commit(resource.key, objectName, old: nil, new: object) ?? object
        if resource.key == .customResourceDefinitions { updateRegistry(forCRD: stored, removedName: nil) }
        return present(stored, as: resource)
    }

    /// Checks the body's kind, apiVersion and namespace against the request URL, filling them in when absent.
    func checkedBody(_ body: JSONValue, for resource: APIResource, namespace: String?) throws(APIError) -> JSONValue {
        guard case .object = body else {
            throw APIError.badRequest("the body of the request was not a JSON object")
        }
        var object = body
        if let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != resource.apiVersion {
            throw APIError.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(resource.apiVersion))")
        }
        if let kind = object["kind"]?.stringValue, !kind.isEmpty, kind != resource.kind {
            throw APIError.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(resource.kind))")
        }
        object["apiVersion"] = .string(resource.apiVersion)
        object["kind"] = .string(resource.kind)
        if object["metadata"]?.objectValue == nil { object["metadata"] = .object([:]) }
        if resource.namespaced {
            if let given = object.metadataNamespace, !given.isEmpty, given != namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            if let namespace { object.setMetadata("namespace", .string(namespace)) }
        }
        return object
    }

    /// Defaults the real server's create strategies apply.
    private func applyCreateDefaults(_ object: inout JSONValue, resource: APIResource) {
        switch (resource.group, resource.plural) {
        case ("", "namespaces"):
            var labels = object["metadata"]?["labels"]?.objectValue ?? [:]
            if let name = object.metadataName { labels["kubernetes.io/metadata.name"] = .string(name) }
            object.setMetadata("labels", .object(labels))
            if object["spec"]?["finalizers"] == nil { object["spec"] = ["finalizers": ["kubernetes"]] }
            object["status"] = ["phase": "Active"]
        case ("", "pods"):
            object["status"] = ["phase": "Pending", "qosClass": "BestEffort"]
            if serviceAccountAdmission { admitServiceAccount(&object) }
        case ("", "services"):
            ServiceDefaults.applyOnCreate(&object, allocator: &serviceAddresses)
        case ("apps", _):
            WorkloadDefaults.apply(&object, resource: resource)
        default:
            break
        }
    }

    // MARK: Update (PUT)

    func update(
        _ resource: APIResource, namespace: String?, name: String, body: JSONValue, subresource: String?, context: WriteContext
    ) throws(APIError) -> JSONValue {
        let candidate = try decodeBuiltin(checkedBody(body, for: resource, namespace: namespace), resource: resource, context: context, via: .body)
        if let given = candidate.metadataName, given != name {
            throw APIError.badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        let objectName = ObjectName(namespace: resource.namespaced ? (namespace ?? "") : "", name: name)
        guard let old = objects[resource.key]?[objectName] else {
            throw APIError.notFound(resource, name: name)
        }
        if let given = candidate.resourceVersionString, !given.isEmpty, given != old.resourceVersionString {
            throw APIError.conflict(resource, name: name, detail: "the object has been modified; please apply your changes to the latest version and try again")
        }
        if let uid = candidate.uid, !uid.isEmpty, uid != old.uid {
            throw APIError.conflict(resource, name: name, detail: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.uid ?? "")")
        }
        var new = merged(candidate: candidate, onto: old, resource: resource, subresource: subresource)
        ManagedFields.recordUpdate(
            old: old, new: &new, manager: context.manager, apiVersion: resource.apiVersion,
            subresource: subresource, schema: SchemaNavigator(resource: resource), now: Clock.now())
        return try finishUpdate(resource, objectName, old: old, new: new, context: context)
    }

    // MARK: Patch

    func patch(
        _ resource: APIResource, namespace: String?, name: String, patch: JSONValue, kind: PatchKind, subresource: String?,
        context: WriteContext
    ) throws(APIError) -> (object: JSONValue, created: Bool) {
        let objectName = ObjectName(namespace: resource.namespaced ? (namespace ?? "") : "", name: name)
        let old = objects[resource.key]?[objectName]
        let schema = SchemaNavigator(resource: resource)
        let now = Clock.now()
        switch kind {
        case .strategic where resource.definition == nil:
            throw APIError.unsupportedMediaType("application/strategic-merge-patch+json")
        case .merge, .json, .strategic:
            guard let old else { throw APIError.notFound(resource, name: name) }
            var patched: JSONValue
            if case .merge = kind {
                guard case .object = patch else { throw APIError.badRequest("merge patch must be a JSON object") }
                patched = MergePatch.apply(patch, to: present(old, as: resource))
            } else if case .strategic = kind {
                guard case .object = patch else { throw APIError.badRequest("strategic merge patch must be a JSON object") }
                patched = StrategicMergePatch(schema: schema).apply(patch, to: present(old, as: resource))
            } else {
                do {
                    patched = try JSONPatch.apply(patch, to: present(old, as: resource))
                } catch {
                    if error.isTestFailure {
                        throw APIError(
                            code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \(error.message)")
                    }
                    throw APIError(code: 422, reason: "Invalid", message: error.message)
                }
            }
            let candidate = try decodeBuiltin(
                checkedBody(patched, for: resource, namespace: namespace), resource: resource,
                context: context, via: .patch(kind, patch: patch))
            if candidate.metadataName != name {
                throw APIError.badRequest("the name of the object (\(candidate.metadataName ?? "")) does not match the name on the URL (\(name))")
            }
            if let given = candidate.resourceVersionString, given != old.resourceVersionString {
                throw APIError.conflict(
                    resource, name: name, detail: "the object has been modified; please apply your changes to the latest version and try again")
            }
            var new = merged(candidate: candidate, onto: old, resource: resource, subresource: subresource)
            ManagedFields.recordUpdate(
                old: old, new: &new, manager: context.manager, apiVersion: resource.apiVersion,
                subresource: subresource, schema: schema, now: now)
            return (try finishUpdate(resource, objectName, old: old, new: new, context: context), false)
        case .apply(let force):
            var config = try checkedBody(patch, for: resource, namespace: namespace)
            // Apply keeps the configuration as sent (a null there removes a field); the decoder only judges it.
            _ = try decodeBuiltin(config, resource: resource, context: context, via: .apply)
            if config.metadataName != name {
                throw APIError.badRequest("the name of the object (\(config.metadataName ?? "")) does not match the name on the URL (\(name))")
            }
            if config["metadata"]?["managedFields"] != nil {
                throw APIError.badRequest("metadata.managedFields must be nil")
            }
            if context.manager.isEmpty {
                throw APIError(code: 400, reason: "BadRequest", message: "PATCH, application/apply-patch+yaml requests must have a fieldManager")
            }
            if resource.hasStatus {
                if subresource == "status" {
                    let status: JSONValue = config["status"] ?? .object([:])
                    config = .object([
                        "apiVersion": .string(resource.apiVersion), "kind": .string(resource.kind),
                        "metadata": ["name": .string(name)], "status": status,
                    ])
                } else {
                    config["status"] = nil
                }
            }
            let ssa = ServerSideApply(schema: schema)
            guard let old else {
                if subresource != nil { throw APIError.notFound(resource, name: name) }
                var fresh = config
                fresh["metadata"]?["managedFields"] = nil
                var created = try create(resource, namespace: namespace, body: fresh, context: WriteContext(manager: "", dryRun: true))
                created["metadata"]?["managedFields"] = nil
                created["metadata"]?["resourceVersion"] = nil
                let entry = ManagedFieldsEntry(
                    manager: context.manager, operation: "Apply", apiVersion: resource.apiVersion,
                    time: now, subresource: nil, fields: FieldSet.paths(of: config, schema: schema))
                ManagedFields.store([entry], in: &created)
                return (try finishCreate(resource, objectName, created, context: context), true)
            }
            if let given = config.resourceVersionString, !given.isEmpty, given != old.resourceVersionString {
                throw APIError.conflict(
                    resource, name: name, detail: "the object has been modified; please apply your changes to the latest version and try again")
            }
            config["metadata"]?["resourceVersion"] = nil
            switch ssa.apply(
                config: config, to: present(old, as: resource), manager: context.manager,
                apiVersion: resource.apiVersion, subresource: subresource, force: force, now: now)
            {
            case .failure(let conflicts):
                throw Self.applyConflict(conflicts.items, resource: resource, name: name)
            case .success(let applied):
                var new = merged(candidate: applied, onto: old, resource: resource, subresource: subresource)
                new["metadata"]?["managedFields"] = applied["metadata"]?["managedFields"]
                return (try finishUpdate(resource, objectName, old: old, new: new, context: context), false)
            }
        }
    }

    static func applyConflict(_ conflicts: [ServerSideApply.Conflict], resource: APIResource, name: String) -> APIError {
        let causes: [JSONValue] = conflicts.map { conflict in
            [
                "reason": "FieldManagerConflict", "message": .string("conflict with \"\(conflict.manager)\" using \(conflict.apiVersion)"),
                "field": .string(FieldSet.describe(conflict.path)),
            ]
        }
        let message: String
        if conflicts.count == 1, let only = conflicts.first {
            message = "Apply failed with 1 conflict: conflict with \"\(only.manager)\" using \(only.apiVersion): \(FieldSet.describe(only.path))"
        } else {
            let byManager = Dictionary(grouping: conflicts, by: \.manager).sorted { $0.key < $1.key }
            let parts = byManager.map { manager, items in
                "conflicts with \"\(manager)\" using \(items.first?.apiVersion ?? ""):\n"
                    + items.map { "- " + FieldSet.describe($0.path) }.joined(separator: "\n")
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + parts.joined(separator: "\n")
        }
        return APIError(
            code: 409, reason: "Conflict", message: message,
            details: APIError.details(name: name, group: resource.group, kind: resource.plural, causes: causes))
    }

    // MARK: Shared update steps

    /// The object a write produces from its candidate: server-owned metadata kept, status or everything-but-status
    /// kept for kinds with a status subresource, generation bumped when the spec part changed.
    func merged(candidate: JSONValue, onto old: JSONValue, resource: APIResource, subresource: String?) -> JSONValue {
        var new: JSONValue
        if resource.hasStatus, subresource == "status" {
            new = old
            new["status"] = candidate["status"]
        } else {
            new = candidate
            if resource.hasStatus { new["status"] = old["status"] }
            for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name"] {
                new["metadata"]?[field] = old["metadata"]?[field]
            }
            if new["metadata"]?["managedFields"] == nil || new["metadata"]?["managedFields"] == .array([]) {
                new["metadata"]?["managedFields"] = old["metadata"]?["managedFields"]
            }
            if old.isBeingDeleted {
                // Finalizers may only be removed from an object that is being deleted.
                let kept = new.finalizers.filter { old.finalizers.contains($0) }
                new["metadata"]?["finalizers"] = kept.isEmpty ? nil : .array(kept.map(JSONValue.string))
            }
        }
        if resource.key == .namespaces, subresource != "status" { new["status"] = old["status"] }
        if resource.group.isEmpty, resource.plural == "services" { ServiceDefaults.keepAllocated(&new, from: old) }
        if subresource != "status" { WorkloadDefaults.apply(&new, resource: resource) }
        var oldComparable = old
        oldComparable["apiVersion"] = new["apiVersion"]
        if new.specPart != oldComparable.specPart {
            let generation = old["metadata"]?["generation"]?.intValue ?? 1
            new.setMetadata("generation", .int(generation + 1))
        }
        return new
    }

    /// Commits an update unless it changes nothing, then removes an object whose last finalizer went while it was
    /// being deleted, and lets the garbage collector react.
    func finishUpdate(_ resource: APIResource, _ objectName: ObjectName, old: JSONValue, new: JSONValue, context: WriteContext) throws(APIError) -> JSONValue {
        var new = try admitBuiltin(admitCustomResource(new, old: old, resource: resource), old: old, resource: resource)
        try PersistentVolumeClaimValidation.checkUpdate(new, old: old, resource: resource)
        if resource.key == .customResourceDefinitions {
            try validateCRD(new, resource: resource)
            new = establish(new)
        }
        var oldComparable = old
        oldComparable["apiVersion"] = new["apiVersion"]
        let unchanged =
            new.withoutBookkeeping == oldComparable.withoutBookkeeping
            && Set(
                ManagedFields.entries(of: new).map {
                    [$0.manager, $0.operation, $0.subresource ?? ""] + $0.fields.map { $0.joined(separator: "\u{1}") }.sorted()
                })
                == Set(
                    ManagedFields.entries(of: old).map {
                        [$0.manager, $0.operation, $0.subresource ?? ""] + $0.fields.map { $0.joined(separator: "\u{1}") }.sorted()
                    })
        if unchanged { return present(old, as: resource) }
        if context.dryRun {
            return present(new, as: resource)
        }
        if new.isBeingDeleted, new.finalizers.isEmpty {
            commit(resource.key, objectName, old: old, new: nil)
            afterRemoval(resource.key, old)
            var gone = new
            gone.setMetadata("resourceVersion", .string(String(currentResourceVersion())))
            return present(gone, as: resource)
        }
        let stored = commit(resource.key, objectName, old: old, new: new) ?? new
        if resource.key == .customResourceDefinitions { updateRegistry(forCRD: stored, removedName: old.metadataName) }
        if mayFreeGarbage(old: old, new: new) { collectGarbage() }
        return present(stored, as: resource)
    }

    /// Whether an update can change a verdict of the garbage collector, whose pass looks at every object. Only a
    /// deletion starting, the finalizers of an object being deleted, or owners of which one is gone or going can: a
    /// status or spec write, a finalizer added to a live object (an operator's first reconcile of each of its
    /// objects), or owners that all stand leave every verdict as it was.
    func mayFreeGarbage(old: JSONValue, new: JSONValue) -> Bool {
        if old.isBeingDeleted != new.isBeingDeleted { return true }
        if new.isBeingDeleted, old.finalizers != new.finalizers { return true }
        guard old.ownerReferences != new.ownerReferences else { return false }
        // An owner gone makes this object garbage; an owner being deleted may wait for it (foreground) or stop waiting.
        return (old.ownerReferences + new.ownerReferences).contains { reference in
            guard let uid = reference["uid"]?.stringValue, let (key, name) = uidIndex[uid], let owner = objects[key]?[name] else { return true }
            return owner.isBeingDeleted
        }
    }
}
