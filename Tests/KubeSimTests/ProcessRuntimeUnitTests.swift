import Foundation
import KubeKit
import Testing

@testable import KubeSim

/// The process runtime's pure parts, without a host to run pods on.
@Suite struct ProcessRuntimeUnitTests {
    @Test func imagesMatchByRepositoryGlobWithAnyTag() throws {
        let map = try ImageMap(
            yaml: """
                images:
                - repository: pgvector/pgvector
                  bin: /opt/pg/bin
                  env: {LANG: C.UTF-8}
                - repository: vectorblocks/*
                  bin: /repo/.build/debug
                  entrypoint: [vectorblocks-operator]
                  user: "65532:65533"
                """)
        #expect(map.entry(for: "pgvector/pgvector:pg17")?.binDirectory == "/opt/pg/bin")
        #expect(map.entry(for: "docker.io/pgvector/pgvector:pg17")?.environment == ["LANG": "C.UTF-8"])
        #expect(map.entry(for: "pgvector/pgvector@sha256:abcd")?.hostRoot == "/opt/pg")
        #expect(map.entry(for: "vectorblocks/emu:0.1.0")?.entrypoint == ["vectorblocks-operator"])
        #expect(map.entry(for: "vectorblocks/emu:0.1.0")?.user == 65532)
        #expect(map.entry(for: "vectorblocks/emu:0.1.0")?.group == 65533)
        #expect(map.entry(for: "pgvector/pgvector:pg17")?.user == nil)
        #expect(map.entry(for: "qdrant/qdrant:v1.12.0") == nil)
        #expect(map.entry(for: "registry.local:5000/pgvector/pgvector:pg17") == nil)
        #expect(ImageMap.repository(of: "registry.local:5000/team/app:1.2") == "registry.local:5000/team/app")
    }

