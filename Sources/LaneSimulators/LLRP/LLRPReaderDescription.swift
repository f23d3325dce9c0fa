/// What the simulated reader says about itself: the GET_READER_CAPABILITIES answer with every
/// parameter LLRP 1.0.1 §16.2.3 makes mandatory, and the GET_READER_CONFIG answer (§16.2.6).
/// A four-port FCC reader: 16 sensitivity steps, 81 power levels (10.00 to 30.00 dBm), 50
/// hopping channels, one Gen2 RF mode.
enum LLRPReaderDescription {
    static let antennas: UInt16 = 4
    static let firmware = "7.5.0-sim"

    static var capabilities: [UInt8] {
        typealias W = LLRPWire
        let version = Array(firmware.utf8)
        // GeneralDeviceCapabilities: antennas, flags (bit 15 CanSetAntennaProperties, bit 14
        // HasUTCClockCapability), maker, model, firmware; sensitivity table, per-antenna range and
        // air protocols, GPIOs.
        var general = W.u16(antennas) + W.u16(0x4000) + W.u32(W.enterpriseNumber) + W.u32(2_001_002)
            + W.u16(UInt16(version.count)) + version
        for i in 1...16 { general += W.tlv(139, W.u16(UInt16(i)) + W.u16(UInt16(2 * (i - 1)))) }  // dB below the best
        for a in 1...antennas { general += W.tlv(149, W.u16(a) + W.u16(1) + W.u16(16)) }
        general += W.tlv(141, W.u16(0) + W.u16(0))                          // GPIOCapabilities: none
        for a in 1...antennas { general += W.tlv(140, W.u16(a) + W.u16(1) + [1]) }  // EPCglobal Class1Gen2
        // LLRPCapabilities: no RF survey, buffer warnings or client op specs; one priority
        // level, one ROSpec of one AISpec with one InventoryParameterSpec, no AccessSpecs.
        let llrp = W.tlv(142, [0, 0] + W.u16(0) + W.u32(1) + W.u32(1) + W.u32(1) + W.u32(0) + W.u32(0))
        // RegulatoryCapabilities: US (840), FCC part 15 (1); UHFBandCapabilities: the power
        // table, hopping frequencies, and the Gen2 RF mode table.
        var band: [UInt8] = []
        for i in 1...81 { band += W.tlv(145, W.u16(UInt16(i)) + W.s16(Int16(1000 + 25 * (i - 1)))) }
        let channels = (0..<50).map { UInt32(902_750 + 500 * $0) }              // kHz
        let hopTable = W.tlv(147, [1, 0] + W.u16(UInt16(channels.count)) + channels.flatMap { W.u32($0) })
        band += W.tlv(146, [0x80] + hopTable)                                     // Hopping
        let mode = W.u32(1000) + [0x80, 2, 0, 2] + W.u32(320_000) + W.u32(1500) + W.u32(6250) + W.u32(25_000) + W.u32(0)
        band += W.tlv(328, W.tlv(329, mode))
        let regulatory = W.tlv(143, W.u16(840) + W.u16(1) + W.tlv(144, band))
        // C1G2LLRPCapabilities: no block operations, two select filters per query.
        let airProtocol = W.tlv(327, [0] + W.u16(2))
        return W.tlv(137, general) + llrp + regulatory + airProtocol
    }

    /// Every configuration parameter (RequestedData 0, all), as the reader stands now.
    static func configuration(keepaliveMilliseconds: UInt32?, events: Set<UInt16>,
                              report: (trigger: UInt8, n: UInt16, selector: UInt16)) -> [UInt8] {
        typealias W = LLRPWire
        var out = W.tlv(218, [0] + W.u16(6) + [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30])   // Identification: a MAC
        for a in 1...antennas { out += W.tlv(221, [0x80] + W.u16(a) + W.s16(600)) } // connected, 6 dBi
        for a in 1...antennas {
            out += W.tlv(222, W.u16(a) + W.tlv(223, W.u16(1)) + W.tlv(224, W.u16(1) + W.u16(1) + W.u16(81)))
        }
        out += W.tlv(244, (0...8).flatMap { W.tlv(245, W.u16(UInt16($0)) + [events.contains(UInt16($0)) ? 0x80 : 0]) })
        out += W.tlv(237, [report.trigger] + W.u16(report.n) + W.tlv(238, W.u16(report.selector)))
        out += W.tlv(239, [0])                                                    // AccessReportSpec
        out += W.tlv(217, W.u32(0))                                               // LLRPConfigurationStateValue
        out += W.tlv(220, keepaliveMilliseconds.map { [1] + W.u32($0) } ?? [0] + W.u32(0))
        out += W.tlv(226, [0])                                                    // EventsAndReports
        return out
    }
}
