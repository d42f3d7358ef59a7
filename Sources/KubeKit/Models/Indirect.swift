/// A value kept on the heap, so that a struct can contain a value of its own type (`JSONSchemaProps.not`).
///
/// It has value semantics: the box is immutable and a new one is made on every change. It encodes and decodes as the
/// value itself. The generator stores recursive properties in it; callers see the plain value.
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
