import Foundation
import KubeKit

#if canImport(Glibc)
import Glibc
#endif

/// The kubelet's work for one pod run as processes, from sandbox to teardown: the network namespace and volumes,
/// init containers in order, then the containers with their restart policy and back-off, probes, status reports,
/// and termination (preStop, SIGTERM, the grace period, SIGKILL). One worker per pod, run as a child task of the
/// runtime; it ends after the pod's processes and sandbox are gone.
actor PodWorker {
    enum Event: Sendable {
        case exited(container: String, generation: Int, ContainerProcess.Exit)
        case restartDue(container: String)
        case probed(container: String, generation: Int, ProbeKind, passed: Bool, message: String)
        /// Something the pod references may have changed (a ConfigMap, a Secret, a claim): retry what waits on it.
        case refresh
        case stop(grace: Duration)
        case graceElapsed
        /// A container stopped for a restart had its grace period.
        case killDue(container: String, generation: Int)
        /// The node is lost: everything is killed at once and nothing restarts.
        case halt
    }

    let uid: String
    let name: ObjectName
    let context: PodRuntimeContext
    private var pod: JSONValue
    private var sandbox: PodNetwork.Sandbox?
    private var initContainers: [ContainerRecord]
    private var containers: [ContainerRecord]
    private var nextInit = 0
    private var stopping: ContinuousClock.Instant?
    private var halted = false
    private var failure: (reason: String, message: String)?
    private var volumePaths: [String: String] = [:]
    private var configProblem: String?
    private var serviceAccountToken: String?
    private let startTime = Clock.now()
    private let events: AsyncStream<Event>
    private let post: AsyncStream<Event>.Continuation

    init(pod: JSONValue, context: PodRuntimeContext) {
        self.pod = pod
        self.uid = pod.uid ?? ""
        self.name = ObjectName(namespace: pod.metadataNamespace ?? "default", name: pod.metadataName ?? "")
        self.context = context
        initContainers = (pod["spec"]?["initContainers"]?.arrayValue ?? []).map(ContainerRecord.init)
        containers = (pod["spec"]?["containers"]?.arrayValue ?? []).map(ContainerRecord.init)
        for index in initContainers.indices { initContainers[index].state = ["waiting": ["reason": "PodInitializing"]] }
        (events, post) = AsyncStream<Event>.makeStream()
    }

    nonisolated func send(_ event: Event) { post.yield(event) }

    var directory: String { context.podsDirectory + "/" + uid }
    private var restartPolicy: String { pod["spec"]?["restartPolicy"]?.stringValue ?? "Always" }

    // MARK: The pod's life

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            await setUp()
            await advance(group: &group)
            await report()
            for await event in events {
                if await handle(event, group: &group) { break }
                await report()
            }
            group.cancelAll()
        }
        await tearDown()
    }

    /// Handles one event; true once every process has ended after a stop.
    private func handle(_ event: Event, group: inout TaskGroup<Void>) async -> Bool {
        switch event {
        case .exited(let container, let generation, let exit):
            recordExit(container, generation: generation, exit: exit, group: &group)
            if stopping != nil || halted { return allEnded }
            await advance(group: &group)
        case .restartDue(let container):
            guard stopping == nil, !halted else { return allEnded }
            await start(container, group: &group)
        case .probed(let container, let generation, let kind, let passed, let message):
            await recordProbe(container, generation: generation, kind: kind, passed: passed, message: message, group: &group)
        case .killDue(let container, let generation):
            if let (record, _) = record(named: container), record.generation == generation { record.process?.send(SIGKILL) }
        case .refresh:
            guard stopping == nil, !halted else { return false }
            await refreshVolumes()
            await advance(group: &group)
        case .stop(let grace):
            guard stopping == nil else { return allEnded }
            stopping = .now
            await terminate(grace: grace, group: &group)
            return allEnded
        case .graceElapsed:
            for record in initContainers + containers where record.process != nil { record.process?.send(SIGKILL) }
            return allEnded
        case .halt:
            halted = true
            for record in initContainers + containers where record.process != nil { record.process?.send(SIGKILL) }
            if stopping != nil { return allEnded }
        }
        return false
    }

    private var allEnded: Bool { (initContainers + containers).allSatisfy { $0.process == nil } }

    private func setUp() async {
        do {
            sandbox = try await context.network.sandbox(for: uid)
        } catch {
            failure = ("NetworkNotReady", "\(error)")
            return
        }
        try? FileManager.default.createDirectory(atPath: directory + "/etc", withIntermediateDirectories: true)
        // The logs directory says "this pod runs as processes" to the log endpoint, before a container has started.
        try? FileManager.default.createDirectory(atPath: directory + "/logs", withIntermediateDirectories: true)
        await writePodFiles()
        await refreshVolumes()
    }

    /// Starts what is due: the next init container, or (all of them done) every container not yet started.
    private func advance(group: inout TaskGroup<Void>) async {
        guard sandbox != nil, stopping == nil, !halted, configProblem == nil else { return }
        while nextInit < initContainers.count {
            let record = initContainers[nextInit]
            if record.process != nil { return }
            if record.exitCode == 0 {
                nextInit += 1
                continue
            }
            // A failed one that does not restart fails the pod; one in back-off starts when its delay is over.
            if record.isTerminated || record.state["waiting"]?["reason"]?.stringValue == "CrashLoopBackOff" { return }
            await start(record.name, group: &group)
            return
        }
        for record in containers where record.process == nil && !record.isTerminated && record.state["waiting"]?["reason"]?.stringValue != "CrashLoopBackOff" {
            await start(record.name, group: &group)
        }
    }

    // MARK: Containers

    private func start(_ containerName: String, group: inout TaskGroup<Void>) async {
        let isInit = initContainers.contains { $0.name == containerName }
        guard var record = isInit ? initContainers.first(where: { $0.name == containerName }) : containers.first(where: { $0.name == containerName }),
            let sandbox, record.process == nil
        else { return }
        // The record is stored before each suspension: the probe loops read it while this call awaits, and a loop
        // that found no process would end for good.
        switch await launch(record) {
        case .failure(let error):
            record.state = ["waiting": ["reason": .string(error.reason), "message": .string(error.message)]]
            store(record, isInit: isInit)
            await context.recordEvent(pod, type: "Warning", reason: "Failed", message: "Error: \(error.message)")
        case .success(let launch):
            let scriptPath = "\(directory)/launch-\(record.name).sh"
            let logPath = logFile(record.name, restart: record.restartCount)
            do {
                try? FileManager.default.createDirectory(atPath: (logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try? FileManager.default.createDirectory(atPath: launch.rootDirectory, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: scriptPath, contents: Data(launch.script.utf8))
                let process = try ContainerProcess.start(scriptPath: scriptPath, networkNamespace: sandbox.namespacePath, logPath: logPath)
                record.generation += 1
                record.process = process
                record.state = ["running": ["startedAt": .string(Clock.now())]]
                record.startedAt = .now
                record.probeCounts = [:]
                record.startupSucceeded = record.spec["startupProbe"] == nil
                record.started = record.startupSucceeded
                record.ready = !isInit && record.spec["readinessProbe"] == nil && record.started
                let generation = record.generation
                let post = self.post
                store(record, isInit: isInit)
                group.addTask {
                    let exit = await process.waitForExit()
                    post.yield(.exited(container: containerName, generation: generation, exit))
                }
                if !isInit { addProbeLoop(for: record, launch: launch, process: process, group: &group) }
                await context.recordEvent(pod, type: "Normal", reason: "Started", message: "Started container \(record.name)")
            } catch {
                record.state = ["waiting": ["reason": "RunContainerError", "message": .string("\(error)")]]
                store(record, isInit: isInit)
            }
        }
    }

    private func store(_ record: ContainerRecord, isInit: Bool) {
        if isInit {
            if let index = initContainers.firstIndex(where: { $0.name == record.name }) { initContainers[index] = record }
        } else if let index = containers.firstIndex(where: { $0.name == record.name }) {
            containers[index] = record
        }
    }

    private func record(named name: String) -> (ContainerRecord, Bool)? {
        if let record = initContainers.first(where: { $0.name == name }) { return (record, true) }
        if let record = containers.first(where: { $0.name == name }) { return (record, false) }
        return nil
    }

    func logFile(_ container: String, restart: Int) -> String { "\(directory)/logs/\(container)/\(restart).log" }

    /// The last lines a container wrote, for a terminated state's message (FallbackToLogsOnError).
    private func tail(_ container: String, restart: Int, lines: Int = 10) -> String {
        guard let data = FileManager.default.contents(atPath: logFile(container, restart: restart)) else { return "" }
        let text = String(decoding: data.suffix(4096), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func recordExit(_ containerName: String, generation: Int, exit: ContainerProcess.Exit, group: inout TaskGroup<Void>) {
        guard let found = record(named: containerName), found.0.generation == generation else { return }
        var record = found.0
        let isInit = found.1
        let startedAt = record.state["running"]?["startedAt"] ?? .string(Clock.now())
        var terminated: [String: JSONValue] = [
            "exitCode": .int(Int64(exit.code)), "reason": .string(exit.reason), "startedAt": startedAt, "finishedAt": .string(Clock.now()),
            "containerID": .string("process://\(uid)/\(record.name)/\(record.generation)"),
        ]
        if let signal = exit.signal { terminated["signal"] = .int(Int64(signal)) }
        if exit.code != 0 {
            let output = tail(record.name, restart: record.restartCount)
            if !output.isEmpty { terminated["message"] = .string(output) }
        }
        record.process = nil
        record.ready = false
        record.started = false
        let ranLong = record.startedAt.map { ContinuousClock.now - $0 > .seconds(600) } ?? false
        let restarts: Bool
        switch restartPolicy {
        case "Never": restarts = false
        case "OnFailure": restarts = exit.code != 0
        default: restarts = !isInit || exit.code != 0
        }
        if restarts && stopping == nil && !halted {
            record.crashes = ranLong ? 1 : record.crashes + 1
            let delay = backOff(after: record.crashes)
            record.lastState = ["terminated": .object(terminated)]
            record.restartCount += 1
            let message = "back-off \(delay) restarting failed container=\(record.name) pod=\(name.name)_\(name.namespace)(\(uid))"
            record.state = ["waiting": ["reason": "CrashLoopBackOff", "message": .string(message)]]
            let post = self.post
            group.addTask {
                try? await Task.sleep(for: delay)
                if !Task.isCancelled { post.yield(.restartDue(container: containerName)) }
            }
        } else {
            record.state = ["terminated": .object(terminated)]
        }
        store(record, isInit: isInit)
    }

    /// The kubelet's crash back-off: the base, doubled per consecutive crash, capped.
    private func backOff(after crashes: Int) -> Duration {
        var delay = context.settings.restartBackOff
        for _ in 1..<max(1, crashes) where delay < context.settings.maximumRestartBackOff { delay = delay * 2 }
        return min(delay, context.settings.maximumRestartBackOff)
    }

    /// SIGKILLs a container's processes (a test's fault); false when it is not running.
    func killContainer(_ containerName: String) -> Bool {
        guard let (record, _) = record(named: containerName), let process = record.process else { return false }
        process.send(SIGKILL)
        return true
    }

    // MARK: Probes

    private func addProbeLoop(for record: ContainerRecord, launch: ContainerLaunch, process: ContainerProcess, group: inout TaskGroup<Void>) {
        let kinds: [ProbeKind] = [.startup, .liveness, .readiness].filter { record.spec[$0.field] != nil }
        guard !kinds.isEmpty, let sandbox else { return }
        var ports: [String: Int] = [:]
        for port in record.spec["ports"]?.arrayValue ?? [] {
            if let name = port["name"]?.stringValue, let number = port["containerPort"]?.intValue { ports[name] = Int(number) }
        }
        let checks = kinds.map { ($0, ProbeCheck(probe: record.spec[$0.field] ?? [:], podIP: sandbox.address, containerPorts: ports)) }
        let (user, groupID, environment) = (launch.user, launch.group, launch.environment)
        let (containerName, generation, post) = (record.name, record.generation, self.post)
        let started = ContinuousClock.now
        for (kind, check) in checks {
            group.addTask {
                var next = started + check.initialDelay
                while !Task.isCancelled {
                    try? await Task.sleep(until: next, clock: .continuous)
                    guard await self.wantsProbe(containerName, generation: generation, kind: kind) else {
                        if await self.isCurrent(containerName, generation: generation) {
                            next = .now + check.period
                            continue
                        }
                        return
                    }
                    let (passed, message) = await check.run(in: process, user: user, group: groupID, environment: environment)
                    post.yield(.probed(container: containerName, generation: generation, kind, passed: passed, message: message))
                    next = .now + check.period
                }
            }
        }
    }

    private func isCurrent(_ container: String, generation: Int) -> Bool {
        record(named: container).map { $0.0.generation == generation && $0.0.process != nil } ?? false
    }

    /// Liveness and readiness wait for the startup probe; nothing is probed once the container is stopping.
    private func wantsProbe(_ container: String, generation: Int, kind: ProbeKind) -> Bool {
        guard stopping == nil, !halted, let (record, _) = record(named: container), record.generation == generation, record.process != nil else { return false }
        return kind == .startup ? !record.startupSucceeded : record.startupSucceeded
    }

    private func recordProbe(_ containerName: String, generation: Int, kind: ProbeKind, passed: Bool, message: String, group: inout TaskGroup<Void>) async {
        guard let found = record(named: containerName), found.0.generation == generation, found.0.process != nil else { return }
        var record = found.0
        let isInit = found.1
        let check = ProbeCheck(probe: record.spec[kind.field] ?? [:], podIP: "", containerPorts: [:])
        var counts = record.probeCounts[kind] ?? (0, 0)
        counts = passed ? (counts.successes + 1, 0) : (0, counts.failures + 1)
        record.probeCounts[kind] = counts
        if !passed {
            await context.recordEvent(pod, type: "Warning", reason: "Unhealthy", message: "\(kind.rawValue.capitalized) probe failed: \(message)")
        }
        switch kind {
        case .startup:
            if passed {
                record.startupSucceeded = true
                record.started = true
                record.ready = record.spec["readinessProbe"] == nil
            } else if counts.failures >= check.failureThreshold {
                record.process?.send(SIGKILL)
            }
        case .readiness:
            if passed && counts.successes >= check.successThreshold { record.ready = true }
            if !passed && counts.failures >= check.failureThreshold { record.ready = false }
        case .liveness:
            if !passed && counts.failures >= check.failureThreshold {
                await context.recordEvent(
                    pod, type: "Normal", reason: "Killing", message: "Container \(containerName) failed liveness probe, will be restarted")
                stopContainer(record, grace: terminationGrace, group: &group)
            }
        }
        store(record, isInit: isInit)
    }

    private var terminationGrace: Duration { .seconds(pod["spec"]?["terminationGracePeriodSeconds"]?.intValue ?? 30) }

    // MARK: Stopping

    /// preStop hooks, then SIGTERM to every container, and SIGKILL to what still runs once `grace` is over.
    private func terminate(grace: Duration, group: inout TaskGroup<Void>) async {
        for record in initContainers + containers where record.process != nil {
            await context.recordEvent(pod, type: "Normal", reason: "Killing", message: "Stopping container \(record.name)")
        }
        let post = self.post
        let running = (initContainers + containers).filter { $0.process != nil }
        let hooks = running.map { ($0, launchUser($0)) }
        group.addTask {
            await withTaskGroup(of: Void.self) { stops in
                for (record, user) in hooks {
                    stops.addTask {
                        if let command = record.spec["lifecycle"]?["preStop"]?["exec"]?["command"]?.arrayValue?.compactMap(\.stringValue) {
                            _ = await record.process?.exec(command, user: user.0, group: user.1, environment: [], timeout: grace)
                        }
                        record.process?.send(SIGTERM)
                    }
                }
            }
            try? await Task.sleep(for: grace)
            if !Task.isCancelled { post.yield(.graceElapsed) }
        }
    }

    /// Stops one container for a restart (a failed liveness probe): preStop, SIGTERM now, SIGKILL after the grace period.
    private func stopContainer(_ record: ContainerRecord, grace: Duration, group: inout TaskGroup<Void>) {
        guard let process = record.process else { return }
        let user = launchUser(record)
        let (generation, containerName, post) = (record.generation, record.name, self.post)
        group.addTask {
            if let command = record.spec["lifecycle"]?["preStop"]?["exec"]?["command"]?.arrayValue?.compactMap(\.stringValue) {
                _ = await process.exec(command, user: user.0, group: user.1, environment: [], timeout: grace)
            }
            process.send(SIGTERM)
            try? await Task.sleep(for: grace)
            if !Task.isCancelled { post.yield(.killDue(container: containerName, generation: generation)) }
        }
    }

    private func tearDown() async {
        await context.network.release(uid)
        try? FileManager.default.removeItem(atPath: directory)
        await context.podFinished(self)
    }

    // MARK: Files and volumes

    private func writePodFiles() async {
        guard let sandbox else { return }
        let security = pod["spec"]?["securityContext"]
        var users: [(uid: UInt32, gid: UInt32)] = []
        var groups: [UInt32] = []
        for record in initContainers + containers {
            let (user, group) = launchUser(record)
            if let user { users.append((user, group ?? 0)) }
            if let group { groups.append(group) }
        }
        if let fsGroup = security?["fsGroup"]?.intValue { groups.append(UInt32(fsGroup)) }
        let hostPasswd = (try? String(contentsOfFile: "/etc/passwd", encoding: .utf8)) ?? ""
        let hostGroup = (try? String(contentsOfFile: "/etc/group", encoding: .utf8)) ?? ""
        let files = [
            "hosts": PodFiles.hosts(pod: pod, podIP: sandbox.address),
            "resolv.conf": PodFiles.resolvConf(pod: pod, nameserver: context.nameserver),
            "hostname": PodFiles.hostname(of: pod) + "\n",
            "passwd": PodFiles.passwd(host: hostPasswd, users: users),
            "group": PodFiles.group(host: hostGroup, gids: groups),
        ]
        for (file, content) in files { _ = FileManager.default.createFile(atPath: "\(directory)/etc/\(file)", contents: Data(content.utf8)) }
    }

    /// Prepares the volumes (again, carrying ConfigMap and Secret changes in); a missing source keeps the pod waiting.
    private func refreshVolumes() async {
        let sources = await context.volumeSources(for: pod, token: serviceAccountToken)
        serviceAccountToken = sources.serviceAccountToken
        let volumes = PodVolumes(podDirectory: directory, claimsDirectory: context.claimsDirectory)
        switch volumes.prepare(pod, sources: sources) {
        case .success(let paths):
            volumePaths = paths
            if configProblem != nil {
                configProblem = nil
                for index in containers.indices where containers[index].state["waiting"]?["reason"]?.stringValue == "CreateContainerConfigError" {
                    containers[index].state = ["waiting": ["reason": "ContainerCreating"]]
                }
            }
        case .failure(let error):
            if configProblem != error.message {
                await context.recordEvent(pod, type: "Warning", reason: "FailedMount", message: "MountVolume.SetUp failed: \(error.message)")
            }
            configProblem = error.message
            for index in containers.indices where containers[index].process == nil {
                containers[index].state = ["waiting": ["reason": "ContainerCreating", "message": .string(error.message)]]
            }
        }
    }

    private func launchUser(_ record: ContainerRecord) -> (UInt32?, UInt32?) {
        let pod = self.pod["spec"]?["securityContext"]
        let container = record.spec["securityContext"]
        // Without them, the image's USER, as the kubelet takes it from the image's config.
        let image = context.settings.imageMap.entry(for: record.image)
        let user = (container?["runAsUser"] ?? pod?["runAsUser"])?.intValue.map { UInt32($0) } ?? image?.user
        let group = (container?["runAsGroup"] ?? pod?["runAsGroup"])?.intValue.map { UInt32($0) } ?? image?.group
        return (user, group)
    }

    /// Everything one start of the container needs, or why it cannot start.
    private func launch(_ record: ContainerRecord) async -> Result<ContainerLaunch, LaunchProblem> {
        guard let sandbox else { return .failure(LaunchProblem(reason: "CreateContainerError", message: "the pod has no network")) }
        if let configProblem { return .failure(LaunchProblem(reason: "CreateContainerConfigError", message: configProblem)) }
        guard let image = context.settings.imageMap.entry(for: record.image) else {
            return .failure(LaunchProblem(reason: "ErrImagePull", message: "image \(record.image) is not in the image map"))
        }
        let references = await context.references(namespace: name.namespace)
        let facts = ContainerEnvironment.PodFacts(podIP: sandbox.address, hostIP: context.nameserver)
        let base =
            [("PATH", image.binDirectory + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), ("HOSTNAME", PodFiles.hostname(of: pod))]
            + context.serviceVariables
        let environment: ContainerEnvironment
        switch ContainerEnvironment.build(pod: pod, container: record.spec, image: image.environment, base: base, facts: facts, references: references) {
        case .success(let built): environment = built
        case .failure(let error): return .failure(LaunchProblem(reason: "CreateContainerConfigError", message: error.message))
        }
        let variables = environment.dictionary
        let command = record.spec["command"]?.arrayValue?.compactMap(\.stringValue) ?? image.entrypoint
        let argv = (command + (record.spec["args"]?.arrayValue?.compactMap(\.stringValue) ?? [])).map { VariableExpansion.expand($0, with: variables) }
        guard !argv.isEmpty else {
            return .failure(
                LaunchProblem(
                    reason: "CreateContainerError", message: "container \(record.name) has no command, and the image map gives \(record.image) no entrypoint"))
        }
        var mounts: [ContainerLaunch.Mount] = ["hosts", "resolv.conf", "hostname", "passwd", "group"].map {
            ContainerLaunch.Mount(hostPath: "\(directory)/etc/\($0)", mountPath: "/etc/\($0)", readOnly: true, isFile: true)
        }
        for mount in record.spec["volumeMounts"]?.arrayValue ?? [] {
            guard let volume = mount["name"]?.stringValue, let mountPath = mount["mountPath"]?.stringValue else { continue }
            guard var hostPath = volumePaths[volume] else {
                return .failure(LaunchProblem(reason: "CreateContainerConfigError", message: "volumeMount \(volume) names no volume of the pod"))
            }
            var isFile = false
            if let subPath = mount["subPath"]?.stringValue, !subPath.isEmpty {
                hostPath += "/" + subPath
                var directory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: hostPath, isDirectory: &directory) {
                    try? FileManager.default.createDirectory(atPath: hostPath, withIntermediateDirectories: true)
                    directory = true
                }
                isFile = !directory.boolValue
            }
            mounts.append(ContainerLaunch.Mount(hostPath: hostPath, mountPath: mountPath, readOnly: mount["readOnly"]?.boolValue ?? false, isFile: isFile))
        }
        let (user, group) = launchUser(record)
        var supplemental = (pod["spec"]?["securityContext"]?["supplementalGroups"]?.arrayValue ?? []).compactMap(\.intValue).map { UInt32($0) }
        if let fsGroup = pod["spec"]?["securityContext"]?["fsGroup"]?.intValue { supplemental.insert(UInt32(fsGroup), at: 0) }
        if user == nil, let runAsNonRoot = (record.spec["securityContext"]?["runAsNonRoot"] ?? pod["spec"]?["securityContext"]?["runAsNonRoot"])?.boolValue,
            runAsNonRoot
        {
            return .failure(LaunchProblem(reason: "CreateContainerConfigError", message: "container has runAsNonRoot and image will run as root"))
        }
        return .success(
            ContainerLaunch(
                rootDirectory: "\(directory)/roots/\(record.name)", imageDirectories: [image.hostRoot], mounts: mounts,
                hostname: PodFiles.hostname(of: pod), user: user, group: group, supplementalGroups: supplemental,
                workingDirectory: record.spec["workingDir"]?.stringValue ?? "/", environment: environment.variables.map { ($0.name, $0.value) }, argv: argv,
                readOnlyRoot: record.spec["securityContext"]?["readOnlyRootFilesystem"]?.boolValue ?? false))
    }

    // MARK: Status

    /// Nothing reports for a pod of a lost node: its status stays as it was, but for what the node controller marks.
    private func report() async {
        guard !halted else { return }
        await context.writeStatus(of: name, uid: uid, status: status())
    }

    func status() -> JSONValue {
        let now = Clock.now()
        let previous = pod["status"]?["conditions"]?.arrayValue ?? []
        var status: [String: JSONValue] = [
            "hostIP": .string(context.nameserver), "hostIPs": [["ip": .string(context.nameserver)]], "startTime": .string(startTime),
            "qosClass": "BestEffort",
        ]
        if let sandbox {
            status["podIP"] = .string(sandbox.address)
            status["podIPs"] = [["ip": .string(sandbox.address)]]
        }
        status["containerStatuses"] = .array(containers.map { $0.status(uid: uid) })
        if !initContainers.isEmpty { status["initContainerStatuses"] = .array(initContainers.map { $0.status(uid: uid) }) }
        let initialized = initContainers.allSatisfy { $0.exitCode == 0 }
        let ready = initialized && containers.allSatisfy(\.ready)
        status["phase"] = .string(phase(initialized: initialized))
        if let failure {
            status["reason"] = .string(failure.reason)
            status["message"] = .string(failure.message)
        }
        let unready = containers.filter { !$0.ready }.map(\.name).joined(separator: " ")
        let notReady = "ContainersNotReady"
        let conditions = [
            Conditions.make("PodReadyToStartContainers", sandbox != nil, previous: previous, now: now),
            Conditions.make("Initialized", initialized, reason: initialized ? nil : "ContainersNotInitialized", previous: previous, now: now),
            Conditions.make(
                "Ready", ready, reason: ready ? nil : notReady, message: ready ? nil : "containers with unready status: [\(unready)]", previous: previous,
                now: now),
            Conditions.make(
                "ContainersReady", ready, reason: ready ? nil : notReady, message: ready ? nil : "containers with unready status: [\(unready)]",
                previous: previous, now: now),
            Conditions.make("PodScheduled", true, previous: previous, now: now),
        ]
        status["conditions"] = .array(conditions)
        return .object(status)
    }

    private func phase(initialized: Bool) -> String {
        if failure != nil { return "Failed" }
        if initContainers.contains(where: { $0.isTerminated && $0.exitCode != 0 }) && restartPolicy == "Never" { return "Failed" }
        guard initialized else { return "Pending" }
        if containers.contains(where: { $0.process != nil }) { return "Running" }
        if containers.allSatisfy(\.isTerminated) {
            return containers.allSatisfy { $0.exitCode == 0 } ? "Succeeded" : "Failed"
        }
        return containers.contains { $0.restartCount > 0 } ? "Running" : "Pending"
    }

    /// Carries the pod's latest object in (labels and annotations for the downward API).
    func update(_ pod: JSONValue) {
        self.pod["metadata"] = pod["metadata"]
        self.pod["status"] = pod["status"]
    }
}

struct LaunchProblem: Error, Sendable {
    var reason: String
    var message: String
}
