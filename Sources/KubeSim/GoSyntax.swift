import Foundation
import KubeKit

/// Values printed the way kube-apiserver's Go code prints them in error messages (`%q`, `%+v`, `%#v`), so that
/// KubeSim's messages read exactly like the real server's.
enum GoSyntax {
    /// `strconv.Quote`.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += String(format: "\\x%02x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// `%+v` of a decoded JSON value (`map[string]interface{}`): `map[spec:map[replicas:3]]`.
    static func plusV(_ value: JSONValue) -> String {
        switch value {
        case .null: "<nil>"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): float(number)
        case .string(let text): text
        case .array(let items): "[" + items.map(plusV).joined(separator: " ") + "]"
        case .object(let members): "map[" + members.sorted { $0.key < $1.key }.map { "\($0.key):\(plusV($0.value))" }.joined(separator: " ") + "]"
        }
    }

    /// `%#v` of a `map[string]string`: `map[string]string{"app":"web", "tier":"db"}`.
    static func stringMap(_ map: [String: String]?) -> String {
        guard let map else { return "map[string]string(nil)" }
        return "map[string]string{" + map.sorted { $0.key < $1.key }.map { "\(quoted($0.key)):\(quoted($0.value))" }.joined(separator: ", ") + "}"
    }

    /// `%#v` of a `metav1.LabelSelector`.
    static func labelSelector(_ selector: JSONValue?) -> String {
        let labels = selector?["matchLabels"]?.objectValue?.compactMapValues(\.stringValue)
        let expressions = selector?["matchExpressions"]?.arrayValue
        let renderedExpressions: String
        if let expressions {
            renderedExpressions =
                "[]v1.LabelSelectorRequirement{"
                + expressions.map { requirement in
                    let values = requirement["values"]?.arrayValue?.compactMap(\.stringValue)
                    let renderedValues = values.map { "[]string{" + $0.map(quoted).joined(separator: ", ") + "}" } ?? "[]string(nil)"
                    return
                        "v1.LabelSelectorRequirement{Key:\(quoted(requirement["key"]?.stringValue ?? "")), Operator:\(quoted(requirement["operator"]?.stringValue ?? "")), Values:\(renderedValues)}"
                }.joined(separator: ", ") + "}"
        } else {
            renderedExpressions = "[]v1.LabelSelectorRequirement(nil)"
        }
        return "v1.LabelSelector{MatchLabels:\(stringMap(labels)), MatchExpressions:\(renderedExpressions)}"
    }

    /// `%v` of a float64: shortest form, exponent from 1e21.
    private static func float(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e21 { return String(format: "%.0f", number) }
        return String(number)
    }
}
