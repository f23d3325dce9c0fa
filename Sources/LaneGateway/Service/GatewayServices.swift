import LaneDevices
import LaneUplink
import ServiceLifecycle
import LaneSpool
import Logging

/// The devices and the pipeline thread, started before the group runs. At shutdown: the
/// devices stop, their rings drain, and the open batch is committed.
struct PipelineService: Service {
    let supervisor: DeviceSupervisor
    let gateway: LiveGateway

    func run() async {
        try? await gracefulShutdown()
        // Joining the device and pipeline threads blocks: not on the cooperative pool.
        await offPool {
            supervisor.stop()
            gateway.stop()
        }
    }
}

/// Delivers the spool until shutdown, then, once the pipeline has committed its last batch,
/// for up to `finalDelivery` while batches wait.
struct UplinkService: Service {
    let uplink: Uplink
    let finalDelivery: Duration

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await uplink.run() }
            try? await gracefulShutdown()
            let deadline = ContinuousClock.now + finalDelivery
            while await uplink.spool.depth > 0 && ContinuousClock.now < deadline && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
            }
            group.cancelAll()
        }
    }
}

/// The booth listener for licence-plate cameras, until shutdown.
struct PlateListenerService: Service {
    let listener: PlateListener
    let logger: Logger

    /// The server's own group follows this one's graceful shutdown: open pushes are answered,
    /// then it closes (cancelling it instead would cut them off).
    func run() async throws {
        try await listener.run(logger: logger)
    }
}

/// The monitor socket for `lanegate monitor`, until shutdown.
struct MonitorService: Service {
    let server: MonitorServer

    func run() async {
        await cancelWhenGracefulShutdown { await server.run() }
    }
}
