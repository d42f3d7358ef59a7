/// Every kbctl command that talks to a cluster, with the `-o` values it gives, as the kubectl command it resembles
/// gives them: listings (`get`) all five; commands about one object (`create`, `describe`, a day-2 command's
/// OpsRequest, `apply` of an addon) all but `wide`; deletions, install and uninstall `table` and `name` (as
/// `kubectl delete` only knows `-o name`); `connect` only its text.
public enum KbctlCommand: String, Sendable, CaseIterable {
    case install, uninstall
    case clusterCreate = "cluster create"
    case clusterList = "cluster list"
    case clusterDescribe = "cluster describe"
    case clusterDelete = "cluster delete"
    case clusterHScale = "cluster hscale"
    case clusterVScale = "cluster vscale"
    case clusterVolumeExpand = "cluster volume-expand"
    case clusterRestart = "cluster restart"
    case clusterStop = "cluster stop"
    case clusterStart = "cluster start"
    case clusterExpose = "cluster expose"
    case clusterUpgrade = "cluster upgrade"
    case clusterPromote = "cluster promote"
    case clusterConnect = "cluster connect"
    case clusterListOps = "cluster list-ops"
    case clusterListEvents = "cluster list-events"
    case clusterBackup = "cluster backup"
    case clusterListBackups = "cluster list-backups"
    case clusterDeleteBackup = "cluster delete-backup"
    case clusterRestore = "cluster restore"
    case pipelineCreate = "pipeline create"
    case pipelineList = "pipeline list"
    case pipelineDescribe = "pipeline describe"
    case pipelineDelete = "pipeline delete"
    case addonList = "addon list"
    case addonEnable = "addon enable"
    case addonDisable = "addon disable"

    public var formats: [OutputFormat] {
        switch self {
        case .clusterList, .clusterListOps, .clusterListEvents, .clusterListBackups, .pipelineList, .addonList:
            OutputFormat.allCases
        case .clusterCreate, .clusterDescribe, .clusterHScale, .clusterVScale, .clusterVolumeExpand, .clusterRestart, .clusterStop,
            .clusterStart, .clusterExpose, .clusterUpgrade, .clusterPromote, .clusterBackup, .clusterRestore, .pipelineCreate, .pipelineDescribe,
            .addonEnable:
            [.table, .yaml, .json, .name]
        case .install, .uninstall, .clusterDelete, .clusterDeleteBackup, .pipelineDelete, .addonDisable:
            [.table, .name]
        case .clusterConnect:
            [.table]
        }
    }

    /// Why a format is not given, where there is more to say than the list of those that are.
    var refusalHint: String? {
        switch self {
        case .install: "the manifests it applies are crds/ and deploy/operator.yaml in the repository"
        case .clusterConnect: "it runs a client or prints how to reach the cluster; kbctl cluster describe -o yaml gives the Cluster"
        default: nil
        }
    }

    /// The format, or an error naming the flag, what was asked and what this command gives.
    public func check(_ output: String) throws -> OutputFormat {
        guard let format = OutputFormat(rawValue: output) else {
            throw CLIError(
                "-o/--output \"\(output)\" is not one of \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")); kbctl \(rawValue) gives "
                    + Self.list(formats))
        }
        guard formats.contains(format) else {
            throw CLIError(
                "-o/--output \(output): kbctl \(rawValue) gives only \(Self.list(formats))" + (refusalHint.map { " (\($0))" } ?? ""))
        }
        return format
    }

    static func list(_ formats: [OutputFormat]) -> String {
        let names = formats.map { "-o \($0.rawValue)" }
        return names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
    }
}
