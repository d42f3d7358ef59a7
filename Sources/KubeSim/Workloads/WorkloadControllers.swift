import Foundation
import KubeKit

/// The simulated control plane behind the API: kube-scheduler and kubelets, the StatefulSet, Deployment, Job, endpoints,
/// volume and cloud load-balancer controllers, each in its own control loop against the store.
final class WorkloadControllers: Sendable {
    let kubelet: Kubelet
    let runtime: ProcessRuntime?
    private let loops: Task<Void, Never>

    private init(kubelet: Kubelet, runtime: ProcessRuntime?, loops: Task<Void, Never>) {
        self.kubelet = kubelet
        self.runtime = runtime
        self.loops = loops
    }

    /// Starts the controllers, with the process runtime (`ProcessRuntime.start`) when pods run as processes.
    static func start(store: ClusterStore, simulation: WorkloadSimulation, runtime: ProcessRuntime?) async -> WorkloadControllers? {
        guard let kubelet = await Kubelet(store: store, simulation: simulation, runtime: runtime),
            let statefulSets = await StatefulSetController(store: store),
            let deployments = await DeploymentController(store: store),
            let jobs = await JobController(store: store),
            let endpoints = await EndpointsController(store: store),
            let loadBalancers = await LoadBalancerController(store: store, delay: simulation.loadBalancerDelay),
            let claims = await PersistentVolumeClaimController(store: store, resizeDelay: simulation.volumeResizeDelay)
        else { return nil }
        await kubelet.registerNodes()
        let loops = Task {
            await withDiscardingTaskGroup { group in
                if let runtime { group.addTask { await runtime.run() } }
                group.addTask { await ControlLoop.run(kubelet, store: store) }
                group.addTask { await ControlLoop.run(statefulSets, store: store) }
                group.addTask { await ControlLoop.run(deployments, store: store) }
                group.addTask { await ControlLoop.run(jobs, store: store) }
                group.addTask { await ControlLoop.run(endpoints, store: store) }
                group.addTask { await ControlLoop.run(loadBalancers, store: store) }
                group.addTask { await ControlLoop.run(claims, store: store) }
            }
        }
        return WorkloadControllers(kubelet: kubelet, runtime: runtime, loops: loops)
    }

    /// Stops the pods' processes first (their workers still write the store), then every control loop.
    func stop() async {
        await runtime?.shutdown()
        loops.cancel()
        await loops.value
    }
}
