import Foundation
import KubeKit

#if canImport(Glibc)
import Glibc
#endif

/// One probe attempt as the kubelet makes it: exec inside the container, an HTTP GET or a TCP connect to the pod's
/// address (from the host, as the kubelet does), each within the probe's `timeoutSeconds`.
struct ProbeCheck: Sendable {
    let probe: JSONValue
    let podIP: String
    let containerPorts: [String: Int]

    var timeout: Duration { .seconds(max(1, probe["timeoutSeconds"]?.intValue ?? 1)) }
    var period: Duration { .seconds(max(1, probe["periodSeconds"]?.intValue ?? 10)) }
    var initialDelay: Duration { .seconds(max(0, probe["initialDelaySeconds"]?.intValue ?? 0)) }
    var successThreshold: Int { Int(max(1, probe["successThreshold"]?.intValue ?? 1)) }
    var failureThreshold: Int { Int(max(1, probe["failureThreshold"]?.intValue ?? 3)) }

    /// Whether the probe passed, with what the kubelet would put in an Event when it did not.
    func run(in process: ContainerProcess?, user: UInt32?, group: UInt32?, environment: [(String, String)]) async -> (Bool, String) {
        if let command = probe["exec"]?["command"]?.arrayValue?.compactMap(\.stringValue) {
            guard let process else { return (false, "the container is not running") }
            let (code, output) = await process.exec(command, user: user, group: group, environment: environment, timeout: timeout)
            return (code == 0, code == 0 ? "" : "exec \(command) exited \(code): \(output.suffix(400))")
        }
        if let http = probe["httpGet"] {
            guard let port = port(http["port"]) else { return (false, "httpGet: unknown port \(http["port"] ?? "")") }
            let (host, path, timeout) = (http["host"]?.stringValue ?? podIP, http["path"]?.stringValue ?? "/", timeout)
            return await Self.offThePool { Self.httpGet(host: host, port: port, path: path, timeout: timeout) }
        }
        if let tcp = probe["tcpSocket"] {
            guard let port = port(tcp["port"]) else { return (false, "tcpSocket: unknown port \(tcp["port"] ?? "")") }
            let (host, podIP, timeout) = (tcp["host"]?.stringValue ?? podIP, podIP, timeout)
            return await Self.offThePool {
                let descriptor = Self.connect(host: host, port: port, timeout: timeout)
                guard descriptor >= 0 else { return (false, "dial tcp \(podIP):\(port): connection refused") }
                close(descriptor)
                return (true, "")
            }
        }
        return (false, "the probe has no exec, httpGet or tcpSocket handler")
    }

    /// Blocking socket calls wait up to the probe's timeout: on a Dispatch thread, never on one of the cooperative
    /// pool's few threads that the API server itself runs on.
    private static func offThePool(_ check: @escaping @Sendable () -> (Bool, String)) async -> (Bool, String) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: check()) }
        }
    }

    private func port(_ value: JSONValue?) -> Int? {
        if let number = value?.intValue { return Int(number) }
        if let name = value?.stringValue { return containerPorts[name] ?? Int(name) }
        return nil
    }

    /// Connects within the timeout; returns the socket, or -1.
    static func connect(host: String, port: Int, timeout: Duration) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return -1 }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return -1 }
        var time = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(descriptor)
            return -1
        }
        return descriptor
    }

    /// A status of 200-399 passes, as the kubelet's HTTP prober has it.
    static func httpGet(host: String, port: Int, path: String, timeout: Duration) -> (Bool, String) {
        let descriptor = connect(host: host, port: port, timeout: timeout)
        guard descriptor >= 0 else { return (false, "Get \"http://\(host):\(port)\(path)\": connection refused") }
        defer { close(descriptor) }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: kube-probe/1.36\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return (false, "Get \"http://\(host):\(port)\(path)\": no response") }
        let line = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        guard parts.count >= 2, let code = Int(parts[1]) else { return (false, "malformed HTTP response") }
        return (200..<400).contains(code) ? (true, "") : (false, "HTTP probe failed with statuscode: \(code)")
    }
}
