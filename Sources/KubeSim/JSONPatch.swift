import KubeKit

/// RFC 6902 JSON patch (add, remove, replace, move, copy, test) with RFC 6901 pointers.
enum JSONPatch {
    struct Failure: Error {
        var message: String
        /// A failed `test` is reported as 422 Invalid by the API server, a malformed patch as 400/422 too.
        var isTestFailure: Bool
    }

    static func apply(_ patch: JSONValue, to document: JSONValue) throws(Failure) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw Failure(message: "json patch must be an array of operations", isTestFailure: false)
        }
        var current = document
        for operation in operations {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw Failure(message: "json patch operation needs op and path: \(operation)", isTestFailure: false)
            }
            let pointer = try parse(pointer: path)
            switch op {
            case "add":
                guard let value = operation["value"] else { throw Failure(message: "add operation does not contain a value", isTestFailure: false) }
                current = try add(value, at: pointer, in: current)
            case "remove":
                current = try remove(at: pointer, in: current).document
            case "replace":
                guard let value = operation["value"] else { throw Failure(message: "replace operation does not contain a value", isTestFailure: false) }
                current = try remove(at: pointer, in: current).document
                current = try add(value, at: pointer, in: current)
            case "move":
                guard let fromPath = operation["from"]?.stringValue else {
                    throw Failure(message: "move operation does not contain from", isTestFailure: false)
                }
                let (without, value) = try remove(at: parse(pointer: fromPath), in: current)
                current = try add(value, at: pointer, in: without)
            case "copy":
                guard let fromPath = operation["from"]?.stringValue else {
                    throw Failure(message: "copy operation does not contain from", isTestFailure: false)
                }
                guard let value = lookup(try parse(pointer: fromPath), in: current) else {
                    throw Failure(message: "copy operation from path does not exist: \(fromPath)", isTestFailure: false)
                }
                current = try add(value, at: pointer, in: current)
            case "test":
                let expected = operation["value"] ?? .null
                guard let actual = lookup(pointer, in: current), equal(actual, expected) else {
                    throw Failure(message: "testing value \(path) failed", isTestFailure: true)
                }
            default:
                throw Failure(message: "Unexpected kind: \(op)", isTestFailure: false)
            }
        }
        return current
    }

    private static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
        default: return lhs == rhs
        }
    }

    static func parse(pointer: String) throws(Failure) -> [String] {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { throw Failure(message: "invalid JSON pointer \(pointer)", isTestFailure: false) }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func lookup(_ pointer: [String], in document: JSONValue) -> JSONValue? {
        var current = document
        for token in pointer {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(token), array.indices.contains(index) else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }

    private static func add(_ value: JSONValue, at pointer: [String], in document: JSONValue) throws(Failure) -> JSONValue {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var object):
            if rest.isEmpty {
                object[token] = value
            } else {
                guard let child = object[token] else {
                    throw Failure(message: "add operation does not apply: doc is missing path: /\(pointer.joined(separator: "/"))", isTestFailure: false)
                }
                object[token] = try add(value, at: rest, in: child)
            }
            return .object(object)
        case .array(var array):
            if rest.isEmpty {
                if token == "-" {
                    array.append(value)
                    return .array(array)
                }
                guard let index = Int(token), index >= 0, index <= array.count else {
                    throw Failure(message: "add operation does not apply: index out of bounds: \(token)", isTestFailure: false)
                }
                array.insert(value, at: index)
            } else {
                guard let index = Int(token), array.indices.contains(index) else {
                    throw Failure(message: "add operation does not apply: index out of bounds: \(token)", isTestFailure: false)
                }
                array[index] = try add(value, at: rest, in: array[index])
            }
            return .array(array)
        default:
            throw Failure(message: "add operation does not apply: doc is missing path: /\(pointer.joined(separator: "/"))", isTestFailure: false)
        }
    }

    private static func remove(at pointer: [String], in document: JSONValue) throws(Failure) -> (document: JSONValue, removed: JSONValue) {
        guard let token = pointer.first else {
            throw Failure(message: "cannot remove the whole document", isTestFailure: false)
        }
        let rest = Array(pointer.dropFirst())
        let missing = Failure(message: "remove operation does not apply: doc is missing path: /\(pointer.joined(separator: "/"))", isTestFailure: false)
        switch document {
        case .object(var object):
            guard let child = object[token] else { throw missing }
            if rest.isEmpty {
                object[token] = nil
                return (.object(object), child)
            }
            let (updated, removed) = try remove(at: rest, in: child)
            object[token] = updated
            return (.object(object), removed)
        case .array(var array):
            guard let index = Int(token), array.indices.contains(index) else { throw missing }
            if rest.isEmpty {
                let removed = array.remove(at: index)
                return (.array(array), removed)
            }
            let (updated, removed) = try remove(at: rest, in: array[index])
            array[index] = updated
            return (.array(array), removed)
        default:
            throw missing
        }
    }
}
