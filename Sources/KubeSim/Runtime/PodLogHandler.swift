import Foundation
import Hummingbird
import KubeKit
import NIOCore

/// `GET /api/v1/namespaces/{ns}/pods/{name}/log`: a container's captured output, as `kubectl logs` reads it, with
/// `container`, `previous`, `tailLines` and `follow` (which streams until the container ends).
struct PodLogHandler: Sendable {
    let store: ClusterStore

    func handle(namespace: String, name: String, query: QueryParameters) async throws -> Response {
        guard let resource = await store.resource(.pods) else { throw APIError.pathNotFound("pods") }
        let pod = try await store.get(resource, namespace: namespace, name: name)
        let names = (pod["spec"]?["containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let initNames = (pod["spec"]?["initContainers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let container: String
        if let requested = query["container"], !requested.isEmpty {
            guard names.contains(requested) || initNames.contains(requested) else {
                throw APIError(code: 400, reason: "BadRequest", message: "container \(requested) is not valid for pod \(name)")
            }
            container = requested
        } else if names.count == 1 {
            container = names[0]
        } else {
            throw APIError(
                code: 400, reason: "BadRequest",
                message: "a container name must be specified for pod \(name), choose one of: [\(names.joined(separator: " "))]")
        }
        let statuses = (pod["status"]?["containerStatuses"]?.arrayValue ?? []) + (pod["status"]?["initContainerStatuses"]?.arrayValue ?? [])
        let status = statuses.first { $0["name"]?.stringValue == container }
        guard let root = await store.podLogRoot, let uid = pod.uid, FileManager.default.fileExists(atPath: "\(root)/\(uid)/logs") else {
            throw APIError(
                code: 400, reason: "BadRequest",
                message: "container \"\(container)\" in pod \"\(name)\" has no logs: the pod is simulated, no process runs (see its events)")
        }
        let restarts = Int(status?["restartCount"]?.intValue ?? 0)
        let previous = query.bool("previous")
        if previous && restarts == 0 {
            throw APIError(code: 400, reason: "BadRequest", message: "previous terminated container \"\(container)\" in pod \"\(name)\" not found")
        }
        let path = "\(root)/\(uid)/logs/\(container)/\(previous ? restarts - 1 : restarts).log"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw APIError(code: 400, reason: "BadRequest", message: "container \"\(container)\" in pod \"\(name)\" is waiting to start")
        }
        let text = query.int("tailLines").map { Self.tail(data, lines: $0) } ?? data
        guard query.bool("follow") && !previous else {
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        let store = self.store
        let body = ResponseBody { writer in
            do {
                try await writer.write(ByteBuffer(bytes: text))
                var offset = UInt64(data.count)
                // Like `tail -f`: read what was appended, until this run of the container has ended.
                while !Task.isCancelled {
                    let appended = Self.read(path, from: offset)
                    if !appended.isEmpty {
                        offset += UInt64(appended.count)
                        try await writer.write(ByteBuffer(bytes: appended))
                        continue
                    }
                    guard await Self.isRunning(store: store, namespace: namespace, uid: uid, container: container, restarts: restarts) else { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
            } catch {
                // The client went away.
            }
            try? await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: body)
    }

    static func tail(_ data: Data, lines: Int) -> Data {
        guard lines >= 0 else { return data }
        var count = 0
        var index = data.endIndex
        if index > data.startIndex, data[data.index(before: index)] == 0x0A { index = data.index(before: index) }
        while index > data.startIndex {
            let before = data.index(before: index)
            if data[before] == 0x0A {
                count += 1
                if count == lines { return Data(data[index...]) }
            }
            index = before
        }
        return lines == 0 ? Data() : data
    }

    private static func read(_ path: String, from offset: UInt64) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        return (try? handle.readToEnd()) ?? Data()
    }

    private static func isRunning(store: ClusterStore, namespace: String, uid: String, container: String, restarts: Int) async -> Bool {
        guard let pod = await store.stored(.pods, namespace: namespace).first(where: { $0.uid == uid }) else { return false }
        let statuses = (pod["status"]?["containerStatuses"]?.arrayValue ?? []) + (pod["status"]?["initContainerStatuses"]?.arrayValue ?? [])
        guard let status = statuses.first(where: { $0["name"]?.stringValue == container }) else { return false }
        return Int(status["restartCount"]?.intValue ?? 0) == restarts && status["state"]?["terminated"] == nil
    }
}
