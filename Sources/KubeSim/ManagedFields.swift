import KubeKit

/// One `metadata.managedFields` entry: a manager's owned fields for one operation (and subresource).
struct ManagedFieldsEntry: Sendable {
    var manager: String
    var operation: String  // "Update" or "Apply"
    var apiVersion: String
    var time: String
    var subresource: String?
    var fields: Set<FieldPath> {
        // Sets of different sizes differ at once; most writes leave most entries' fields as they were.
        didSet { if fields != oldValue { renderedFields = nil } }
    }
    /// `fields` as the `fieldsV1` it was read from, while they are unchanged.
    private var renderedFields: JSONValue?

    init(manager: String, operation: String, apiVersion: String, time: String, subresource: String?, fields: Set<FieldPath>) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource
        self.fields = fields
    }

    init?(json: JSONValue) {
        guard let manager = json["manager"]?.stringValue, let operation = json["operation"]?.stringValue else { return nil }
        self.manager = manager
        self.operation = operation
        apiVersion = json["apiVersion"]?.stringValue ?? ""
        time = json["time"]?.stringValue ?? ""
        subresource = json["subresource"]?.stringValue
        fields = json["fieldsV1"].map(FieldSet.parse(fieldsV1:)) ?? []
        renderedFields = json["fieldsV1"]
    }

    var json: JSONValue {
        var entry: [String: JSONValue] = [
            "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
            "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": renderedFields ?? FieldSet.fieldsV1(fields),
        ]
        if let subresource { entry["subresource"] = .string(subresource) }
        return .object(entry)
    }

    func isSame(as other: ManagedFieldsEntry) -> Bool {
        manager == other.manager && operation == other.operation && subresource == other.subresource
    }
}

/// Field ownership bookkeeping for non-apply writes: the writer takes ownership of what it changed.
enum ManagedFields {
    static func entries(of object: JSONValue) -> [ManagedFieldsEntry] {
        object["metadata"]?["managedFields"]?.arrayValue?.compactMap(ManagedFieldsEntry.init(json:)) ?? []
    }

    static func store(_ entries: [ManagedFieldsEntry], in object: inout JSONValue) {
        let kept = entries.filter { !$0.fields.isEmpty }
        object["metadata"]?["managedFields"] = kept.isEmpty ? nil : .array(kept.map(\.json))
    }

    /// Records an Update by `manager`: every field whose value differs between `old` and `new` moves to it.
    static func recordUpdate(
        old: JSONValue?, new: inout JSONValue, manager: String, apiVersion: String, subresource: String?,
        schema: SchemaNavigator, now: String
    ) {
        var entries = old.map(entries(of:)) ?? []
        let newLeaves = FieldSet.leaves(of: new, schema: schema)
        let newPaths = Set(newLeaves.keys)
        let changed: Set<FieldPath>
        if let old {
            let oldLeaves = FieldSet.leaves(of: old, schema: schema)
            changed = Set(newLeaves.lazy.filter { oldLeaves[$0.key] != $0.value }.map(\.key))
        } else {
            changed = newPaths
        }
        // Fields that disappeared are owned by nobody any more.
        for index in entries.indices {
            entries[index].fields = entries[index].fields.intersection(newPaths).subtracting(changed)
        }
        let mine = ManagedFieldsEntry(manager: manager, operation: "Update", apiVersion: apiVersion, time: now, subresource: subresource, fields: [])
        if let index = entries.firstIndex(where: { $0.isSame(as: mine) }) {
            if !changed.isEmpty {
                entries[index].fields.formUnion(changed)
                entries[index].time = now
                entries[index].apiVersion = apiVersion
            }
        } else if !changed.isEmpty {
            var entry = mine
            entry.fields = changed
            entries.append(entry)
        }
        store(entries, in: &new)
    }
}
