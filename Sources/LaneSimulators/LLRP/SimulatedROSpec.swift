import LaneCore

/// An ROSpec as the simulated reader holds it: what ADD_ROSPEC said (triggers, report spec),
/// and where it is in its life (LLRP 1.0.1 §10.2.1: Disabled, Inactive, Active).
struct SimulatedROSpec: Sendable {
    enum Start: Sendable, Equatable {
        /// Runs only when START_ROSPEC says so.
        case null
        /// Runs as soon as it is enabled.
        case immediate
        /// Runs `offset` after it is enabled, then again every `period`.
        case periodic(offset: Nanoseconds, period: Nanoseconds)
        /// Waits for a GPI edge: this reader has no GPIs, so it never starts by itself.
        case gpi

        /// ROSpecStartTriggerType as LLRP numbers it.
        var type: UInt8 {
            switch self {
            case .null: 0
            case .immediate: 1
            case .periodic: 2
            case .gpi: 3
            }
        }
    }
    enum Phase: UInt8, Sendable { case disabled = 0, inactive = 1, active = 2 }

    /// When the AISpec ends (LLRP §10.2.2.1): the ROSpec then runs it again, until the
    /// ROSpec's own stop trigger.
    enum AIStop: Sendable, Equatable {
        case null
        case duration(Nanoseconds)
        /// Tag observation: after this many tags (or `timeout`, when not zero).
        case tags(Int, timeout: Nanoseconds)
        /// Tag observation: once no tag was seen for this long.
        case silence(Nanoseconds)
    }

    var id: UInt32
    var start: Start
    /// When the ROSpec stops by itself; nil: it runs until it is stopped.
    var duration: Nanoseconds?
    var aiStop: AIStop
    /// The AISpec's antennas; empty: every antenna (AntennaID 0).
    var antennas: Set<UInt16>
    /// 0: report only when asked (GET_REPORT); 1: upon N tags or at the end of the AISpec;
    /// 2: upon N tags or at the end of the ROSpec. N = 0 means at the end only.
    var reportTrigger: UInt8
    var reportN: UInt16
    /// TagReportContentSelector: bit 15 ROSpecID … bit 6 AccessSpecID.
    var selector: UInt16
    var phase = Phase.disabled
    var startedAt: MonotonicInstant?
    /// The running AISpec: when it began, tags it saw, when it saw the last one.
    var aiStartedAt: MonotonicInstant?
    var aiTags = 0
    var aiLastTag: MonotonicInstant?
    /// A periodic ROSpec's next start.
    var nextStart: MonotonicInstant?
    /// The ROSpec parameter as added, for GET_ROSPECS (its state byte is rewritten there).
    var added: [UInt8]

