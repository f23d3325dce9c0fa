import LaneCore
/// One tag in an RO_ACCESS_REPORT, with the fields the gateway asked for.
public struct LLRPTagReport: Sendable, Hashable {
    public var epc: TagID
    public var antenna: UInt16?
    public var peakRSSI: Int8?
    /// Microseconds since 1970 by the reader's clock.
    public var firstSeenUTC: UInt64?
    public var lastSeenUTC: UInt64?
    public var seenCount: UInt16?
}

/// What the gateway reads out of reader → client messages.
public enum LLRPReports {
    /// The tags of an RO_ACCESS_REPORT body. Parameters the gateway does not use (custom
    /// extensions, access results, C1G2 fields) are skipped by length. A tag report that cannot
    /// be read is counted in `unreadable` and skipped; the rest of the report still counts.
    public static func tags(in body: [UInt8], unreadable: inout Int) throws(LLRPDecodeError) -> [LLRPTagReport] {
        var out: [LLRPTagReport] = []
        var top = LLRPParameterIterator(body[...])
        while let parameter = try top.next() {
            guard parameter.type == LLRPParameterType.tagReportData else { continue }
            do throws(LLRPDecodeError) {
                out.append(try tag(parameter))
            } catch {
                unreadable += 1
            }
        }
        return out
    }

    static func tag(_ data: LLRPParameter) throws(LLRPDecodeError) -> LLRPTagReport {
        var epc: TagID?
        var report = LLRPTagReport(epc: TagID(bytes: [])!)
        var fields = data.children()
        while let p = try fields.next() {
            switch p.type {
            case LLRPParameterType.epc96:
                epc = TagID(bytes: p.value)
            case LLRPParameterType.epcData:
                let bits = Int(try p.unsigned(size: 2))
                let count = (bits + 7) / 8
                guard p.value.count >= 2 + count else { throw .truncatedParameter(type: p.type) }
                epc = TagID(bytes: p.value.dropFirst(2).prefix(count))
            case LLRPParameterType.antennaID: report.antenna = UInt16(try p.unsigned(size: 2))
            case LLRPParameterType.peakRSSI: report.peakRSSI = Int8(bitPattern: UInt8(try p.unsigned(size: 1)))
            case LLRPParameterType.firstSeenUTC: report.firstSeenUTC = try p.unsigned(size: 8)
            case LLRPParameterType.lastSeenUTC: report.lastSeenUTC = try p.unsigned(size: 8)
            case LLRPParameterType.tagSeenCount: report.seenCount = UInt16(try p.unsigned(size: 2))
            default: continue
            }
        }
        guard let epc else { throw .missingField("EPC") }
        report.epc = epc
        return report
    }

    /// The status of a response's LLRPStatus parameter: code (0 = success) and its description.
    public static func status(in body: [UInt8]) throws(LLRPDecodeError) -> (code: UInt16, text: String) {
        var top = LLRPParameterIterator(body[...])
        while let p = try top.next() {
            guard p.type == LLRPParameterType.llrpStatus else { continue }
            let code = UInt16(try p.unsigned(size: 2))
            let length = Int(try p.unsigned(at: 2, size: 2))
            let text = p.value.count >= 4 + length
                ? String(decoding: p.value.dropFirst(4).prefix(length), as: UTF8.self) : ""
            return (code, text)
        }
        throw .missingField("LLRPStatus")
    }

    /// A READER_EVENT_NOTIFICATION's ConnectionAttemptEvent status (0 = this client may talk),
    /// or nil when the notification carries another event.
    public static func connectionAttempt(in body: [UInt8]) throws(LLRPDecodeError) -> UInt16? {
        var top = LLRPParameterIterator(body[...])
        while let p = try top.next() {
            guard p.type == LLRPParameterType.readerEventNotificationData else { continue }
            var events = p.children()
            while let event = try events.next() {
                guard event.type == LLRPParameterType.connectionAttemptEvent else { continue }
                return UInt16(try event.unsigned(size: 2))
            }
        }
        return nil
    }

    /// Whether a READER_EVENT_NOTIFICATION carries a ConnectionCloseEvent: the reader is about
    /// to close the connection.
    public static func connectionClose(in body: [UInt8]) throws(LLRPDecodeError) -> Bool {
        var top = LLRPParameterIterator(body[...])
        while let p = try top.next() {
            guard p.type == LLRPParameterType.readerEventNotificationData else { continue }
            var events = p.children()
            while let event = try events.next() {
                if event.type == LLRPParameterType.connectionCloseEvent { return true }
            }
        }
        return false
    }

    /// From GET_READER_CAPABILITIES_RESPONSE: antenna count, manufacturer and model numbers, firmware.
    public static func capabilities(in body: [UInt8]) throws(LLRPDecodeError)
        -> (antennas: UInt16, manufacturer: UInt32, model: UInt32, firmware: String) {
        var top = LLRPParameterIterator(body[...])
        while let p = try top.next() {
            guard p.type == LLRPParameterType.generalDeviceCapabilities else { continue }
            let antennas = UInt16(try p.unsigned(size: 2))
            let manufacturer = UInt32(try p.unsigned(at: 4, size: 4))
            let model = UInt32(try p.unsigned(at: 8, size: 4))
            let length = Int(try p.unsigned(at: 12, size: 2))
            let firmware = p.value.count >= 14 + length
                ? String(decoding: p.value.dropFirst(14).prefix(length), as: UTF8.self) : ""
            return (antennas, manufacturer, model, firmware)
        }
        throw .missingField("GeneralDeviceCapabilities")
    }
}
