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
        let changes = FieldSet.changes(from: old, to: new, schema: schema)
        let mine = ManagedFieldsEntry(manager: manager, operation: "Update", apiVersion: apiVersion, time: now, subresource: subresource, fields: [])
        let mineIndex = entries.firstIndex { $0.isSame(as: mine) }
        // Fields that disappeared are owned by nobody any more; what changed moves to this manager. Each entry's
        // fields are assigned once, so an entry that ends as it was keeps its rendered fieldsV1.
        for index in entries.indices {
            var fields = entries[index].fields.filter { changes.keeps($0) && !changes.changed.contains($0) }
            if index == mineIndex { fields.formUnion(changes.changed) }
            entries[index].fields = fields
        }
        if let mineIndex {
            if !changes.changed.isEmpty {
                entries[mineIndex].time = now
                entries[mineIndex].apiVersion = apiVersion
            }
        } else if !changes.changed.isEmpty {
            var entry = mine
            entry.fields = changes.changed
            entries.append(entry)
        }
        store(entries, in: &new)
    }
}