    @Test func aBadImageMapNamesTheField() {
        #expect(throws: ImageMapError("images[0].bin is required and must be an absolute host directory of executables")) {
            try ImageMap(yaml: "images:\n- repository: x\n  bin: relative/bin\n")
        }
        #expect(throws: ImageMapError("images[1].repository is required: a glob over image repositories such as pgvector/pgvector")) {
            try ImageMap(yaml: "images:\n- {repository: a, bin: /a}\n- {bin: /b}\n")
        }
        #expect(throws: ImageMapError("images[0].user must be a numeric uid or uid:gid such as \"65532:65532\", as the image's USER")) {
            try ImageMap(yaml: "images:\n- {repository: a, bin: /a, user: nonroot}\n")
        }
    }

    @Test func environmentFollowsTheKubeletsOrderAndExpansion() throws {
        let pod: JSONValue = [
            "metadata": ["name": "p-0", "namespace": "team", "uid": "u-1", "labels": ["app": "db"]],
            "spec": ["nodeName": "n1", "serviceAccountName": "sa"],
        ]
        let container: JSONValue = [
            "envFrom": [["configMapRef": ["name": "env"], "prefix": "CM_"], ["secretRef": ["name": "missing", "optional": true]]],
            "env": [
                ["name": "NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                ["name": "GREETING", "value": "hi $(NAME) in $(CM_ZONE), $$(NAME) $(UNKNOWN)"],
                ["name": "PASSWORD", "valueFrom": ["secretKeyRef": ["name": "creds", "key": "password"]]],
                ["name": "CPU", "valueFrom": ["resourceFieldRef": ["resource": "limits.cpu", "divisor": "1m"]]],
                ["name": "LABEL", "valueFrom": ["fieldRef": ["fieldPath": "metadata.labels['app']"]]],
            ],
            "resources": ["limits": ["cpu": "500m"]],
        ]
        let references = ContainerEnvironment.References(
            configMaps: ["env": ["data": ["ZONE": "a"]]], secrets: ["creds": ["data": ["password": .string(Data("pw".utf8).base64EncodedString())]]])
        let built = try ContainerEnvironment.build(
            pod: pod, container: container, image: ["LANG": "C"], base: [("PATH", "/bin")],
            facts: .init(podIP: "10.0.0.2", hostIP: "10.0.0.1"), references: references
        ).get()
        #expect(built.variables.map(\.name) == ["PATH", "LANG", "CM_ZONE", "NAME", "GREETING", "PASSWORD", "CPU", "LABEL"])
        let values = built.dictionary
        #expect(values["GREETING"] == "hi p-0 in a, $(NAME) $(UNKNOWN)")
        #expect(values["PASSWORD"] == "pw")
        #expect(values["CPU"] == "500")
        #expect(values["LABEL"] == "db")
        let missing: JSONValue = ["env": [["name": "X", "valueFrom": ["secretKeyRef": ["name": "creds", "key": "nope"]]]]]
        let failure = ContainerEnvironment.build(
            pod: pod, container: missing, image: [:], base: [], facts: .init(podIP: "", hostIP: ""), references: references)
        #expect(failure == .failure(ContainerConfigError("couldn't find key nope in Secret team/creds")))
    }

    @Test func theLaunchScriptMountsVolumesInsideTheContainerOnly() {
        var launch = ContainerLaunch(
            rootDirectory: "/state/pods/u/roots/db", imageDirectories: ["/work/pg", "/usr/lib/postgresql/16"],
            mounts: [
                .init(hostPath: "/state/pods/u/etc/hosts", mountPath: "/etc/hosts", readOnly: true, isFile: true),
                .init(hostPath: "/state/pods/u/volumes/config", mountPath: "/etc/postgresql/vb", readOnly: false),
                .init(hostPath: "/state/claims/c1", mountPath: "/var/lib/postgresql/data", readOnly: false),
            ],
            hostname: "db-0", user: 999, group: 999, supplementalGroups: [999], workingDirectory: "/",
            environment: [("PGDATA", "/var/lib/postgresql/data/pgdata"), ("QUOTE", "it's")], argv: ["/bin/sh", "/scripts/setup.sh"])
        launch.exists = { ["/etc/hosts", "/etc"].contains($0) }
        launch.isDirectory = { $0 == "/etc" }
        let script = launch.script
        #expect(launch.overlaidDirectories == ["/etc"])
        #expect(script.contains("overlay_dir '/etc'"))
        #expect(!script.contains("bind_ro /etc"))
        #expect(script.contains("mount -o remount,ro \"$R\"'/etc'"))
        #expect(script.contains("bind_ro '/work/pg' \"$R\"'/work/pg'"))
        #expect(!script.contains("bind_ro '/usr/lib/postgresql/16'"))
        #expect(script.contains("mount --bind '/state/claims/c1' \"$R\"'/var/lib/postgresql/data'"))
        #expect(script.contains("mount -o remount,bind,ro \"$R\"'/etc/hosts'"))
        #expect(
            script.contains(
                "exec chroot \"$R\" /usr/bin/setpriv --reuid=999 --regid=999 --groups=999 -- /usr/bin/env -i -C '/' "
                    + "'PGDATA=/var/lib/postgresql/data/pgdata' 'QUOTE=it'\\''s' '/bin/sh' '/scripts/setup.sh'"))
    }

    @Test func podFilesAreWhatTheKubeletWrites() {
        let pod: JSONValue = ["metadata": ["name": "db-0", "namespace": "team"], "spec": ["hostname": "db-0", "subdomain": "db-headless"]]
        #expect(PodFiles.hosts(pod: pod, podIP: "10.100.0.5").contains("10.100.0.5\tdb-0.db-headless.team.svc.cluster.local\tdb-0\n"))
        #expect(
            PodFiles.resolvConf(pod: pod, nameserver: "10.100.0.1")
                == "search team.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.100.0.1\noptions ndots:5\n")
        let passwd = PodFiles.passwd(host: "root:x:0:0:root:/root:/bin/bash\n", users: [(999, 999), (0, 0)])
        #expect(passwd == "root:x:0:0:root:/root:/bin/bash\nuid999:x:999:999:container user:/tmp:/bin/sh\n")
    }

    @Test func logTailCountsLines() {
        #expect(PodLogHandler.tail(Data("a\nb\nc\n".utf8), lines: 2) == Data("b\nc\n".utf8))
        #expect(PodLogHandler.tail(Data("a\nb".utf8), lines: 5) == Data("a\nb".utf8))
        #expect(PodLogHandler.tail(Data("a\nb\n".utf8), lines: 0) == Data())
    }
}
