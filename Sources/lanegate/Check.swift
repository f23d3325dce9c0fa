import ArgumentParser
import LaneCore
import LaneDevices
import LaneGateway
import LaneSpool
import LaneUplink
#if canImport(Glibc)
import Glibc
#endif

/// `lanegate check`: the doctor. Exit status 0 only when everything a booth needs is well.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration, every device, the collector, the clock and the spool; exit 0 only when all is well.",
        discussion: "Stop the daemon first (systemctl stop lanegate): it holds the devices.")

    @Option(help: "The configuration file.") var config = "/etc/lanegate/lanegate.toml"
    @Option(help: "Seconds to give the devices to start reading.") var deviceTimeout = 15

    func run() async throws {
        let out = FileOutput.standardOutput
        var failures = 0
        func report(_ ok: Bool, _ what: String, _ detail: String) {
            if !ok { failures += 1 }
            out.write("\(ok ? "ok  " : "FAIL") \(what): \(detail)\n")
            out.flush()
        }

        let settings: GatewayConfig
        do {
            settings = try GatewayConfig.load(path: config)
            report(true, "configuration", "\(config) is valid (gateway \(settings.gatewayID))")
        } catch {
            report(false, "configuration", "\(error)")
            throw ExitCode(1)
        }

        // Devices: each runs its real connect flow until it reads, fails, or time is up.
        let board = DeviceStatusBoard(devices: settings.layout.devices.count)
        let supervisor = DeviceSupervisor(board: board)
        let started = supervisor.start(config: settings, rings: settings.layout.devices.map { _ in SPSCRing<Detection>(capacity: 1024) })
        for (i, device) in settings.layout.devices.enumerated() where started[i] == nil && device.kind != .camera {
            report(false, device.name, "no tty, usb, host or gpio_chip configured")
        }
        // Cameras push to the daemon: what can be checked here is that each has its token and
        // where it must push (the daemon, when running, holds the listener's port itself).
        for setup in settings.plateCameras {
            let name = settings.layout.devices[Int(setup.device.rawValue)].name
            do {
                _ = try setup.camera(name: name)
                let listen = settings.plateListener.map { "http://\($0.host):\($0.port)/v1/plates/\(name)" } ?? "?"
                report(true, name, "token read from \(setup.tokenFile); the camera pushes \(setup.format.rawValue) to \(listen)")
            } catch {
                report(false, name, "\(error)")
            }
        }
        let checked = started.indices.filter { started[$0] != nil }
        var history = [[DeviceStatusChange]](repeating: [], count: settings.layout.devices.count)
        for _ in 0..<(deviceTimeout * 10) {
            for change in board.takeChanges() { history[Int(change.device.rawValue)].append(change) }
            if checked.allSatisfy({ board.entries[$0].state == .reading }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        supervisor.stop()
        for i in checked {
            let name = settings.layout.devices[i].name
            let configured = history[i].last { $0.state == .configured }?.detail
            if board.entries[i].state == .reading {
                report(true, name, configured ?? board.entries[i].detail)
            } else {
                let failure = history[i].last { $0.state == .lost || $0.state == .error }?.detail ?? "did not start reading in \(deviceTimeout) s"
                report(false, name, failure)
            }
        }

        // The collector: reachable, and it accepts this gateway's identity (nothing is stored).
        if let collector = settings.collector {
            do {
                // The uplink wants a spool; an empty one in a scratch directory, removed after.
                var template = Array("/tmp/lanegate-check-XXXXXX".utf8CString)
                let scratch = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
                defer { for file in ["spool.db", "spool.db-wal", "spool.db-shm", "spool.db.sequence"] { unlink(scratch + "/" + file) }; rmdir(scratch) }
                let spool = Spool(path: scratch + "/spool.db", gatewayID: settings.gatewayID,
                                  settings: SpoolSettings(minFreeDiskBytes: 0), nowUTC: 0)
                let uplink = try Uplink(spool: AsyncSpool(spool), settings: try collector.uplinkSettings(requestTimeout: .seconds(10)))
                // Every collector it may fail over to must know it too.
                for url in uplink.settings.urls {
                    switch await uplink.checkIdentity(at: url) {
                    case .accepted: report(true, "collector", "\(url) knows gateway \(settings.gatewayID)")
                    case .refused(let status, let reason): report(false, "collector", "\(url) refuses this gateway (\(status)): \(reason)")
                    case .unexpected(let status, let answer): report(false, "collector", "\(url) answered \(status): \(answer)")
                    case .unreachable(let error): report(false, "collector", "cannot reach \(url): \(error)")
                    }
                }
                try? await uplink.shutdown()
            } catch {
                report(false, "collector", "\(error)")
            }
        } else {
            report(false, "collector", "no [collector] in the configuration")
        }

        // The clock: batches place events in UTC only as well as the clock allows.
        let clock = ClockAnchor.now()
        switch clock.sync {
        case .synchronized: report(true, "clock", "synchronized, maximum error \(clock.maxErrorMicros / 1000) ms")
        case .unsynchronized: report(false, "clock", "not synchronized (is NTP running? timedatectl status)")
        case .unknown: report(false, "clock", "the kernel could not say whether it is synchronized")
        }

        // The spool: its directory writable, with the free space the configuration keeps.
        let directory = String(settings.spoolPath[..<(settings.spoolPath.lastIndex(of: "/") ?? settings.spoolPath.startIndex)])
        var fs = statvfs()
        if access(directory.isEmpty ? "/" : directory, W_OK) != 0 {
            report(false, "spool", "cannot write in \(directory): \(String(cString: strerror(errno)))")
        } else if statvfs(directory, &fs) == 0 {
            let free = Int64(fs.f_bavail) * Int64(fs.f_frsize)
            report(free >= settings.spoolSettings.minFreeDiskBytes, "spool",
                   "\(directory) writable, \(free >> 20) MiB free (keeps \(settings.spoolSettings.minFreeDiskBytes >> 20) MiB)")
        }

        out.write(failures == 0 ? "all well\n" : "\(failures) problem\(failures == 1 ? "" : "s")\n")
        out.flush()
        if failures > 0 { throw ExitCode(1) }
    }
}
