import LaneCore

/// The reader's side of a session: each request's answer, and what runs by itself (keepalives,
/// ROSpec triggers, reports).
extension LLRPReaderSimulator {
    typealias Message = (type: UInt16, version: UInt8, id: UInt32, body: [UInt8])

    func answer(_ m: Message, _ state: inout State) -> [UInt8] {
        let ok = LLRPWire.status(0)
        func reply(_ type: UInt16, _ result: Result<[UInt8], Refusal>) -> [UInt8] {
            switch result {
            case .success(let body): LLRPWire.message(type, m.id, ok + body)
            case .failure(let refusal): LLRPWire.message(type, m.id, LLRPWire.status(refusal.code, refusal.text))
            }
        }
        let specID = LLRPWire.number(m.body, at: 0, size: 4).map { UInt32($0) }
        switch m.type {
        case 1:  // GET_READER_CAPABILITIES
            return reply(11, .success(LLRPReaderDescription.capabilities))
        case 2:  // GET_READER_CONFIG
            return reply(12, .success(LLRPReaderDescription.configuration(
                keepaliveMilliseconds: state.keepalive.map { UInt32($0 / 1_000_000) }, events: state.events, report: state.defaultReport)))
        case 3:  // SET_READER_CONFIG
            configure(m.body, &state)
            return reply(13, .success([]))
        case 20:  // ADD_ROSPEC
            guard let value = LLRPWire.parameters(m.body).first(where: { $0.type == 177 })?.value else {
                return reply(30, .failure(Refusal(103, "ADD_ROSPEC without an ROSpec")))
            }
            guard state.rospec == nil else { return reply(30, .failure(Refusal(101, "this reader holds one ROSpec; delete it first"))) }
            switch SimulatedROSpec.parse(value, defaultReport: state.defaultReport) {
            case .success(let spec):
                state.rospec = spec
                state.counts.startTrigger = spec.start.type
                return reply(30, .success([]))
            case .failure(let refusal): return reply(30, .failure(refusal))
            }
        case 21:  // DELETE_ROSPEC
            guard let id = specID else { return reply(31, .failure(Refusal(103, "ROSpecID is missing"))) }
            guard let spec = state.rospec, id == 0 || id == spec.id else {
                if id == 0 && quirks.deleteAllWhenEmpty != 0 { return reply(31, .failure(Refusal(quirks.deleteAllWhenEmpty, "no ROSpec 0"))) }
                return reply(31, id == 0 ? .success([]) : .failure(Refusal(101, "no ROSpec \(id)")))
            }
            let ended = spec.phase == .active ? end(&state, by: .request) : []
            state.rospec = nil
            return reply(31, .success([])) + ended
        case 24:  // ENABLE_ROSPEC
            guard let id = specID, var spec = state.rospec, id == 0 || id == spec.id else {
                return reply(34, .failure(Refusal(101, "no ROSpec \(specID ?? 0)")))
            }
            guard spec.phase == .disabled else { return reply(34, .success([])) }
            spec.phase = .inactive
            if case .periodic(let offset, _) = spec.start { spec.nextStart = MonotonicInstant.now().advanced(by: offset) }
            state.rospec = spec
            return reply(34, .success([])) + (spec.start == .immediate ? begin(&state) : [])
        case 22:  // START_ROSPEC
            guard let id = specID, let spec = state.rospec, id == spec.id else {
                return reply(32, .failure(Refusal(101, "no ROSpec \(specID ?? 0)")))
            }
            switch spec.phase {
            case .disabled: return reply(32, .failure(Refusal(101, "ROSpec \(id) is not enabled")))
            case .active:
                return reply(32, quirks.strictStart ? .failure(Refusal(101, "ROSpec \(id) is already active")) : .success([]))
            case .inactive: return reply(32, .success([])) + begin(&state)
            }
        case 23:  // STOP_ROSPEC
            guard let id = specID, let spec = state.rospec, id == spec.id else {
                return reply(33, .failure(Refusal(101, "no ROSpec \(specID ?? 0)")))
            }
            guard spec.phase == .active else { return reply(33, .failure(Refusal(101, "ROSpec \(id) is not active"))) }
            return reply(33, .success([])) + end(&state, by: .request)
        case 25:  // DISABLE_ROSPEC
            guard let id = specID, let spec = state.rospec, id == 0 || id == spec.id else {
                return reply(35, specID == 0 ? .success([]) : .failure(Refusal(101, "no ROSpec \(specID ?? 0)")))
            }
            let ended = spec.phase == .active ? end(&state, by: .request) : []
            state.rospec?.phase = .disabled
            state.rospec?.nextStart = nil
            return reply(35, .success([])) + ended
        case 26:  // GET_ROSPECS
            return reply(36, .success(state.rospec?.parameter ?? []))
        case 40:  // ADD_ACCESSSPEC: honest about not executing access operations
            return reply(50, .failure(Refusal(111, "this reader does not execute access operations")))
        case 41, 42, 43:  // DELETE, ENABLE, DISABLE_ACCESSSPEC: none exist; 0 means all of them
            return reply(m.type + 10, specID == 0 ? .success([]) : .failure(Refusal(101, "no AccessSpec \(specID ?? 0)")))
        case 44:  // GET_ACCESSSPECS
            return reply(54, .success([]))
        case 60:  // GET_REPORT
            return report(state.pending, &state, clearing: true)
        case 64:  // ENABLE_EVENTS_AND_REPORTS
            return []
        case 72:  // KEEPALIVE_ACK
            state.counts.keepaliveAcks += 1
            return []
        case 14:  // CLOSE_CONNECTION
            state.drop = true
            return reply(4, .success([]))
        default:
            return LLRPWire.message(100, m.id, LLRPWire.status(109, "unsupported message type \(m.type)"))
        }
    }