    /// The ROSpec parameter's value, checked; or the LLRP status the reader answers with.
    static func parse(_ value: [UInt8], defaultReport: (trigger: UInt8, n: UInt16, selector: UInt16))
        -> Result<SimulatedROSpec, Refusal> {
        guard let id = LLRPWire.number(value, at: 0, size: 4), value.count >= 6 else {
            return .failure(Refusal(103, "ROSpec: ROSpecID, Priority and CurrentState are missing"))
        }
        guard id != 0 else { return .failure(Refusal(101, "ROSpecID 0 is reserved for \"all ROSpecs\"")) }
        guard value[4] <= 7 else { return .failure(Refusal(101, "Priority must be 0 to 7")) }
        guard value[5] == 0 else { return .failure(Refusal(101, "an ROSpec is added Disabled (CurrentState 0)")) }
        let parameters = LLRPWire.parameters(value, from: 6)
        guard let boundary = parameters.first(where: { $0.type == 178 })?.value else {
            return .failure(Refusal(103, "ROSpec without ROBoundarySpec"))
        }
        let inner = LLRPWire.parameters(boundary)
        guard let startTrigger = inner.first(where: { $0.type == 179 })?.value, let startType = startTrigger.first,
              let stopTrigger = inner.first(where: { $0.type == 182 })?.value, stopTrigger.count >= 5 else {
            return .failure(Refusal(103, "ROBoundarySpec needs ROSpecStartTrigger and ROSpecStopTrigger"))
        }
        let start: Start
        switch startType {
        case 0: start = .null
        case 1: start = .immediate
        case 2:
            guard let periodic = LLRPWire.parameters(startTrigger, from: 1).first(where: { $0.type == 180 })?.value,
                  let offset = LLRPWire.number(periodic, at: 0, size: 4), let period = LLRPWire.number(periodic, at: 4, size: 4) else {
                return .failure(Refusal(103, "a Periodic start trigger needs PeriodicTriggerValue"))
            }
            start = .periodic(offset: Nanoseconds(offset) * 1_000_000, period: Nanoseconds(period) * 1_000_000)
        case 3: start = .gpi
        default: return .failure(Refusal(101, "ROSpecStartTriggerType \(startType) is not defined"))
        }
        var duration: Nanoseconds?
        switch stopTrigger[0] {
        case 0: break
        case 1, 2: duration = Nanoseconds(LLRPWire.number(stopTrigger, at: 1, size: 4)!) * 1_000_000
        default: return .failure(Refusal(101, "ROSpecStopTriggerType \(stopTrigger[0]) is not defined"))
        }
        let aiSpecs = parameters.filter { $0.type == 183 }
        guard aiSpecs.count == 1 else {
            return .failure(aiSpecs.isEmpty ? Refusal(103, "ROSpec without AISpec") : Refusal(105, "this reader runs one AISpec per ROSpec"))
        }
        // AISpec: antenna count u16, antenna ids, then AISpecStopTrigger (184): type u8, duration u32,
        // and for tag observation a TagObservationTrigger (185).
        let antennaCount = Int(LLRPWire.number(aiSpecs[0].value, at: 0, size: 2) ?? 0)
        let antennaIDs = (0..<antennaCount).compactMap { LLRPWire.number(aiSpecs[0].value, at: 2 + 2 * $0, size: 2).map { UInt16($0) } }
        guard antennaCount > 0, antennaIDs.count == antennaCount else { return .failure(Refusal(101, "AISpec without AntennaIDs")) }
        guard let stop = LLRPWire.parameters(aiSpecs[0].value, from: 2 + 2 * antennaCount).first(where: { $0.type == 184 })?.value,
              stop.count >= 5 else {
            return .failure(Refusal(103, "AISpec without AISpecStopTrigger"))
        }
        let aiStop: AIStop
        switch stop[0] {
        case 0: aiStop = .null
        case 1: aiStop = .duration(Nanoseconds(LLRPWire.number(stop, at: 1, size: 4)!) * 1_000_000)
        case 2: aiStop = .null  // GPI with a timeout: no GPIs here
        case 3:
            guard let observation = LLRPWire.parameters(stop, from: 5).first(where: { $0.type == 185 })?.value,
                  observation.count >= 12 else {
                return .failure(Refusal(103, "a tag observation stop trigger needs TagObservationTrigger"))
            }
            let tags = Int(LLRPWire.number(observation, at: 2, size: 2)!)
            let timeout = Nanoseconds(LLRPWire.number(observation, at: 8, size: 4)!) * 1_000_000
            switch observation[0] {
            case 1: aiStop = .silence(Nanoseconds(LLRPWire.number(observation, at: 6, size: 2)!) * 1_000_000)
            default: aiStop = .tags(max(1, tags), timeout: timeout)  // N tags, N attempts, N unique tags
            }
        default: return .failure(Refusal(101, "AISpecStopTriggerType \(stop[0]) is not defined"))
        }
        var report = defaultReport
        if let spec = parameters.first(where: { $0.type == 237 })?.value, spec.count >= 3 {
            report.trigger = spec[0]
            report.n = UInt16(LLRPWire.number(spec, at: 1, size: 2)!)
            if let selector = LLRPWire.parameters(spec, from: 3).first(where: { $0.type == 238 })?.value,
               let bits = LLRPWire.number(selector, at: 0, size: 2) {
                report.selector = UInt16(bits)
            }
            guard report.trigger <= 2 else { return .failure(Refusal(101, "ROReportTrigger \(report.trigger) is not defined")) }
        }
        return .success(SimulatedROSpec(id: UInt32(id), start: start, duration: duration, aiStop: aiStop,
                                        antennas: antennaIDs.contains(0) ? [] : Set(antennaIDs), reportTrigger: report.trigger,
                                        reportN: report.n, selector: report.selector, added: value))
    }

    /// The ROSpec parameter as GET_ROSPECS shows it: as added, with its current state.
    var parameter: [UInt8] {
        var value = added
        value[5] = phase.rawValue
        return LLRPWire.tlv(177, value)
    }
}

/// A request the reader turns down, with the LLRP status it answers.
struct Refusal: Error, Sendable {
    var code: UInt16
    var text: String
    init(_ code: UInt16, _ text: String) {
        self.code = code
        self.text = text
    }
}
