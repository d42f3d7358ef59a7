/// A label selector, from its string form (`app=web,tier in (db,cache),!canary`) or from a `metav1.LabelSelector`,
/// matched against an object's labels. Requirements are ANDed; the empty selector matches everything.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)

        public func matches(_ labels: [String: String]) -> Bool {
            switch self {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): labels[key].map { !values.contains($0) } ?? true
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            }
        }

        var text: String {
            switch self {
            case .equals(let key, let value): "\(key)=\(value)"
            case .notEquals(let key, let value): "\(key)!=\(value)"
            case .isIn(let key, let values): "\(key) in (\(values.sorted().joined(separator: ",")))"
            case .notIn(let key, let values): "\(key) notin (\(values.sorted().joined(separator: ",")))"
            case .exists(let key): key
            case .doesNotExist(let key): "!\(key)"
            }
        }
    }

    public var requirements: [Requirement]

    public static let everything = LabelSelector(requirements: [])

    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// Exactly these labels, as `matchLabels` means.
    public init(matching labels: [String: String]) {
        requirements = labels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    /// The selector a `metav1.LabelSelector` describes (`matchLabels` and `matchExpressions`).
    public init(_ selector: MetaV1.LabelSelector) throws(LabelSelectorError) {
        var requirements = LabelSelector(matching: selector.matchLabels ?? [:]).requirements
        for (index, expression) in (selector.matchExpressions ?? []).enumerated() {
            let field = "matchExpressions[\(index)]"
            let values = Set(expression.values ?? [])
            switch expression.operator {
            case "In":
                guard !values.isEmpty else { throw LabelSelectorError("\(field).values: must be non-empty for In") }
                requirements.append(.isIn(expression.key, values))
            case "NotIn":
                guard !values.isEmpty else { throw LabelSelectorError("\(field).values: must be non-empty for NotIn") }
                requirements.append(.notIn(expression.key, values))
            case "Exists":
                guard values.isEmpty else { throw LabelSelectorError("\(field).values: must be empty for Exists") }
                requirements.append(.exists(expression.key))
            case "DoesNotExist":
                guard values.isEmpty else { throw LabelSelectorError("\(field).values: must be empty for DoesNotExist") }
                requirements.append(.doesNotExist(expression.key))
            default:
                throw LabelSelectorError(
                    "\(field).operator: \"\(expression.operator)\" is not one of In, NotIn, Exists, DoesNotExist")
            }
        }
        self.requirements = requirements
    }

    /// Parses the string form the API takes in `?labelSelector=`.
    public init(parsing text: String) throws(LabelSelectorError) {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let clause = Self.trim(Substring(term))
            if clause.isEmpty { continue }
            if let range = clause.range(of: " notin ") ?? clause.range(of: " in ") {
                let key = Self.trim(clause[..<range.lowerBound])
                let isNotIn = clause[range].contains("notin")
                let list = Self.trim(clause[range.upperBound...])
                guard list.hasPrefix("("), list.hasSuffix(")"), !key.isEmpty else {
                    throw LabelSelectorError("unable to parse requirement \"\(clause)\": expected a list such as (a,b)")
                }
                let values = Set(list.dropFirst().dropLast().split(separator: ",").map { Self.trim($0) })
                try Self.check(key: key, in: clause)
                requirements.append(isNotIn ? .notIn(key, values) : .isIn(key, values))
            } else if let range = clause.range(of: "!=") {
                let key = Self.trim(clause[..<range.lowerBound])
                try Self.check(key: key, in: clause)
                requirements.append(.notEquals(key, Self.trim(clause[range.upperBound...])))
            } else if let range = clause.range(of: "==") ?? clause.range(of: "=") {
                let key = Self.trim(clause[..<range.lowerBound])
                try Self.check(key: key, in: clause)
                requirements.append(.equals(key, Self.trim(clause[range.upperBound...])))
            } else if clause.hasPrefix("!") {
                let key = Self.trim(clause.dropFirst())
                try Self.check(key: key, in: clause)
                requirements.append(.doesNotExist(key))
            } else {
                try Self.check(key: clause, in: clause)
                requirements.append(.exists(clause))
            }
        }
        self.requirements = requirements
    }

    public func matches(_ labels: [String: String]?) -> Bool {
        let labels = labels ?? [:]
        return requirements.allSatisfy { $0.matches(labels) }
    }

    public var isEverything: Bool { requirements.isEmpty }

    /// The string form, to send as `?labelSelector=`.
    public var description: String { requirements.map(\.text).joined(separator: ",") }

    private static func check(key: String, in clause: String) throws(LabelSelectorError) {
        guard !key.isEmpty, !key.contains(where: { $0 == " " || $0 == "(" || $0 == ")" || $0 == "!" }) else {
            throw LabelSelectorError("unable to parse requirement \"\(clause)\": invalid label key \"\(key)\"")
        }
    }

    private static func trim(_ text: Substring) -> String {
        String(text.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }

    /// Splits on commas outside parentheses.
    private static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        terms.append(current)
        return terms
    }
}

public struct LabelSelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
