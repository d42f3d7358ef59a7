/// One problem with a resource: where it is (`spec.componentSpecs[0].replicas`, as the API server writes field
/// paths), what is wrong, and what to do about it.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var fix: String

    public init(field: String, message: String, fix: String) {
        self.field = field
        self.message = message
        self.fix = fix
    }

    public var description: String { "\(field): \(message) (\(fix))" }
}

/// A field path under construction: `FieldPath("spec").child("componentSpecs").index(0).child("replicas")`.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public private(set) var description: String

    public init(_ root: String) {
        description = root
    }

    public func child(_ name: String) -> FieldPath {
        FieldPath(description.isEmpty ? name : "\(description).\(name)")
    }

    public func index(_ position: Int) -> FieldPath {
        FieldPath("\(description)[\(position)]")
    }

    public func key(_ key: String) -> FieldPath {
        FieldPath("\(description)[\(key)]")
    }
}

/// Shared checks the kinds' validations are made of.
enum Check {
    /// A DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit.
    static func isDNSLabel(_ name: String, maxLength: Int = 63) -> Bool {
        guard !name.isEmpty, name.count <= maxLength else { return false }
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        return allowed && name.first != "-" && name.last != "-"
    }

    static func dnsLabel(_ name: String, at path: FieldPath, maxLength: Int = 63, what: String) -> [FieldError] {
        if name.isEmpty {
            return [FieldError(field: path.description, message: "Required value", fix: "name the \(what)")]
        }
        if name.count > maxLength {
            return [
                FieldError(
                    field: path.description, message: "\"\(name)\" is \(name.count) characters long, at most \(maxLength) are allowed",
                    fix: "use a shorter \(what) name: it becomes part of the names of Pods, Services and PVCs")
            ]
        }
        if !isDNSLabel(name, maxLength: maxLength) {
            return [
                FieldError(
                    field: path.description, message: "\"\(name)\" is not a DNS-1123 label",
                    fix: "use lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. \"qdrant\")")
            ]
        }
        return []
    }

    /// Names in a list must be unique; empty names are left to the checks that require a name.
    static func uniqueNames(_ names: [String], at path: FieldPath, field: String = "name") -> [FieldError] {
        var seen: Set<String> = []
        var errors: [FieldError] = []
        for (position, name) in names.enumerated() where !name.isEmpty && !seen.insert(name).inserted {
            errors.append(
                FieldError(
                    field: path.index(position).child(field).description, message: "Duplicate value: \"\(name)\"",
                    fix: "give each entry a different \(field)"))
        }
        return errors
    }

    static func required(_ value: String?, at path: FieldPath, fix: String) -> [FieldError] {
        (value ?? "").isEmpty ? [FieldError(field: path.description, message: "Required value", fix: fix)] : []
    }
}
