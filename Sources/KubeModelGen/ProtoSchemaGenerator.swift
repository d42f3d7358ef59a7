import Foundation
import JSONValues

/// Reads Kubernetes' `generated.proto` files and writes what a protobuf codec needs of them as data: every message
/// with its fields (number, JSON name, type, label). KubeSim decodes and encodes `application/vnd.kubernetes.protobuf`
/// bodies from this, so the field table comes from the upstream definitions, not from a hand-written list.
public enum ProtoSchemaGenerator {
    public struct ParseError: Error, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var text: String
        public var description: String { "\(file):\(line): cannot read \"\(text)\" as a proto2 field, message or map" }
    }

    static let scalarTypes: Set<String> = [
        "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32",
        "sfixed64", "bool", "string", "bytes",
    ]

    /// The schema of every `.proto` file under `root`, as sorted, indented JSON. Field names are the JSON names of
    /// the OpenAPI document's matching definition (`swagger`): a few proto names differ in case (`uID` is `uid`).
    public static func generate(protoRoot root: URL, swagger: Data) throws -> String {
        let definitions = try JSONDecoder().decode(JSONValue.self, from: swagger)["definitions"]?.objectValue ?? [:]
        var messages: [String: JSONValue] = [:]
        let files =
            FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "proto" }.sorted { $0.path < $1.path } ?? []
        for file in files {
            let relative = String(file.path.dropFirst(root.path.count + 1))
            for message in try parse(String(contentsOf: file, encoding: .utf8), file: relative) {
                let properties = definitions[openAPIName(message.name)]?["properties"]?.objectValue ?? [:]
                let fields = message.fields.map { field in
                    var field = field
                    if let name = field["name"]?.stringValue, properties[name] == nil,
                        let jsonName = properties.keys.first(where: { $0.lowercased() == name.lowercased() })
                    {
                        field["name"] = .string(jsonName)
                    }
                    return field
                }
                var entry: [String: JSONValue] = ["fields": .array(fields)]
                if message.masksSlice { entry["slice"] = true }
                messages[message.name] = .object(entry)
            }
        }
        let document: JSONValue = [
            "source": "../shared/reference/kubernetes/proto (Kubernetes 1.36), by kube-model-gen proto",
            "messages": .object(messages),
        ]
        return document.indentedText + "\n"
    }

    /// `k8s.io.api.core.v1.Pod` is `io.k8s.api.core.v1.Pod` in the OpenAPI document.
    static func openAPIName(_ protoName: String) -> String {
        protoName.hasPrefix("k8s.io.") ? "io.k8s." + protoName.dropFirst("k8s.io.".count) : protoName
    }

    struct Message {
        var name: String
        var fields: [JSONValue] = []
        /// `+protobuf.nullable=true`: the message stands for a Go slice (`Verbs`, `ExtraValue`), a JSON array.
        var masksSlice = false
    }

    /// The messages of one file, each with its fields.
    static func parse(_ text: String, file: String) throws -> [Message] {
        var package = ""
        var messages: [Message] = []
        var current: Message?
        var comment: [String] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("//") {
                comment.append(String(line.dropFirst(2)))
                continue
            }
            defer { if !line.isEmpty { comment = [] } }
            if line.hasPrefix("package ") {
                package = line.dropFirst("package ".count).trimmingCharacters(in: CharacterSet(charactersIn: "; "))
            } else if line.hasPrefix("message ") {
                let name = line.dropFirst("message ".count).split(separator: " ").first.map(String.init) ?? ""
                let nullable = comment.contains { $0.trimmingCharacters(in: .whitespaces) == "+protobuf.nullable=true" }
                current = Message(name: "\(package).\(name)", masksSlice: nullable)
            } else if line == "}" {
                if let finished = current { messages.append(finished) }
                current = nil
            } else if current != nil, !line.isEmpty {
                guard let field = field(line, package: package, comment: comment) else {
                    throw ParseError(file: file, line: index + 1, text: line)
                }
                current?.fields.append(field)
                if field["name"]?.stringValue != "items" || field["label"]?.stringValue != "repeated" { current?.masksSlice = false }
            }
        }
        return messages
    }

    /// `optional Type name = N;`, `repeated Type name = N;` or `map<K, V> name = N;`.
    static func field(_ line: String, package: String, comment: [String]) -> JSONValue? {
        guard line.hasSuffix(";"), let equals = line.firstIndex(of: "=") else { return nil }
        guard let number = Int64(line[line.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "; "))) else { return nil }
        let declaration = line[..<equals].trimmingCharacters(in: .whitespaces)
        var field: [String: JSONValue] = ["number": .int(number)]
        if declaration.hasPrefix("map<"), let close = declaration.firstIndex(of: ">") {
            let types = declaration[declaration.index(declaration.startIndex, offsetBy: 4)..<close].split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard types.count == 2 else { return nil }
            field["label"] = "map"
            field["keyType"] = .string(types[0])
            field["type"] = .string(resolve(types[1], package: package))
            field["name"] = .string(declaration[declaration.index(after: close)...].trimmingCharacters(in: .whitespaces))
            return .object(field)
        }
        let parts = declaration.split(separator: " ").map(String.init)
        guard parts.count == 3, ["optional", "repeated", "required"].contains(parts[0]) else { return nil }
        field["label"] = .string(parts[0])
        field["type"] = .string(resolve(parts[1], package: package))
        field["name"] = .string(parts[2])
        let notes = comment.map { $0.trimmingCharacters(in: .whitespaces) }
        if notes.contains("+optional") { field["optional"] = true }
        // Go marshals a non-pointer field even when it is zero, where JSON would omit it; a pointer's explicit zero
        // (replicas: 0) is meant. The upstream comments say which optional numbers are pointers.
        if notes.contains(where: { $0.contains("pointer") }) { field["keepZero"] = true }
        return .object(field)
    }

    static func resolve(_ type: String, package: String) -> String {
        if scalarTypes.contains(type) { return type }
        if type.hasPrefix(".") { return String(type.dropFirst()) }
        return "\(package).\(type)"
    }
}
