import Foundation
import TestSupport
import Testing

@testable import KubeKit

@Suite("Kubeconfig")
struct KubeconfigTests {
    let fixtures = Bundle.module.resourcePath! + "/Fixtures/kubeconfig"

    @Test func tokenContextWithNamespaceAndInlineCertificateAuthority() throws {
        let kubeconfig = try Kubeconfig.load(paths: [fixtures + "/token.yaml"])
        let configuration = try KubeClientConfiguration(kubeconfig: kubeconfig)
        #expect(configuration.server == "https://prod.example.test:6443")
        #expect(configuration.namespace == "databases")
        #expect(configuration.credentials == .bearerToken("prod-token-value"))
        let expectedCA = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/ca.crt"))
        #expect(configuration.tls.certificateAuthorityPEM == Array(expectedCA))
        #expect(configuration.tls.insecureSkipTLSVerify == false)
        // The TLS configuration builds from the material, so the CA really is a certificate.
        _ = try HTTPKubeTransport.makeTLSConfiguration(configuration.tls, exec: nil)
    }

    @Test func namedContextOverridesCurrentContext() throws {
        let kubeconfig = try Kubeconfig.load(paths: [fixtures + "/token.yaml"])
        let configuration = try KubeClientConfiguration(kubeconfig: kubeconfig, context: "dev")
        #expect(configuration.server == "http://127.0.0.1:8080")
        #expect(configuration.namespace == "default")
        #expect(configuration.tls.insecureSkipTLSVerify)
        #expect(configuration.credentials == .basic(username: "dev", password: "dev-password"))
    }

    @Test func unknownContextAndClusterNameWhatIsMissing() throws {
        let kubeconfig = try Kubeconfig.load(paths: [fixtures + "/token.yaml"])
        #expect(throws: KubeConfigurationError.unknownContext("nope", available: ["prod", "dev", "broken"])) {
            try KubeClientConfiguration(kubeconfig: kubeconfig, context: "nope")
        }
        #expect(throws: KubeConfigurationError.unknownCluster("missing-cluster", context: "broken")) {
            try KubeClientConfiguration(kubeconfig: kubeconfig, context: "broken")
        }
    }

    @Test func relativeCertificatePathsResolveAgainstTheFile() throws {
        let kubeconfig = try Kubeconfig.load(paths: [fixtures + "/certs.yaml"])
        #expect(kubeconfig.clusters[0].cluster.certificateAuthority == fixtures + "/ca.crt")
        let configuration = try KubeClientConfiguration(kubeconfig: kubeconfig)
        let certificate = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/client.crt"))
        #expect(configuration.tls.clientCertificatePEM == Array(certificate))
        #expect(configuration.tls.clientKeyPEM != nil)
        #expect(configuration.credentials == .none)
        let tls = try HTTPKubeTransport.makeTLSConfiguration(configuration.tls, exec: nil)
        #expect(tls.certificateChain.count == 1)
        #expect(tls.privateKey != nil)
    }

    @Test func tokenFileIsReadAtRequestTimeAndReReadAfterItsInterval() async throws {
        let directory = try TemporaryDirectory()
        let tokenPath = directory.path + "/token"
        try "first-token\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        let provider = CredentialProvider(credentials: .tokenFile(path: tokenPath), tokenFileRefreshInterval: .zero)
        #expect(try await provider.current().authorization == "Bearer first-token")
        try "rotated-token".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        #expect(try await provider.current().authorization == "Bearer rotated-token")

        let cached = CredentialProvider(credentials: .tokenFile(path: tokenPath), tokenFileRefreshInterval: .seconds(60))
        #expect(try await cached.current().authorization == "Bearer rotated-token")
        try "third-token".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        #expect(try await cached.current().authorization == "Bearer rotated-token")
        await cached.invalidate()
        #expect(try await cached.current().authorization == "Bearer third-token")
    }

    @Test func kubeconfigFilesMergeTheWayKubectlMergesThem() throws {
        let directory = try TemporaryDirectory()
        let first = directory.path + "/first.yaml"
        let second = directory.path + "/second.yaml"
        try """
        clusters:
        - name: shared
          cluster: {server: https://first.example.test}
        users:
        - name: u
          user: {token: first}
        contexts:
        - name: a
          context: {cluster: shared, user: u}
        """.write(toFile: first, atomically: true, encoding: .utf8)
        try """
        current-context: b
        clusters:
        - name: shared
          cluster: {server: https://second.example.test}
        - name: only-second
          cluster: {server: https://only-second.example.test}
        contexts:
        - name: b
          context: {cluster: only-second, user: u, namespace: team-b}
        """.write(toFile: second, atomically: true, encoding: .utf8)
        let environment = ["KUBECONFIG": "\(first):\(directory.path)/missing.yaml:\(second)", "HOME": directory.path]
        let configuration = try KubeClientConfiguration.load(environment: environment)
        // current-context comes from the only file that sets it; the user comes from the first file.
        #expect(configuration.server == "https://only-second.example.test")
        #expect(configuration.namespace == "team-b")
        #expect(configuration.credentials == .bearerToken("first"))
        // The first file to define a name wins.
        let shared = try KubeClientConfiguration.load(context: "a", environment: environment)
        #expect(shared.server == "https://first.example.test")
    }

    @Test func invalidKubeconfigNamesTheField() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/bad.yaml"
        try "clusters:\n- name: x\n  cluster: {insecure-skip-tls-verify: true}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Kubeconfig.load(paths: [path])
            Issue.record("a cluster without a server must be rejected")
        } catch let error as KubeConfigurationError {
            #expect("\(error)".contains("clusters[0].cluster.server"))
        }
        let noFile = directory.path + "/absent.yaml"
        #expect(throws: KubeConfigurationError.unreadableFile(path: noFile, purpose: "kubeconfig")) {
            try KubeClientConfiguration.load(kubeconfigPath: noFile, environment: [:])
        }
    }

    @Test func serverMustBeAnHTTPURL() {
        #expect(throws: KubeConfigurationError.invalidServer("prod.example.test:6443")) {
            try KubeClientConfiguration(server: "prod.example.test:6443")
        }
    }

    @Test func inClusterReadsServiceAccountFilesAndEnvironment() throws {
        let directory = try TemporaryDirectory()
        try "sa-token".write(toFile: directory.path + "/token", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: fixtures + "/ca.crt", toPath: directory.path + "/ca.crt")
        try "vectorblocks-system\n".write(toFile: directory.path + "/namespace", atomically: true, encoding: .utf8)
        let environment = ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"]
        let configuration = try KubeClientConfiguration.load(
            environment: environment, serviceAccountDirectory: directory.path)
        #expect(configuration.server == "https://[fd00::1]:443")
        #expect(configuration.namespace == "vectorblocks-system")
        #expect(configuration.credentials == .tokenFile(path: directory.path + "/token"))
        #expect(configuration.tls.certificateAuthorityPEM != nil)

        #expect(throws: KubeConfigurationError.notInCluster(missing: "KUBERNETES_SERVICE_PORT")) {
            try KubeClientConfiguration.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1"], serviceAccountDirectory: directory.path)
        }
    }

    @Test func credentialsNeverPrintSecrets() {
        let secrets: [KubeClientConfiguration.Credentials] = [
            .bearerToken("s3cr3t-token"), .basic(username: "admin", password: "s3cr3t-password"),
        ]
        for credentials in secrets {
            #expect(!"\(credentials)".contains("s3cr3t"))
        }
    }
}
