import Crypto
import Foundation
import KubeKit
import VectorBlocksAPI

/// Whether an observed object already says everything a desired object says, so that applying it would change
/// nothing. The desired object is what this operator owns (a partial object, as server-side apply takes it); the
/// observed one is the server's full copy, with defaults and other managers' fields. So the test is containment:
/// every field set in `desired` has the same value in `observed`. Two things are equal that differ in text:
/// quantities in resource lists (the server writes `0.5` back as `500m`), and an integer written as a double.
public enum Drift {
    public static func contains(_ observed: JSONValue, _ desired: JSONValue) -> Bool {
        matches(observed, desired, key: nil, mapKey: nil)
    }

    /// Keys whose values are resource lists (`requests`, `limits`, `capacity`, `hard`), where values are quantities.
    private static let resourceListKeys: Set<String> = ["requests", "limits", "capacity", "allocatable", "hard", "used"]

    /// `key` is where the value sits; `mapKey` is where the map holding it sits (`requests` for a cpu quantity).
    private static func matches(_ observed: JSONValue, _ desired: JSONValue, key: String?, mapKey: String?) -> Bool {
        switch (observed, desired) {
        case (.object(let have), .object(let want)):
            return want.allSatisfy { childKey, value in
                guard let present = have[childKey] else { return value == .null }
                return matches(present, value, key: childKey, mapKey: key)
            }
        case (.array(let have), .array(let want)):
            // Lists are owned whole by whoever sets them here, so their length must agree; items compare by
            // containment, as the server adds defaults inside them (a container's terminationMessagePath).
            guard have.count == want.count else { return false }
            return zip(have, want).allSatisfy { matches($0, $1, key: nil, mapKey: nil) }
        case (.string(let have), .string(let want)) where have != want:
            guard let mapKey, resourceListKeys.contains(mapKey),
                let haveQuantity = try? Quantity(have), let wantQuantity = try? Quantity(want)
            else { return false }
            return haveQuantity == wantQuantity
        case (.int(let have), .double(let want)), (.double(let want), .int(let have)):
            return Double(have) == want
        default:
            return observed == desired
        }
    }
}

/// Containment cannot see a field the operator set before and no longer wants, and server-side apply removes such a
/// field only when the operator applies again. So every applied body carries a hash of itself, and an object is
/// current only when the server holds the hash of what the operator wants now and every wanted field.
///
/// An annotation rather than the operator's `managedFields` entry: to compare against that entry the operator would
/// have to compute the fields a body owns in the server's vocabulary, which needs the API schema (which lists are
/// associative, by which keys); the hash needs none, costs one short annotation per object, and lets the informers
/// keep dropping `managedFields` from their caches.
extension Drift {
    public static let appliedHashAnnotation = "\(VectorBlocksAPI.group)/applied-hash"

    /// The body to apply: `body` with its own hash in `appliedHashAnnotation`.
    public static func stamped(_ body: JSONValue) throws -> JSONValue {
        var stamped = body
        var metadata = body["metadata"]?.objectValue ?? [:]
        var annotations = metadata["annotations"]?.objectValue ?? [:]
        annotations[appliedHashAnnotation] = .string(try hash(of: body))
        metadata["annotations"] = .object(annotations)
        stamped["metadata"] = .object(metadata)
        return stamped
    }

    /// Whether applying `stamped` (from `stamped(_:)`) would change nothing on `observed`.
    public static func isCurrent(_ observed: JSONValue, stamped: JSONValue) -> Bool {
        let key = appliedHashAnnotation
        return observed["metadata"]?["annotations"]?[key] == stamped["metadata"]?["annotations"]?[key]
            && contains(observed, stamped)
    }

    /// A Secret's values are left out, so the annotation reveals nothing of a credential; containment still sees a
    /// changed value.
    static func hash(of body: JSONValue) throws -> String {
        var hashed = body
        if body["kind"] == "Secret" {
            for field in ["data", "stringData"] {
                if case .object(let values)? = body[field] { hashed[field] = .object(values.mapValues { _ in .null }) }
            }
        }
        let digest = SHA256.hash(data: hashed.jsonData(sortedKeys: true))
        return digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
