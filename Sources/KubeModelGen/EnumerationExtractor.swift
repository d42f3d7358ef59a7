import Foundation
import JSONValues

/// Reads the values an enumerated field accepts out of the upstream OpenAPI document's descriptions.
///
/// The Kubernetes v2 document carries no `enum` arrays; its descriptions list the values in prose ("Valid options
/// are ExternalName, ClusterIP, NodePort, and LoadBalancer"). KubeSim's built-in validation reads the values from
/// the file this writes, so they come from the reference rather than from a hand-typed table. Each field names the
/// phrase its list follows; a phrase that no longer occurs, or a list that comes out empty, fails the generation.
public enum EnumerationExtractor {
    /// Where in a field's description its values are.
    public enum Source: Sendable {
        /// The sentence after `phrase` lists them: quoted (`"TCP"`, `'None'`, `` `Parallel` ``) or bare words.
        case listAfter(String)
        /// Each phrase is followed by one quoted value ("If set to \"Local\" … The default value, \"Cluster\"").
        case quotedAfter([String])
    }

    public struct Field: Sendable {
        /// `io.k8s.api.core.v1.ServiceSpec`
        public var definition: String
        public var property: String
        public var source: Source
    }

    public struct ExtractionError: Error, CustomStringConvertible {
        public var field: String
        public var problem: String
        public var description: String { "\(field): \(problem)" }
    }

    /// The enumerated fields KubeSim validates whose description lists their values.
    public static let fields: [Field] = [
        Field(definition: "io.k8s.api.core.v1.ServiceSpec", property: "type", source: .listAfter("Valid options are")),
        Field(definition: "io.k8s.api.core.v1.ServiceSpec", property: "ipFamilyPolicy", source: .listAfter("Services can be")),
        Field(
            definition: "io.k8s.api.core.v1.ServiceSpec", property: "internalTrafficPolicy",
            source: .quotedAfter(["If set to", "The default value,"])),
        Field(
            definition: "io.k8s.api.core.v1.ServiceSpec", property: "externalTrafficPolicy",
            source: .quotedAfter(["If set to", "The default value,"])),
        Field(definition: "io.k8s.api.core.v1.ServiceSpec", property: "sessionAffinity", source: .listAfter("Supports")),
        Field(definition: "io.k8s.api.core.v1.ServiceSpec", property: "ipFamilies", source: .listAfter("Valid values are")),
        Field(definition: "io.k8s.api.core.v1.ServicePort", property: "protocol", source: .listAfter("Supports")),
        Field(definition: "io.k8s.api.core.v1.ContainerPort", property: "protocol", source: .listAfter("Must be")),
        Field(definition: "io.k8s.api.core.v1.Container", property: "imagePullPolicy", source: .listAfter("One of")),
        Field(definition: "io.k8s.api.core.v1.PodSpec", property: "restartPolicy", source: .listAfter("One of")),
        Field(definition: "io.k8s.api.core.v1.PodSpec", property: "dnsPolicy", source: .listAfter("Valid values are")),
        Field(definition: "io.k8s.api.core.v1.PodSpec", property: "preemptionPolicy", source: .listAfter("One of")),
        Field(
            definition: "io.k8s.api.policy.v1.PodDisruptionBudgetSpec", property: "unhealthyPodEvictionPolicy",
            source: .listAfter("Valid policies are")),
        Field(
            definition: "io.k8s.api.apps.v1.StatefulSetSpec", property: "podManagementPolicy",
            source: .quotedAfter(["The default policy is", "The alternative policy is"])),
        Field(definition: "io.k8s.api.apps.v1.DeploymentStrategy", property: "type", source: .listAfter("Can be")),
        Field(
            definition: "io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy", property: "whenDeleted",
            source: .quotedAfter(["The default policy of", "causes PVCs to not be affected by"])),
        Field(
            definition: "io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy", property: "whenScaled",
            source: .quotedAfter(["The default policy of", "causes PVCs to not be affected by"])),
        Field(definition: "io.k8s.api.batch.v1.JobSpec", property: "completionMode", source: .listAfter("It can be")),
        Field(definition: "io.k8s.api.autoscaling.v2.MetricSpec", property: "type", source: .listAfter("should be one of")),
        Field(definition: "io.k8s.api.autoscaling.v2.MetricTarget", property: "type", source: .listAfter("the metric type is")),
    ]