    /// SET_READER_CONFIG: a KeepaliveSpec, and which reader events the client wants.
    private func configure(_ body: [UInt8], _ state: inout State) {
        // ResetToFactoryDefault (1 bit) and 7 reserved bits, then parameters.
        if body.first.map({ $0 & 0x80 != 0 }) == true {
            state.keepalive = nil
            state.events = [2, 6]
        }
        for p in LLRPWire.parameters(body, from: 1) {
            switch p.type {
            case 220 where p.value.count >= 5:
                if p.value[0] == 1, let millis = LLRPWire.number(p.value, at: 1, size: 4), millis > 0 {
                    state.keepalive = Nanoseconds(millis) * 1_000_000
                    state.nextKeepalive = MonotonicInstant.now().advanced(by: state.keepalive!)
                } else {
                    state.keepalive = nil
                }
            case 244:
                for e in LLRPWire.parameters(p.value) where e.type == 245 && e.value.count >= 3 {
                    let type = UInt16(LLRPWire.number(e.value, at: 0, size: 2)!)
                    if e.value[2] & 0x80 != 0 { state.events.insert(type) } else { state.events.remove(type) }
                }
            case 237 where p.value.count >= 3:
                state.defaultReport.trigger = p.value[0]
                state.defaultReport.n = UInt16(LLRPWire.number(p.value, at: 1, size: 2)!)
                if let selector = LLRPWire.parameters(p.value, from: 3).first(where: { $0.type == 238 })?.value,
                   let bits = LLRPWire.number(selector, at: 0, size: 2) {
                    state.defaultReport.selector = UInt16(bits)
                }
            default: break
            }
        }
    }

    enum Ending { case request, trigger }

    /// The ROSpec goes active: its start event, and the tags waiting in the field are inventoried.
    private func begin(_ state: inout State) -> [UInt8] {
        guard var spec = state.rospec else { return [] }
        spec.phase = .active
        spec.startedAt = .now()
        spec.aiStartedAt = spec.startedAt
        spec.aiTags = 0
        spec.aiLastTag = nil
        state.rospec = spec
        state.counts.started += 1
        return state.events.contains(2) ? notification(LLRPWire.tlv(249, [0] + LLRPWire.u32(spec.id) + LLRPWire.u32(0))) : []
    }

    /// The ROSpec's run ends (its duration, or STOP/DISABLE/DELETE): the report its trigger
    /// holds back until the end, then the end events.
    private func end(_ state: inout State, by ending: Ending) -> [UInt8] {
        guard var spec = state.rospec, spec.phase == .active else { return [] }
        var out = spec.reportTrigger == 0 ? [] : report(state.pending, &state, clearing: true)
        if ending == .trigger { state.counts.stoppedByTrigger += 1 }
        if state.events.contains(6) { out += notification(LLRPWire.tlv(254, [0] + LLRPWire.u32(spec.id) + LLRPWire.u16(1))) }
        if state.events.contains(2) { out += notification(LLRPWire.tlv(249, [1] + LLRPWire.u32(spec.id) + LLRPWire.u32(0))) }
        spec.phase = .inactive
        spec.startedAt = nil
        if case .periodic(_, let period) = spec.start { spec.nextStart = MonotonicInstant.now().advanced(by: period) }
        state.rospec = spec
        return out
    }

