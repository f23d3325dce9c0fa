/// One plate read as the booth listener hands it to the pipeline: stamped on arrival, the plate
/// still as the camera read it. The pipeline maps it to a read point and pseudonymises it.
///
/// Not a ``Detection``: a read carries text and a 32-byte digest, and comes once per vehicle over
/// HTTP, so it travels in a ``PlateInbox`` rather than a device's 64-byte ring.
public struct PlateSighting: Sendable, Hashable {
    public var time: MonotonicInstant
    public var device: DeviceIndex
    /// The camera's channel, matched like an antenna port in the lane configuration.
    public var channel: UInt8
    public var plate: PlateText?
    /// Per mille.
    public var confidence: UInt16?
    public var region: String?
    /// SHA-256 of the picture the read came with.
    public var picture: [UInt8]?

    public init(time: MonotonicInstant, device: DeviceIndex, channel: UInt8 = 0, plate: PlateText?,
                confidence: UInt16? = nil, region: String? = nil, picture: [UInt8]? = nil) {
        self.time = time
        self.device = device
        self.channel = channel
        self.plate = plate
        self.confidence = confidence
        self.region = region
        self.picture = picture
    }
}
