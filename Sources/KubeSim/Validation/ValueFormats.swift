import Foundation

/// apimachinery's `validation.Is…` checks of strings and numbers: each returns the messages kube-apiserver prints,
/// empty when the value is fine.
enum ValueFormats {
    static let dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let dns1123SubdomainFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
    static let qualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let labelValueFormat = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
    static let configMapKeyFormat = "[-._a-zA-Z0-9]+"
    static let percentFormat = "[0-9]+%"

    static func dns1123Label(_ value: String) -> [String] {
        var messages: [String] = []
        if value.utf8.count > 63 { messages.append(maxLength(63)) }
        if !matches(value, dns1123LabelFormat) {
            if matches(value, dns1123SubdomainFormat) {
                messages.append("must not contain dots")
            } else {
                messages.append(
                    regexError(
                        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                        dns1123LabelFormat, examples: ["my-name", "123-abc"]))
            }
        }
        return messages
    }

    static func dns1123Subdomain(_ value: String) -> [String] {
        var messages: [String] = []
        if value.utf8.count > 253 { messages.append(maxLength(253)) }
        if !matches(value, dns1123SubdomainFormat) {
            messages.append(
                regexError(
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                    dns1123SubdomainFormat, examples: ["example.com"]))
        }
        return messages
    }

    /// Label and annotation keys: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters.
    static func qualifiedName(_ value: String) -> [String] {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // Built only when a message needs it: every label and annotation key of every write comes through here.
        var nameError: String {
            regexError(
                "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                qualifiedNameFormat, examples: ["MyName", "my.name", "123-abc"])
        }
        var messages: [String] = []
        let name: String
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            name = parts[1]
            if parts[0].isEmpty {
                messages.append("prefix part must be non-empty")
            } else {
                messages += dns1123Subdomain(parts[0]).map { "prefix part " + $0 }
            }
        default:
            return ["a qualified name " + nameError + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            messages.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            messages.append("name part " + maxLength(63))
        }
        if !matches(name, qualifiedNameFormat) { messages.append("name part " + nameError) }
        return messages
    }

    static func labelValue(_ value: String) -> [String] {
        var messages: [String] = []
        if value.utf8.count > 63 { messages.append(maxLength(63)) }
        if !matches(value, labelValueFormat) {
            messages.append(
                regexError(
                    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                    labelValueFormat, examples: ["MyValue", "my_value", "12345"]))
        }
        return messages
    }

    /// IANA_SVC_NAME (RFC 6335): what a named port may be called.
    static func portName(_ value: String) -> [String] {
        var messages: [String] = []
        if value.utf8.count > 15 { messages.append(maxLength(15)) }
        if !matches(value, portNameCharset) { messages.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)") }
        if !value.utf8.contains(where: { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }) {
            messages.append("must contain at least one letter (a-z)")
        }
        if value.contains("--") { messages.append("must not contain consecutive hyphens") }
        if value.hasPrefix("-") || value.hasSuffix("-") { messages.append("must not begin or end with a hyphen") }
        return messages
    }

    static func portNumber(_ value: Int64) -> [String] {
        (1...65535).contains(value) ? [] : [inclusiveRange(1, 65535)]
    }

    static func configMapKey(_ value: String) -> [String] {
        var messages: [String] = []
        if value.utf8.count > 253 { messages.append(maxLength(253)) }
        if !matches(value, configMapKeyFormat) {
            messages.append(
                regexError(
                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'", configMapKeyFormat,
                    examples: ["key.name", "KEY_NAME", "key-name"]))
        }
        if value == "." {
            messages.append("must not be '.'")
        } else if value == ".." {
            messages.append("must not be '..'")
        } else if value.hasPrefix("..") {
            messages.append("must not start with '..'")
        }
        return messages
    }

    static func percent(_ value: String) -> [String] {
        matches(value, percentFormat)
            ? [] : [regexError("a valid percent string must be a numeric string followed by an ending '%'", percentFormat, examples: ["1%", "93%"])]
    }

    /// Environment variable names since 1.30 (`RelaxedEnvironmentVariableValidation`): printable ASCII but '='.
    static func environmentVariableName(_ value: String) -> [String] {
        let printable = value.unicodeScalars.allSatisfy { (32...126).contains($0.value) && $0 != "=" }
        return printable ? [] : ["a valid environment variable name must consist only of printable ASCII characters other than '='"]
    }

    static func maxLength(_ length: Int) -> String { "must be no more than \(length) characters" }

    static func inclusiveRange(_ low: Int64, _ high: Int64) -> String { "must be between \(low) and \(high), inclusive" }

    /// `validation.RegexError`, double spaces included: `(e.g. 'a',  or 'b', regex used for validation is '…')`.
    static func regexError(_ message: String, _ format: String, examples: [String]) -> String {
        var text = message + " (e.g. "
        for (index, example) in examples.enumerated() {
            if index > 0 { text += " or " }
            text += "'\(example)', "
        }
        return text + "regex used for validation is '\(format)')"
    }

    /// Whether `value` matches one of the formats above. They are simple enough to check character by character,
    /// which keeps validation cheap on the store's actor (every write of every object passes through here).
    private static func matches(_ value: String, _ format: String) -> Bool {
        let bytes = Array(value.utf8)
        switch format {
        case dns1123LabelFormat: return isLabel(bytes[...])
        case dns1123SubdomainFormat: return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy(isLabel)
        case qualifiedNameFormat: return isQualifiedNamePart(bytes)
        case labelValueFormat: return bytes.isEmpty || isQualifiedNamePart(bytes)
        case configMapKeyFormat: return !bytes.isEmpty && bytes.allSatisfy { isAlphanumeric($0) || "-._".utf8.contains($0) }
        case percentFormat: return bytes.count > 1 && bytes.last == UInt8(ascii: "%") && bytes.dropLast().allSatisfy(isDigit)
        case portNameCharset: return !bytes.isEmpty && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        default: return value.range(of: "^(?:\(format))\\z", options: .regularExpression) != nil
        }
    }

    static let portNameCharset = "[-a-z0-9]+"

    private static func isLabel(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isLowerAlphanumeric(first) && isLowerAlphanumeric(last) && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isQualifiedNamePart(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last) && bytes.allSatisfy { isAlphanumeric($0) || "-_.".utf8.contains($0) }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool { isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool { isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
}
