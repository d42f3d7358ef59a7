import KubeKit

/// `intstr.IntOrString` fields that hold a count or a percentage (`minAvailable`, `maxSurge`), checked as
/// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent` do.
enum IntOrPercent {
    /// `%#v` of the Go value, as a message prints it: `intstr.IntOrString{Type:1, IntVal:0, StrVal:"50"}`.
    static func goSyntax(_ value: JSONValue) -> String {
        if let text = value.stringValue { return "intstr.IntOrString{Type:1, IntVal:0, StrVal:\(GoSyntax.quoted(text))}" }
        return "intstr.IntOrString{Type:0, IntVal:\(value.intValue ?? 0), StrVal:\"\"}"
    }

    /// A string must be a percentage; a number must not be negative.
    static func nonNegative(_ value: JSONValue, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        if let text = value.stringValue {
            for message in ValueFormats.percent(text) { errors.invalid(path, rendered: goSyntax(value), message) }
        } else if let number = value.intValue, number < 0 {
            errors.invalid(path, number, "must be greater than or equal to 0")
        }
        return errors
    }

    static func notMoreThan100Percent(_ value: JSONValue, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        if let percent = percentage(value), percent > 100 { errors.invalid(path, rendered: goSyntax(value), "must not be greater than 100%") }
        return errors
    }

    /// The number a value stands for, percentage or not (`getIntOrPercentValue`); text that is neither counts as 0.
    static func magnitude(_ value: JSONValue) -> Int64 {
        if let percent = percentage(value) { return percent }
        if let text = value.stringValue { return Int64(text) ?? 0 }
        return value.intValue ?? 0
    }

    private static func percentage(_ value: JSONValue) -> Int64? {
        guard let text = value.stringValue, ValueFormats.percent(text).isEmpty else { return nil }
        return Int64(text.dropLast())
    }
}
