import KubeKit

/// Labels, annotations and label selectors, as apimachinery's `ValidateLabels`, `ValidateAnnotations` and
/// `ValidateLabelSelector` check them wherever they occur.
enum MetadataValidation {
    static let annotationsSizeLimit = 256 * 1024

    /// `metadata.labels` and `metadata.annotations` of any object, or of a pod template (whose labels kube-apiserver
    /// reports at `<template>.labels`, without `metadata`).
    static func labelsAndAnnotations(_ metadata: JSONValue?, labelsAt: String, annotationsAt: String) -> FieldErrors {
        var errors = FieldErrors()
        errors.append(contentsOf: labels(metadata?["labels"], at: labelsAt))
        errors.append(contentsOf: annotations(metadata?["annotations"], at: annotationsAt))
        return errors
    }

    /// Every key must be a qualified name and every value a label value; both are reported at the map's own path.
    static func labels(_ map: JSONValue?, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        for (key, value) in sorted(map) {
            errors.invalid(path, key, each: ValueFormats.qualifiedName(key))
            errors.invalid(path, value, each: ValueFormats.labelValue(value))
        }
        return errors
    }

    static func annotations(_ map: JSONValue?, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        let entries = sorted(map)
        for (key, _) in entries {
            // Annotation keys are qualified names in any case.
            errors.invalid(path, key, each: ValueFormats.qualifiedName(key.lowercased()))
        }
        if entries.reduce(0, { $0 + $1.key.utf8.count + $1.value.utf8.count }) > annotationsSizeLimit {
            errors.tooLong(path, maximum: annotationsSizeLimit)
        }
        return errors
    }

    /// `matchLabels` as labels; each `matchExpressions` entry needs a known operator, values exactly when the operator
    /// compares them, a qualified key and label values.
    static func labelSelector(_ selector: JSONValue?, at path: String) -> FieldErrors {
        var errors = FieldErrors()
        errors.append(contentsOf: labels(selector?["matchLabels"], at: "\(path).matchLabels"))
        for (index, requirement) in (selector?["matchExpressions"]?.arrayValue ?? []).enumerated() {
            let here = "\(path).matchExpressions[\(index)]"
            let values = (requirement["values"]?.arrayValue ?? []).map { $0.stringValue ?? "" }
            let operation = requirement["operator"]?.stringValue ?? ""
            switch operation {
            case "In", "NotIn":
                if values.isEmpty { errors.required("\(here).values", "must be specified when `operator` is 'In' or 'NotIn'") }
            case "Exists", "DoesNotExist":
                if !values.isEmpty { errors.forbidden("\(here).values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'") }
            default:
                errors.invalid("\(here).operator", operation, "not a valid selector operator")
            }
            let key = requirement["key"]?.stringValue ?? ""
            errors.invalid("\(here).key", key, each: ValueFormats.qualifiedName(key))
            for (valueIndex, value) in values.enumerated() {
                errors.invalid("\(here).values[\(valueIndex)]", value, each: ValueFormats.labelValue(value))
            }
        }
        return errors
    }

    private static func sorted(_ map: JSONValue?) -> [(key: String, value: String)] {
        (map?.objectValue ?? [:]).map { ($0.key, $0.value.stringValue ?? "") }.sorted { $0.key < $1.key }
    }
}
