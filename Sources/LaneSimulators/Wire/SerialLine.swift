import LaneCore

/// The device end of a serial line, however it reaches the driver: a pty, or a unix socket that
/// QEMU's emulated USB serial adapter carries into a guest.
public protocol SerialLine: AnyObject, Sendable {
    /// What the driver wrote, waiting up to `timeout`; empty when nothing came.
    func read(timeout: Nanoseconds) -> [UInt8]
    /// Bytes toward the driver; lost, as on a wire, when nobody is listening.
    func write(_ bytes: [UInt8])
    /// The line speed the driver set, when the transport carries it (a pty does, a socket does not).
    var driverBaud: Int? { get }
    /// Pulls the cable.
    func unplug()
    /// Puts it back.
    func plug() throws(SimulatorError)
}

extension PseudoTerminal: SerialLine {}
