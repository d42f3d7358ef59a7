import Dispatch
import Foundation
import ProcessSpawning

/// Runs a client-go exec credential plugin (`client.authentication.k8s.io/v1` or `v1beta1`), such as
/// `aws eks get-token`, and reads the ExecCredential it prints.
struct ExecCredentialPlugin: Sendable {
    var config: Kubeconfig.ExecConfig
    var cluster: KubeClientConfiguration.ExecClusterInfo?

    static let supportedAPIVersions: Set<String> = [
        "client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1",
    ]

    /// What the plugin returned: a token, or a client certificate and key, and when they expire.
    struct Credential: Sendable {
        var token: String?
        var clientCertificatePEM: [UInt8]?
        var clientKeyPEM: [UInt8]?
        var expiration: Date?
    }

    func run() async throws -> Credential {
        guard Self.supportedAPIVersions.contains(config.apiVersion) else {
            throw failure(
                "apiVersion \"\(config.apiVersion)\" is not supported: use client.authentication.k8s.io/v1 or v1beta1")
        }
        if config.interactiveMode == "Always" {
            throw failure("interactiveMode Always needs a terminal, which this process does not have; use IfAvailable or Never")
        }
        let output = try await execute()
        return try parse(output)
    }

    private func failure(_ reason: String) -> KubeConfigurationError {
        .execPluginFailed(command: config.command, reason: reason)
    }

    private func execInfo() throws -> String {
        struct Spec: Encodable {
            var interactive = false
            var cluster: KubeClientConfiguration.ExecClusterInfo?
        }
        struct Info: Encodable {
            var apiVersion: String
            var kind = "ExecCredential"
            var spec: Spec
        }
        let data = try JSONEncoder().encode(Info(apiVersion: config.apiVersion, spec: Spec(cluster: cluster)))
        return String(decoding: data, as: UTF8.self)
    }

    private func execute() async throws -> Data {
        let process = Process()
        if config.command.contains("/") {
            process.executableURL = URL(fileURLWithPath: config.command)
            process.arguments = config.args ?? []
        } else {
            // A bare name is looked up on PATH, as exec.Command does in client-go.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [config.command] + (config.args ?? [])
        }
        var environment = ProcessInfo.processInfo.environment
        for variable in config.env ?? [] { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = try execInfo()
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice

        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        do {
            try ProcessSpawner.run(process)
        } catch {
            let hint = config.installHint.map { ": \($0)" } ?? ""
            throw failure("could not start it (\(error.localizedDescription))\(hint)")
        }
        // Pipes are drained on threads outside the cooperative pool so a chatty plugin cannot block it.
        async let output = Self.readToEnd(stdout.fileHandleForReading)
        async let errors = Self.readToEnd(stderr.fileHandleForReading)
        var status: Int32 = -1
        for await code in exited.stream { status = code }
        let (out, err) = await (output, errors)
        guard status == 0 else {
            // stderr is the plugin's own explanation; stdout may hold a credential and is never shown.
            let message = String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let hint = status == 127 ? config.installHint.map { " (\($0))" } ?? "" : ""
            throw failure("exit status \(status)\(message.isEmpty ? "" : ": \(message.prefix(500))")\(hint)")
        }
        return out
    }

    private static func readToEnd(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: handle.readDataToEndOfFile())
            }
        }
    }

    private func parse(_ output: Data) throws -> Credential {
        struct ExecCredential: Decodable {
            struct Status: Decodable {
                var token: String?
                var expirationTimestamp: String?
                var clientCertificateData: String?
                var clientKeyData: String?
            }
            var apiVersion: String?
            var kind: String?
            var status: Status?
        }
        let decoded: ExecCredential
        do {
            decoded = try JSONDecoder().decode(ExecCredential.self, from: output)
        } catch {
            throw failure("its output is not an ExecCredential JSON object")
        }
        guard decoded.kind == "ExecCredential" else {
            throw failure("its output has kind \"\(decoded.kind ?? "")\", expected ExecCredential")
        }
        guard decoded.apiVersion == config.apiVersion else {
            throw failure(
                "it answered with apiVersion \"\(decoded.apiVersion ?? "")\" but the kubeconfig asks for \(config.apiVersion)")
        }
        guard let status = decoded.status else { throw failure("its ExecCredential has no status") }
        let certificate = status.clientCertificateData.map { Array($0.utf8) }
        let key = status.clientKeyData.map { Array($0.utf8) }
        if (certificate == nil) != (key == nil) {
            throw failure("status.clientCertificateData and status.clientKeyData must be returned together")
        }
        if status.token?.isEmpty ?? true, certificate == nil {
            throw failure("its ExecCredential status has neither a token nor a client certificate")
        }
        var expiration: Date?
        if let timestamp = status.expirationTimestamp {
            guard let date = RFC3339.parse(timestamp) else {
                throw failure("status.expirationTimestamp \"\(timestamp)\" is not an RFC 3339 time")
            }
            expiration = date
        }
        return Credential(
            token: status.token, clientCertificatePEM: certificate, clientKeyPEM: key, expiration: expiration)
    }
}
