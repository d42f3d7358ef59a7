import Foundation
import TestSupport
import Testing

@testable import KubeKit

/// The exec plugin is a real process: a shell script the test writes, which records each run and prints the
/// ExecCredential it is told to.
@Suite("Exec credential plugins")
struct ExecCredentialPluginTests {
    let directory: TemporaryDirectory
    var script: String { directory.path + "/get-token.sh" }
    var runsFile: String { directory.path + "/runs" }
    var execInfoFile: String { directory.path + "/exec-info.json" }

    init() throws {
        directory = try TemporaryDirectory()
        // The script counts its runs, keeps the KUBERNETES_EXEC_INFO it was given, and prints the credential from
        // the file named by CREDENTIAL_FILE (or fails with the message in FAIL_WITH).
        try """
        #!/bin/sh
        echo run >> "\(directory.path)/runs"
        printf '%s' "$KUBERNETES_EXEC_INFO" > "\(directory.path)/exec-info.json"
        if [ -n "$FAIL_WITH" ]; then echo "$FAIL_WITH" >&2; exit 3; fi
        cat "$CREDENTIAL_FILE"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
    }

    func runs() -> Int {
        (try? String(contentsOfFile: runsFile, encoding: .utf8))?.split(separator: "\n").count ?? 0
    }

    func credentialFile(_ json: String) throws -> String {
        let path = directory.path + "/credential-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func exec(apiVersion: String = "client.authentication.k8s.io/v1", env: [String: String]) -> Kubeconfig.ExecConfig {
        Kubeconfig.ExecConfig(
            command: script, args: ["--cluster-name", "prod"],
            env: env.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }, apiVersion: apiVersion,
            installHint: "install the aws CLI", provideClusterInfo: true, interactiveMode: "IfAvailable")
    }

    @Test func tokenIsCachedUntilItExpires() async throws {
        let future = Date(timeIntervalSinceNow: 3600).formatted(.iso8601)
        let file = try credentialFile(
            #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"k8s-aws-v1.abc","expirationTimestamp":"\#(future)"}}"#
        )
        let cluster = KubeClientConfiguration.ExecClusterInfo(
            server: "https://eks.example.test", certificateAuthorityData: "Q0E=")
        let provider = CredentialProvider(credentials: .exec(exec(env: ["CREDENTIAL_FILE": file]), cluster: cluster))
        #expect(try await provider.current().authorization == "Bearer k8s-aws-v1.abc")
        #expect(try await provider.current().authorization == "Bearer k8s-aws-v1.abc")
        #expect(runs() == 1)

        // The plugin is told what it is being asked for, and about the cluster.
        let info = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: execInfoFile)))
        #expect(info["apiVersion"] == "client.authentication.k8s.io/v1")
        #expect(info["kind"] == "ExecCredential")
        #expect(info.value(at: ["spec", "interactive"]) == false)
        #expect(info.value(at: ["spec", "cluster", "server"]) == "https://eks.example.test")
        #expect(info.value(at: ["spec", "cluster", "certificate-authority-data"]) == "Q0E=")

        // A 401 makes the next request run the plugin again.
        await provider.invalidate()
        _ = try await provider.current()
        #expect(runs() == 2)
    }

    @Test func expiredTokenRunsThePluginAgain() async throws {
        let past = Date(timeIntervalSinceNow: -60).formatted(.iso8601)
        let file = try credentialFile(
            #"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"short-lived","expirationTimestamp":"\#(past)"}}"#
        )
        let config = exec(apiVersion: "client.authentication.k8s.io/v1beta1", env: ["CREDENTIAL_FILE": file])
        let provider = CredentialProvider(credentials: .exec(config, cluster: nil))
        _ = try await provider.current()
        _ = try await provider.current()
        #expect(runs() == 2)
    }

    @Test func clientCertificateFromThePluginIsUsedForTLS() async throws {
        let fixtures = Bundle.module.resourcePath! + "/Fixtures/kubeconfig"
        let certificate = try String(contentsOfFile: fixtures + "/client.crt", encoding: .utf8)
        let key = try String(contentsOfFile: fixtures + "/client.key", encoding: .utf8)
        struct Status: Encodable {
            var clientCertificateData: String
            var clientKeyData: String
        }
        struct Credential: Encodable {
            var apiVersion = "client.authentication.k8s.io/v1"
            var kind = "ExecCredential"
            var status: Status
        }
        let json = try JSONEncoder().encode(Credential(status: .init(clientCertificateData: certificate, clientKeyData: key)))
        let file = try credentialFile(String(decoding: json, as: UTF8.self))
        let provider = CredentialProvider(credentials: .exec(exec(env: ["CREDENTIAL_FILE": file]), cluster: nil))
        let credentials = try await provider.current()
        #expect(credentials.authorization == nil)
        let pem = try #require(credentials.clientCertificatePEM)
        let keyPEM = try #require(credentials.clientKeyPEM)
        let tls = try HTTPKubeTransport.makeTLSConfiguration(.init(), exec: (pem, keyPEM))
        #expect(tls.certificateChain.count == 1)
    }

    @Test func failuresSayWhatWentWrongWithoutTheCredential() async throws {
        let failing = CredentialProvider(
            credentials: .exec(exec(env: ["FAIL_WITH": "ExpiredToken: the SSO session has expired"]), cluster: nil))
        await #expect {
            try await failing.current()
        } throws: { error in
            "\(error)".contains("exit status 3") && "\(error)".contains("the SSO session has expired")
        }

        let wrongVersion = try credentialFile(
            #"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"secret-value"}}"#
        )
        let mismatched = CredentialProvider(
            credentials: .exec(exec(env: ["CREDENTIAL_FILE": wrongVersion]), cluster: nil))
        await #expect {
            try await mismatched.current()
        } throws: { error in
            "\(error)".contains("v1beta1") && !"\(error)".contains("secret-value")
        }

        let empty = try credentialFile(#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}"#)
        let noToken = CredentialProvider(credentials: .exec(exec(env: ["CREDENTIAL_FILE": empty]), cluster: nil))
        await #expect {
            try await noToken.current()
        } throws: { error in
            "\(error)".contains("neither a token nor a client certificate")
        }

        let missing = Kubeconfig.ExecConfig(
            command: directory.path + "/not-installed", installHint: "install the aws CLI")
        let absent = CredentialProvider(credentials: .exec(missing, cluster: nil))
        await #expect {
            try await absent.current()
        } throws: { error in
            "\(error)".contains("install the aws CLI")
        }
    }

    @Test func kubeconfigExecEntryBecomesExecCredentials() throws {
        let yaml = """
            current-context: eks
            clusters:
            - name: eks
              cluster:
                server: https://ABC.gr7.us-east-1.eks.amazonaws.com
            users:
            - name: eks-user
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: aws
                  args: [--region, us-east-1, eks, get-token, --cluster-name, prod]
                  env:
                  - {name: AWS_PROFILE, value: platform}
                  provideClusterInfo: false
            contexts:
            - name: eks
              context: {cluster: eks, user: eks-user}
            """
        let configuration = try KubeClientConfiguration(kubeconfig: Kubeconfig(yaml: yaml, resolvingPathsAgainst: "/etc"))
        guard case .exec(let config, let cluster) = configuration.credentials else {
            Issue.record("expected exec credentials, got \(configuration.credentials)")
            return
        }
        // A bare command name is looked up on PATH, not resolved against the kubeconfig's folder.
        #expect(config.command == "aws")
        #expect(config.args == ["--region", "us-east-1", "eks", "get-token", "--cluster-name", "prod"])
        #expect(config.env == [.init(name: "AWS_PROFILE", value: "platform")])
        #expect(cluster == nil)
    }
}
