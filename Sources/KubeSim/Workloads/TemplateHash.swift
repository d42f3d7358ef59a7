import Foundation
import KubeKit

/// Hashes the way Kubernetes names revisions: FNV-1a over the object, then `rand.SafeEncodeString` of the decimal
/// value (no vowels, so no words), as in `controller-revision-hash` and `pod-template-hash` labels.
enum TemplateHash {
    static func of(_ value: JSONValue) -> String {
        let data = value.jsonData(sortedKeys: true)
        return of(bytes: Array(data))
    }

    static func of(bytes: [UInt8]) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }
}
