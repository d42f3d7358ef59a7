import KubeKit

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
