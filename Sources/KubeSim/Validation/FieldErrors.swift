import KubeKit

/// The errors one object's validation found, each as kube-apiserver's `field.Error` renders it into a Status cause:
/// the field path, the `FieldValue…` reason and the message (`Invalid value: "x": detail`).
struct FieldErrors {
    private(set) var causes: [BuiltinValidation.Cause] = []

    var isEmpty: Bool { causes.isEmpty }

    mutating func append(contentsOf other: FieldErrors) { causes += other.causes }

    /// `field.Required`: `Required value` or `Required value: detail`.
    mutating func required(_ path: String, _ detail: String = "") {
        causes.append((path, "FieldValueRequired", detail.isEmpty ? "Required value" : "Required value: \(detail)"))
    }

    /// `field.Invalid` of a string, printed `%q`.
    mutating func invalid(_ path: String, _ value: String, _ detail: String) {
        invalid(path, rendered: GoSyntax.quoted(value), detail)
    }

    /// `field.Invalid` of an integer, printed `%v`.
    mutating func invalid(_ path: String, _ value: Int64, _ detail: String) {
        invalid(path, rendered: String(value), detail)
    }

    /// `field.Invalid` of a value already printed the way Go prints its type (`%#v` of a struct or a map).
    mutating func invalid(_ path: String, rendered: String, _ detail: String) {
        causes.append((path, "FieldValueInvalid", "Invalid value: \(rendered): \(detail)"))
    }

    /// `field.NotSupported`: `Unsupported value: "X": supported values: "A", "B"`.
    mutating func notSupported(_ path: String, _ value: String, _ supported: [String]) {
        notSupported(path, rendered: GoSyntax.quoted(value), supported)
    }

    /// `field.NotSupported` of a value Go prints with `%#v` (a struct).
    mutating func notSupported(_ path: String, rendered: String, _ supported: [String]) {
        let list = supported.map(GoSyntax.quoted).joined(separator: ", ")
        causes.append((path, "FieldValueNotSupported", "Unsupported value: \(rendered): supported values: \(list)"))
    }

    /// `field.NotFound`: `Not found: "X"`.
    mutating func notFound(_ path: String, _ value: String) {
        causes.append((path, "FieldValueNotFound", "Not found: \(GoSyntax.quoted(value))"))
    }

    /// `field.Duplicate`: `Duplicate value: "X"`.
    mutating func duplicate(_ path: String, _ value: String) {
        causes.append((path, "FieldValueDuplicate", "Duplicate value: \(GoSyntax.quoted(value))"))
    }

    /// `field.Forbidden`: `Forbidden: detail`.
    mutating func forbidden(_ path: String, _ detail: String) {
        causes.append((path, "FieldValueForbidden", "Forbidden: \(detail)"))
    }

    /// `field.TooLong` of a value whose length is not printed: `Too long: may not be more than N bytes`.
    mutating func tooLong(_ path: String, maximum: Int) {
        causes.append((path, "FieldValueTooLong", "Too long: may not be more than \(maximum) bytes"))
    }

    /// Every message of a format check (`validation.IsDNS1123Label` and friends) as an `Invalid value` of `value`.
    mutating func invalid(_ path: String, _ value: String, each messages: [String]) {
        for message in messages { invalid(path, value, message) }
    }
}