    /// What runs by itself on every turn of the loop: keepalives, triggers, reports due.
    func run(_ state: inout State) -> [UInt8] {
        var out: [UInt8] = []
        let now = MonotonicInstant.now()
        if let period = state.keepalive, now >= state.nextKeepalive {
            state.nextKeepalive = now.advanced(by: period)
            state.messageID &+= 1
            out += LLRPWire.message(62, state.messageID, [])
            state.counts.keepalivesSent += 1
        }
        if let spec = state.rospec, spec.phase == .inactive, let next = spec.nextStart, now >= next {
            state.rospec?.nextStart = nil
            out += begin(&state)
        }
        guard let spec = state.rospec, spec.phase == .active else { return out }
        // Inventory: each tag in the field counts toward the AISpec's tag observation and the
        // report's N.
        let seen = state.field
        state.field.removeAll()
        for read in seen where spec.antennas.isEmpty || spec.antennas.contains(read.antenna) {
            state.pending.append(read)
            state.rospec!.aiTags += 1
            state.rospec!.aiLastTag = now
            if spec.reportTrigger != 0 && spec.reportN > 0 && state.pending.count >= Int(spec.reportN) {
                out += report(state.pending, &state, clearing: true)
            }
            if case .tags(let n, _) = spec.aiStop, state.rospec!.aiTags >= n { out += endOfAISpec(&state, now: now) }
        }
        let ai = state.rospec!
        switch ai.aiStop {
        case .duration(let d) where now.since(ai.aiStartedAt!) >= d: out += endOfAISpec(&state, now: now)
        case .tags(_, let timeout) where timeout > 0 && now.since(ai.aiStartedAt!) >= timeout: out += endOfAISpec(&state, now: now)
        case .silence(let quiet) where now.since(ai.aiLastTag ?? ai.aiStartedAt!) >= quiet: out += endOfAISpec(&state, now: now)
        default: break
        }
        if let duration = spec.duration, let started = spec.startedAt, now.since(started) >= duration {
            out += end(&state, by: .trigger)
        }
        return out
    }

    /// The AISpec's stop trigger fired: its report (trigger 1), its end event, and the ROSpec
    /// runs it again.
    private func endOfAISpec(_ state: inout State, now: MonotonicInstant) -> [UInt8] {
        guard let spec = state.rospec else { return [] }
        var out = spec.reportTrigger == 1 ? report(state.pending, &state, clearing: true) : []
        if state.events.contains(6) { out += notification(LLRPWire.tlv(254, [0] + LLRPWire.u32(spec.id) + LLRPWire.u16(1))) }
        state.rospec?.aiStartedAt = now
        state.rospec?.aiTags = 0
        state.rospec?.aiLastTag = nil
        return out
    }

    /// An RO_ACCESS_REPORT of `reads`, with the fields the ROSpec's content selector asks for.
    private func report(_ reads: [Read], _ state: inout State, clearing: Bool) -> [UInt8] {
        if clearing { state.pending.removeAll() }
        guard !reads.isEmpty else { return [] }
        let selector = state.rospec?.selector ?? state.defaultReport.selector
        let specID = state.rospec?.id ?? 0
        func on(_ bit: Int) -> Bool { selector & (1 << bit) != 0 }
        let now = MonotonicInstant.now(), utc = utcNow()
        var body: [UInt8] = []
        for read in reads {
            let seen = LLRPWire.u64(UInt64(max(0, utc - now.since(read.at) / 1000)))
            let epc = read.tag.bytes
            var fields = epc.count == 12 ? [0x80 | 13] + epc : LLRPWire.tlv(241, LLRPWire.u16(UInt16(epc.count * 8)) + epc)
            if on(15) { fields += [0x80 | 9] + LLRPWire.u32(specID) }
            if on(14) { fields += [0x80 | 14] + LLRPWire.u16(1) }  // SpecIndex
            if on(13) { fields += [0x80 | 10] + LLRPWire.u16(1) }  // InventoryParameterSpecID
            if on(12) { fields += [0x80 | 1] + LLRPWire.u16(read.antenna) }
            if on(10) { fields += [0x80 | 6, UInt8(bitPattern: read.rssi)] }
            if on(11) { fields += [0x80 | 7] + LLRPWire.u16(1) }
            if on(9) { fields += [0x80 | 2] + seen }
            if on(8) { fields += [0x80 | 4] + seen }
            if on(7) { fields += [0x80 | 8] + LLRPWire.u16(1) }
            if on(6) { fields += [0x80 | 16] + LLRPWire.u32(0) }
            fields += LLRPWire.tlv(1023, LLRPWire.u32(LLRPWire.enterpriseNumber) + LLRPWire.u32(1) + [0xDE, 0xAD])  // vendor extension
            body += LLRPWire.tlv(240, fields)
        }
        state.messageID &+= 1
        state.counts.reports += 1
        return LLRPWire.message(61, state.messageID, body)
    }
}
