import ArgumentParser
import LaneCore
import LaneGateway

@main
struct Lanegate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lanegate",
        abstract: "The lane-hardware gateway: RFID readers, e-seal receivers and loop detectors to lane events.",
        subcommands: [Demo.self, Run.self, Check.self, Devices.self, Monitor.self, Record.self, Replay.self, ConfigCommand.self, SpoolCommand.self, Send.self, Synth.self, Simulate.self])
}

/// Prints to standard error and exits 1 with the error's own words (they name file and line).
func fail(_ error: any Error) -> Never {
    fail(error, status: 1)
}

/// sysexits' EX_CONFIG: the unit does not restart on it (`RestartPreventExitStatus=78`), since
/// only an edited file can help, and `systemctl status` keeps showing the error.
let configurationErrorStatus: Int32 = 78

func fail(_ error: any Error, status: Int32) -> Never {
    FileOutput.standardError.write("lanegate: \(error)\n")
    exitProcess(status)
}
