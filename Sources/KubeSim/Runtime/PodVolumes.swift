import Foundation
import KubeKit

#if canImport(Glibc)
import Glibc
#endif

/// A pod's volumes as host directories, the way the kubelet prepares them before starting containers: emptyDir,
/// configMap, secret, downwardAPI and projected volumes under the pod's directory, a PersistentVolumeClaim's
/// directory under the server's claims directory (kept until the claim goes), and the service-account token.
struct PodVolumes: Sendable {
    /// What volume sources read from the cluster.
    struct Sources: Sendable {
        var configMaps: [String: JSONValue]
        var secrets: [String: JSONValue]
        var claims: [String: JSONValue]
        /// A token for the pod's service account, for `serviceAccountToken` projections.
        var serviceAccountToken: String?
        var certificateAuthorityPEM: String
    }

    let podDirectory: String
    let claimsDirectory: String

    /// The host directory of each volume, or why the pod cannot start (a missing ConfigMap or claim).
    func prepare(_ pod: JSONValue, sources: Sources) -> Result<[String: String], ContainerConfigError> {
        let fsGroup = pod["spec"]?["securityContext"]?["fsGroup"]?.intValue.map { gid_t($0) }
        var paths: [String: String] = [:]
        for volume in pod["spec"]?["volumes"]?.arrayValue ?? [] {
            guard let name = volume["name"]?.stringValue else { continue }
            let directory = "\(podDirectory)/volumes/\(name)"
            let files: [String: (String, Int)]
            if volume["emptyDir"] != nil {
                makeDirectory(directory, fsGroup: fsGroup, mode: fsGroup == nil ? 0o777 : 0o2777)
                paths[name] = directory
                continue
            } else if let claim = volume["persistentVolumeClaim"] {
                let claimName = claim["claimName"]?.stringValue ?? ""
                guard sources.claims[claimName] != nil else { return .failure(ContainerConfigError("persistentvolumeclaim \"\(claimName)\" not found")) }
                // Keyed by the claim's uid: a claim deleted and created again under its name starts empty, as a new volume would.
                let claimDirectory = "\(claimsDirectory)/\(sources.claims[claimName]?.uid ?? claimName)"
                makeDirectory(claimDirectory, fsGroup: fsGroup, mode: fsGroup == nil ? 0o777 : 0o2775)
                paths[name] = claimDirectory
                continue
            } else if let source = volume["configMap"] {
                guard let found = projectConfigMap(source, sources: sources) else {
                    return .failure(ContainerConfigError("configmap \"\(source["name"]?.stringValue ?? "")\" not found"))
                }
                files = found
            } else if let source = volume["secret"] {
                guard let found = projectSecret(source, nameField: "secretName", sources: sources) else {
                    return .failure(ContainerConfigError("secret \"\(source["secretName"]?.stringValue ?? "")\" not found"))
                }
                files = found
            } else if let source = volume["downwardAPI"] {
                files = projectDownwardAPI(source, pod: pod, defaultMode: source["defaultMode"]?.intValue.map(Int.init) ?? 0o644)
            } else if let projected = volume["projected"] {
                switch project(projected, pod: pod, sources: sources) {
                case .success(let found): files = found
                case .failure(let error): return .failure(error)
                }
            } else {
                return .failure(
                    ContainerConfigError(
                        "volume \(name): only emptyDir, configMap, secret, downwardAPI, projected and persistentVolumeClaim volumes run as processes"))
            }
            writeFiles(files, into: directory, fsGroup: fsGroup)
            paths[name] = directory
        }
        return .success(paths)
    }

