/// Resolves the indices events carry into names: a ``LaneLayout`` on the gateway, a decoded
/// batch's name table on the collector.
public protocol EventNaming {
    func readPointName(_ index: ReadPointIndex) -> String
    func loopName(_ index: LoopIndex) -> String
    func deviceName(_ index: DeviceIndex) -> String
}

extension LaneLayout: EventNaming {
    public func readPointName(_ index: ReadPointIndex) -> String {
        Int(index) < readPoints.count ? readPoints[Int(index)].name : "read-point-\(index)"
    }

    public func loopName(_ index: LoopIndex) -> String {
        Int(index) < loops.count ? loops[Int(index)].name : "loop-\(index)"
    }

    public func deviceName(_ index: DeviceIndex) -> String {
        Int(index.rawValue) < devices.count ? devices[Int(index.rawValue)].name : "device-\(index.rawValue)"
    }
}
