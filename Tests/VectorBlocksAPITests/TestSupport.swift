import Foundation
import KubeKit
import KubeSim
import VectorBlocksAPI

/// The repository root, found from this file's place in it.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func repositoryFile(_ path: String) -> URL {
    repositoryRoot.appendingPathComponent(path)
}

/// The documents of a YAML file of the repository.
func yamlDocuments(_ path: String) throws -> [JSONValue] {
    try ManifestYAML.parse(String(contentsOf: repositoryFile(path), encoding: .utf8))
}

/// The one document of a YAML file of the repository, decoded.
func decodeYAML<T: Decodable>(_ path: String, as type: T.Type = T.self) throws -> T {
    guard let document = try yamlDocuments(path).first else { throw TestSetupError("\(path) holds no document") }
    return try document.decode(as: T.self)
}

func fixture(_ name: String) throws -> [JSONValue] {
    guard let url = Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "Fixtures") else {
        throw TestSetupError("fixture \(name).yaml is missing from Tests/VectorBlocksAPITests/Fixtures")
    }
    return try ManifestYAML.parse(String(contentsOf: url, encoding: .utf8))
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a KubeSim server and a client of it, and stops both afterwards.
func withKubeSim<Result: Sendable>(_ body: (KubeSimServer, KubeClient) async throws -> Result) async throws -> Result {
    let server = try await KubeSimServer.start()
    let client: KubeClient
    do {
        client = try KubeClient(configuration: try KubeClientConfiguration(server: server.baseURL, namespace: "default", credentials: .none))
    } catch {
        try await server.shutdown()
        throw error
    }
    do {
        let result = try await body(server, client)
        try await client.shutdown()
        try await server.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        try? await server.shutdown()
        throw error
    }
}

/// The test-time programs installed by scripts/test.sh.
enum TestVenv {
    static func program(_ name: String) throws -> String {
        guard let venv = ProcessInfo.processInfo.environment["VB_TEST_VENV"], !venv.isEmpty else {
            throw TestSetupError("VB_TEST_VENV is not set: run the tests with ./scripts/test.sh, which installs \(name) into .cache/venv and sets it")
        }
        let path = "\(venv)/bin/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSetupError("\(path) is missing: delete .cache/venv and run ./scripts/test.sh to reinstall the test-time programs")
        }
        return path
    }
}

struct ProcessResult {
    var status: Int32
    var output: String
}

/// Runs a program to completion, its stdout and stderr together in `output`.
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: URL = repositoryRoot) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}
