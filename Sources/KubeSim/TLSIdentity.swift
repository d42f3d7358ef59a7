import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A throw-away self-signed certificate for serving HTTPS on loopback, so that clients which only send credentials
/// over TLS (kubectl never sends a bearer token over plain HTTP) can authenticate. The certificate is its own CA;
/// the kubeconfig carries it as `certificate-authority-data`.
struct TLSIdentity: Sendable {
    let certificatePEM: String
    let privateKeyPEM: String

    /// A certificate for `host`, localhost and 127.0.0.1, and for `alternativeNames` (IPv4 addresses or DNS names:
    /// with pods that run, the `kubernetes` Service's ClusterIP and names, as a real API server's serving certificate has).
    static func selfSigned(host: String, alternativeNames: [String] = []) throws -> TLSIdentity {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("kube-sim")
            OrganizationName("VectorBlocks KubeSim")
        }
        var names: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        for name in [host] + alternativeNames where name != "127.0.0.1" && name != "localhost" {
            let octets = name.split(separator: ".").compactMap { UInt8($0) }
            names.append(octets.count == 4 ? .ipAddress(ASN1OctetString(contentBytes: ArraySlice(octets))) : .dnsName(name))
        }
        let now = Date.now
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 24 * 3600),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(key))
        return TLSIdentity(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    func serverConfiguration() throws -> TLSConfiguration {
        let certificate = try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
    }
}
