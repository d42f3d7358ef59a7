/// A value kept on the heap, so that a struct can contain a value of its own type (`JSONSchemaProps.not`), or an absent
/// optional struct of a large struct costs a pointer rather than its whole size (`CoreV1.Volume`'s sources).
///
/// It has value semantics: the box is immutable and a new one is made on every change. It encodes and decodes as the
/// value itself. The generator stores those properties in it; callers see the plain value.
public struct Indirect<Value: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private let box: Box

    public init(_ value: Value) { box = Box(value) }

    public var value: Value { box.value }

    public init(from decoder: any Decoder) throws {
        box = Box(try Value(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try box.value.encode(to: encoder)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.box === rhs.box || lhs.value == rhs.value }

    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

/// What `Optional.unboxed` needs of a box.
public protocol IndirectBox {
    associatedtype Value
    init(_ value: Value)
    var value: Value { get }
}

extension Indirect: IndirectBox {}

extension Optional where Wrapped: IndirectBox {
    /// The boxed value, as the generated models' boxed properties read and write it.
    public var unboxed: Wrapped.Value? {
        get { self?.value }
        set { self = newValue.map(Wrapped.init) }
        // Mutating in place (`pod.spec?.containers.append(…)`) would otherwise copy the value's arrays, which the box
        // still shares: dropping the box first leaves them uniquely referenced.
        _modify {
            var value = self?.value
            self = nil
            defer { self = value.map(Wrapped.init) }
            yield &value
        }
    }
}
