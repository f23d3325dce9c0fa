import LaneCore
/// The client → reader messages of the gateway's connection flow.
public enum LLRPRequests {
    public static func getReaderCapabilities(id: UInt32) -> LLRPMessage {
        LLRPMessage(type: LLRPMessageType.getReaderCapabilities, id: id, body: [0])  // 0 = all
    }

    /// Keeps factory settings but asks for a periodic keepalive.
    public static func setKeepalive(id: UInt32, periodMilliseconds: UInt32) -> LLRPMessage {
        LLRPMessage(type: LLRPMessageType.setReaderConfig, id: id,
                    body: [0] + tlv(LLRPParameterType.keepaliveSpec, [1] + bigEndianBytes(periodMilliseconds)))
    }

    /// `roSpecID` 0 means every ROSpec.
    public static func deleteROSpec(id: UInt32, roSpecID: UInt32 = 0) -> LLRPMessage {
        LLRPMessage(type: LLRPMessageType.deleteROSpec, id: id, body: bigEndianBytes(roSpecID))
    }

    public static func enableROSpec(id: UInt32, roSpecID: UInt32) -> LLRPMessage {
        LLRPMessage(type: LLRPMessageType.enableROSpec, id: id, body: bigEndianBytes(roSpecID))
    }

    public static func startROSpec(id: UInt32, roSpecID: UInt32) -> LLRPMessage {
        LLRPMessage(type: LLRPMessageType.startROSpec, id: id, body: bigEndianBytes(roSpecID))
    }

    public static func keepaliveAck(id: UInt32) -> LLRPMessage {
        LLRPMessage(type: LLRPMessageType.keepaliveAck, id: id)
    }

    public static func enableEventsAndReports(id: UInt32) -> LLRPMessage {
        LLRPMessage(type: LLRPMessageType.enableEventsAndReports, id: id)
    }

    public static func closeConnection(id: UInt32) -> LLRPMessage {
        LLRPMessage(type: LLRPMessageType.closeConnection, id: id)
    }

    /// A disabled ROSpec that inventories Gen2 tags on `antennas` (empty = all) without end, and
    /// reports every `reportEvery` tags with antenna, peak RSSI, first/last seen and seen count.
    /// Its start trigger is Null: it runs when START_ROSPEC says so, and only then (an Immediate
    /// trigger would start it at ENABLE_ROSPEC, and a strict reader refuses a second start).
    public static func addROSpec(id: UInt32, roSpecID: UInt32, antennas: [UInt16], reportEvery: UInt16) -> LLRPMessage {
        let ports = antennas.isEmpty ? [UInt16(0)] : antennas
        let boundary = tlv(LLRPParameterType.roBoundarySpec, [], [
            tlv(LLRPParameterType.roSpecStartTrigger, [0]),        // null: START_ROSPEC starts it
            tlv(LLRPParameterType.roSpecStopTrigger, [0, 0, 0, 0, 0]),  // null: run until stopped
        ])
        let ai = tlv(LLRPParameterType.aiSpec, bigEndianBytes(UInt16(ports.count)) + ports.flatMap { bigEndianBytes($0) }, [
            tlv(LLRPParameterType.aiSpecStopTrigger, [0, 0, 0, 0, 0]),
            tlv(LLRPParameterType.inventoryParameterSpec, bigEndianBytes(UInt16(1)) + [1]),  // EPCglobal Class1Gen2
        ])
        // AntennaID | PeakRSSI | FirstSeen | LastSeen | TagSeenCount
        let selector: UInt16 = 0x1000 | 0x0400 | 0x0200 | 0x0100 | 0x0080
        let report = tlv(LLRPParameterType.roReportSpec, [1] + bigEndianBytes(reportEvery), [
            tlv(LLRPParameterType.tagReportContentSelector, bigEndianBytes(selector)),
        ])
        let spec = tlv(LLRPParameterType.roSpec, bigEndianBytes(roSpecID) + [0, 0], [boundary, ai, report])
        return LLRPMessage(type: LLRPMessageType.addROSpec, id: id, body: spec)
    }
}
