import Foundation
import KubeKit

/// kubectl's `-o` values.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, wide, yaml, json, name
}

/// An object as `-o` prints it: where it lives in the API (for `-o name` and for filling in `apiVersion` and `kind`,
/// which list items arrive without) and its JSON.
public struct PrintedObject: Sendable {
    public var descriptor: ResourceDescriptor
    public var value: JSONValue

    public init(descriptor: ResourceDescriptor, value: JSONValue) {
        self.descriptor = descriptor
        self.value = value
    }

    public init<Object: KubernetesObject>(_ object: Object) throws {
        self.init(descriptor: Object.descriptor, value: try JSONValue(encoding: object))
    }

    /// kubectl's `-o name` form: `kind.group/name`, the kind in lower case (`cluster.apps.vectorblocks.io/vectors`,
    /// `event/vectors.17f`).
    public var nameForm: String {
        Self.nameForm(descriptor, name: value["metadata"]?["name"]?.stringValue ?? "")
    }

    public static func nameForm(_ descriptor: ResourceDescriptor, name: String) -> String {
        let kind = descriptor.kind.lowercased()
        return "\(descriptor.group.isEmpty ? kind : "\(kind).\(descriptor.group)")/\(name)"
    }

    /// The object as `kubectl get -o yaml` shows it: `apiVersion` and `kind` set from its descriptor (list items
    /// arrive without them), `metadata.managedFields` left out (kubectl's `--show-managed-fields=false`).
    var complete: JSONValue {
        guard case .object(var fields) = value else { return value }
        fields["apiVersion"] = .string(descriptor.apiVersion)
        fields["kind"] = .string(descriptor.kind)
        if case .object(var metadata) = fields["metadata"] {
            metadata["managedFields"] = nil
            fields["metadata"] = .object(metadata)
        }
        return .object(fields)
    }
}

/// The one place kbctl honours `-o`: a command hands over the API objects it read or made, with how to draw its text
/// for people, and gets back what to print.
public struct Printer: Sendable {
    public let format: OutputFormat

    /// The text for `-o table` and `-o wide` (the flag says which), drawn only when one of them is asked for, so
    /// `-o yaml` makes none of the extra calls a table needs.
    public typealias Text = @Sendable (_ wide: Bool) async throws -> String

    /// `objects` printed in the format: one object bare when `single` (create, describe, a day-2 command's
    /// OpsRequest), a `List` otherwise, as kubectl prints `get NAME` and `get`.
    public func print(_ objects: [PrintedObject], single: Bool, text: Text) async throws -> String {
        switch format {
        case .table: return try await text(false)
        case .wide: return try await text(true)
        case .name: return objects.map { $0.nameForm + "\n" }.joined()
        case .yaml, .json:
            let values = objects.map(\.complete)
            let document =
                single && values.count == 1
                ? values[0] : JSONValue.object(["apiVersion": "v1", "kind": "List", "items": .array(values), "metadata": .object([:])])
            return try Self.serialise(document, as: format)
        }
    }

    /// Names only, for the commands that answer with kinds and names (install, uninstall, deletions):
    /// `kind.group/name` per line with `-o name`; otherwise `text`, or `Kind/name verb` per line without one.
    public func print(names: [(ResourceDescriptor, String)], verb: String, text: String? = nil) -> String {
        if format == .name { return names.map { PrintedObject.nameForm($0.0, name: $0.1) + "\n" }.joined() }
        return text ?? names.map { "\($0.0.kind)/\($0.1) \(verb)\n" }.joined()
    }

    static func serialise(_ document: JSONValue, as format: OutputFormat) throws -> String {
        if format == .yaml {
            // One document, without the stream's leading `---`, as kubectl prints it.
            let stream = try ManifestYAML.render([document], header: nil)
            return stream.hasPrefix("---\n") ? String(stream.dropFirst(4)) : stream
        }
        return try IndentedJSON.render(document)
    }
}