    private func projectConfigMap(_ source: JSONValue, sources: Sources) -> [String: (String, Int)]? {
        let name = source["name"]?.stringValue ?? ""
        guard let object = sources.configMaps[name] else { return source["optional"]?.boolValue == true ? [:] : nil }
        let data = (object["data"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        return select(data, source)
    }

    private func projectSecret(_ source: JSONValue, nameField: String, sources: Sources) -> [String: (String, Int)]? {
        let name = source[nameField]?.stringValue ?? ""
        guard let object = sources.secrets[name] else { return source["optional"]?.boolValue == true ? [:] : nil }
        return select(ContainerEnvironment.secretData(object), source)
    }

    /// Every key as a file, or only `items` at their paths; modes from the item, `defaultMode`, else 0644.
    private func select(_ data: [String: String], _ source: JSONValue, defaultMode inherited: Int = 0o644) -> [String: (String, Int)] {
        let defaultMode = source["defaultMode"]?.intValue.map(Int.init) ?? inherited
        guard let items = source["items"]?.arrayValue else { return data.mapValues { ($0, defaultMode) } }
        var files: [String: (String, Int)] = [:]
        for item in items {
            guard let key = item["key"]?.stringValue, let value = data[key] else { continue }
            files[item["path"]?.stringValue ?? key] = (value, item["mode"]?.intValue.map(Int.init) ?? defaultMode)
        }
        return files
    }

    private func projectDownwardAPI(_ source: JSONValue, pod: JSONValue, defaultMode: Int) -> [String: (String, Int)] {
        var files: [String: (String, Int)] = [:]
        for item in source["items"]?.arrayValue ?? [] {
            guard let path = item["path"]?.stringValue, let field = item["fieldRef"]?["fieldPath"]?.stringValue else { continue }
            let value: String
            switch field {
            case "metadata.labels", "metadata.annotations":
                let kind = field == "metadata.labels" ? "labels" : "annotations"
                value = (pod["metadata"]?[kind]?.objectValue ?? [:]).sorted { $0.key < $1.key }
                    .map { "\($0.key)=\"\($0.value.stringValue ?? "")\"" }.joined(separator: "\n")
            default:
                value = ContainerEnvironment.fieldValue(field, pod: pod, facts: .init(podIP: pod["status"]?["podIP"]?.stringValue ?? "", hostIP: "")) ?? ""
            }
            files[path] = (value, item["mode"]?.intValue.map(Int.init) ?? defaultMode)
        }
        return files
    }

    private func project(_ projected: JSONValue, pod: JSONValue, sources: Sources) -> Result<[String: (String, Int)], ContainerConfigError> {
        let defaultMode = projected["defaultMode"]?.intValue.map(Int.init) ?? 0o644
        var files: [String: (String, Int)] = [:]
        for source in projected["sources"]?.arrayValue ?? [] {
            if let token = source["serviceAccountToken"] {
                guard let value = sources.serviceAccountToken else {
                    return .failure(ContainerConfigError("serviceaccount \"\(pod["spec"]?["serviceAccountName"]?.stringValue ?? "default")\" not found"))
                }
                files[token["path"]?.stringValue ?? "token"] = (value, defaultMode)
            } else if let configMap = source["configMap"] {
                // kube-root-ca.crt is what every namespace has in a real cluster: the API server's CA.
                if configMap["name"]?.stringValue == "kube-root-ca.crt", sources.configMaps["kube-root-ca.crt"] == nil {
                    files.merge(select(["ca.crt": sources.certificateAuthorityPEM], configMap, defaultMode: defaultMode)) { $1 }
                    continue
                }
                guard let found = projectConfigMap(configMap, sources: sources) else {
                    return .failure(ContainerConfigError("configmap \"\(configMap["name"]?.stringValue ?? "")\" not found"))
                }
                files.merge(found.mapValues { ($0.0, configMap["items"] == nil ? defaultMode : $0.1) }) { $1 }
            } else if let secret = source["secret"] {
                guard let found = projectSecret(secret, nameField: "name", sources: sources) else {
                    return .failure(ContainerConfigError("secret \"\(secret["name"]?.stringValue ?? "")\" not found"))
                }
                files.merge(found) { $1 }
            } else if let downward = source["downwardAPI"] {
                files.merge(projectDownwardAPI(downward, pod: pod, defaultMode: defaultMode)) { $1 }
            }
        }
        return .success(files)
    }

    private func makeDirectory(_ path: String, fsGroup: gid_t?, mode: mode_t) {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if let fsGroup { chown(path, 0, fsGroup) }
        chmod(path, mode)
    }

    /// Writes each file by rename, so a container never reads half of one; removes files no longer projected.
    /// Called again while the pod runs, it carries ConfigMap and Secret updates into the pod as the kubelet does.
    func writeFiles(_ files: [String: (String, Int)], into directory: String, fsGroup: gid_t?) {
        makeDirectory(directory, fsGroup: fsGroup, mode: 0o755)
        let existing = Set(FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? [])
        for (path, (content, mode)) in files {
            let target = "\(directory)/\(path)"
            let parent = (target as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            if let current = FileManager.default.contents(atPath: target), current == Data(content.utf8) { continue }
            let temporary = "\(parent)/.\((path as NSString).lastPathComponent).tmp"
            _ = FileManager.default.createFile(atPath: temporary, contents: Data(content.utf8))
            if let fsGroup {
                chown(temporary, 0, fsGroup)
                chmod(temporary, mode_t(mode) | 0o040)
            } else {
                chmod(temporary, mode_t(mode))
            }
            rename(temporary, target)
        }
        for stale in existing where files[stale] == nil {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(directory)/\(stale)", isDirectory: &isDirectory), !isDirectory.boolValue {
                try? FileManager.default.removeItem(atPath: "\(directory)/\(stale)")
            }
        }
    }
}