    /// `{"io.k8s.api.core.v1.ServicePort.protocol": ["TCP", "UDP", "SCTP"], …}` as sorted, indented JSON. Each list keeps
    /// the description's order, which is the order of a few of kube-apiserver's messages (`restartPolicy`,
    /// `dnsPolicy`); the others sort them (`sets.List`), which KubeSim does when it prints them.
    public static func generate(swagger: Data, fields: [Field] = fields) throws -> String {
        let definitions = try JSONDecoder().decode(JSONValue.self, from: swagger)["definitions"]?.objectValue ?? [:]
        var table: [String: JSONValue] = [:]
        for field in fields {
            let name = "\(field.definition).\(field.property)"
            guard let description = definitions[field.definition]?["properties"]?[field.property]?["description"]?.stringValue else {
                throw ExtractionError(field: name, problem: "the document has no description for this property")
            }
            let values = try extract(from: description, source: field.source, field: name)
            table[name] = .array(values.map(JSONValue.string))
        }
        return JSONValue.object(table).indentedText + "\n"
    }

    static func extract(from description: String, source: Source, field: String) throws -> [String] {
        var values: [String] = []
        switch source {
        case .listAfter(let phrase):
            guard let range = description.range(of: phrase) else {
                throw ExtractionError(field: field, problem: "the description no longer says \"\(phrase)\"")
            }
            let sentence = withoutParentheses(firstSentence(of: description[range.upperBound...]))
            let quoted = quotedWords(in: sentence)
            values = quoted.isEmpty ? bareWords(in: sentence) : quoted
        case .quotedAfter(let phrases):
            for phrase in phrases {
                guard let range = description.range(of: phrase), let value = quotedWords(in: description[range.upperBound...]).first else {
                    throw ExtractionError(field: field, problem: "no quoted value follows \"\(phrase)\"")
                }
                values.append(value)
            }
        }
        var unique: [String] = []
        for value in values where !unique.contains(value) { unique.append(value) }
        if unique.isEmpty { throw ExtractionError(field: field, problem: "the description lists no values") }
        return unique
    }

    /// Up to the first full stop that ends a sentence (followed by white space or the end), or the end of the text.
    private static func firstSentence(of text: Substring) -> Substring {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "." {
                let next = text.index(after: index)
                if next == text.endIndex || text[next].isWhitespace { return text[text.startIndex..<index] }
            }
            index = text.index(after: index)
        }
        return text
    }

    /// Asides such as `"SingleStack" (a single IP family)` name no values.
    private static func withoutParentheses(_ text: Substring) -> String {
        var depth = 0
        var kept = ""
        for character in text {
            if character == "(" {
                depth += 1
            } else if character == ")" {
                depth = max(0, depth - 1)
            } else if depth == 0 {
                kept.append(character)
            }
        }
        return kept
    }

    private static func quotedWords<S: StringProtocol>(in text: S) -> [String] {
        var words: [String] = []
        var open: Character?
        var current = ""
        for character in text {
            if let quote = open {
                if character == quote {
                    if isIdentifier(current) { words.append(current) }
                    open = nil
                    current = ""
                } else {
                    current.append(character)
                }
            } else if character == "\"" || character == "'" || character == "`" {
                open = character
            }
        }
        return words
    }

    private static func bareWords(in text: String) -> [String] {
        let connectives: Set<String> = ["and", "or", "either"]
        return text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            .filter { !connectives.contains($0) && isIdentifier($0) }
    }

    private static func isIdentifier(_ word: String) -> Bool {
        guard let first = word.first, first.isLetter else { return false }
        return word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}
