import LaneCore

/// Synthetic traffic through a booth of `lanes` lanes, reproducible from a seed, with its ground
/// truth. Each lane has an RFID reader (ports 1–2 watch the upstream read point at the end of the
/// queue, ports 3–4 the booth), a speed trap of two loops before the booth, and a share of an
/// e-seal receiver (antenna = lane number) at the booth. Vehicles queue, are read upstream, dwell
/// at the booth (trucks for minutes), and leave; reads succeed at `readRate`, RSSI rises and falls
/// with distance, loops bounce now and then, and some seals get tampered at the booth.
public struct BoothTraffic: Sendable {
    public var seed: UInt64
    public var lanes: Int
    public var vehicles: Int
    public var distinctTags: Int
    public var readRate: Double
    /// How often each antenna tries to read a tag in its field.
    public var readInterval: Nanoseconds
    /// Share of vehicles that are trucks carrying a container e-seal.
    public var sealedShare: Double
    /// Share of seals that are tampered while at the booth.
    public var tamperShare: Double
    public var spacing: Double = 4.0
    /// Multiplies queueing and dwell times (not speeds, read timing or seal report timing):
    /// 0.1 plays a booth's ten minutes in one, for live tests and demos against real drivers.
    public var timeScale: Double = 1.0
    /// Lane 1's first loop chatters this many times (short calls, 200 ms apart) before the
    /// first vehicle: a failing detector card.
    public var chatterPulses = 0
    /// Lane 1's reader is unplugged for this long in a quiet moment between two vehicles, and
    /// plugged back in (the player does it; the truth says when).
    public var readerOutage: Nanoseconds = 0
    /// Each lane's reader also watches the lane's exit from the port (ports 5–6), read a little
    /// after the vehicle leaves the booth: with the upstream point at the end of the queue, the
    /// route border-delay measurement needs.
    public var exitReadPoints = false
    /// Each lane also has a licence-plate camera (device `cam-laneN`, read point `laneN/plate`)
    /// that reads every vehicle as it crosses loop B, with these mistakes; and each lane joins
    /// loop B's vehicles with the booth's and the camera's reads into passage records.
    public var plateCameras: PlateCameraSimulator.Misreads?
    /// When the camera's push reaches the gateway after the vehicle enters loop B: the camera's
    /// trigger, recognition and the LAN.
    public var plateLatency: ClosedRange<Double> = 0.3...1.2
    public var start = MonotonicInstant(nanoseconds: .seconds(1000))

    public init(seed: UInt64 = 1, lanes: Int = 2, vehicles: Int = 40, distinctTags: Int = 2000,
                readRate: Double = 0.65, readInterval: Nanoseconds = .milliseconds(50),
                sealedShare: Double = 0.3, tamperShare: Double = 0.1) {
        self.seed = seed
        self.lanes = lanes
        self.vehicles = vehicles
        self.distinctTags = distinctTags
        self.readRate = readRate
        self.readInterval = readInterval
        self.sealedShare = sealedShare
        self.tamperShare = tamperShare
    }

    /// What really happened, for checking the pipeline's output.
    public struct Truth: Sendable {
        public struct Visit: Sendable, Hashable {
            public var readPoint: String
            public var tag: TagID
            public var firstRead: MonotonicInstant
            public var lastRead: MonotonicInstant
            public var reads: Int
        }
        public struct Passage: Sendable, Hashable {
            public var loop: String
            public var on: MonotonicInstant
            public var off: MonotonicInstant
            public var speed: Double
        }
        public struct Tamper: Sendable, Hashable {
            public var readPoint: String
            public var seal: SealID
            public var time: MonotonicInstant
        }
        /// A reader off the lane between `from` and `to`.
        public struct Outage: Sendable, Hashable {
            public var device: DeviceIndex
            public var from: MonotonicInstant
            public var to: MonotonicInstant
        }
        public var visits: [Visit] = []
        public var passages: [Passage] = []
        public var tampers: [Tamper] = []
        /// Loops whose chatter must raise an erratic-counts fault.
        public var chattering: [String] = []
        public var outages: [Outage] = []
        /// Each vehicle's true times: passing the end of the queue (upstream), reaching the booth,
        /// and reaching the exit (with ``exitReadPoints``).
        public var crossings: [Crossing] = []
        /// With ``plateCameras``: each vehicle as a passage record should have it.
        public var vehicles: [Vehicle] = []
    }

    /// One vehicle through a lane: its call on loop B, its tag, plate and seal, and what the
    /// camera made of its plate.
    public struct Vehicle: Sendable, Equatable {
        public var lane: String
        public var onB: MonotonicInstant
        public var tag: TagID
        /// Whether the booth read the tag at all (a read rate below 1 can miss one).
        public var tagRead: Bool
        public var plate: String
        public var camera: PlateCameraSimulator.Shot
        public var seal: SealID?
    }

    public struct Crossing: Sendable, Hashable {
        public var tag: TagID
        public var lane: String
        public var queueEnd: MonotonicInstant
        public var booth: MonotonicInstant
        public var exit: MonotonicInstant?
        public var wait: Nanoseconds { booth.since(queueEnd) }
    }

    public struct Output: Sendable {
        public var detections: [Detection]
        public var truth: Truth
        /// With ``plateCameras``: the cameras' reads as the booth listener hands them on, by time.
        public var plates: [PlateSighting] = []
        /// The same reads as the cameras push them (for a simulator that plays them live).
        public var cameraPushes: [CameraPush] = []
    }

    /// A camera's push of one vehicle: when it reaches the gateway, which lane (from 1), and
    /// what the camera read.
    public struct CameraPush: Sendable, Equatable {
        public var time: MonotonicInstant
        public var lane: Int
        public var shot: PlateCameraSimulator.Shot
    }

    /// The layout the traffic is generated for: `lanegate synth --config` prints it as TOML.
    public var layout: LaneLayout {
        var devices: [LaneLayout.Device] = (1...lanes).map { .init(name: "rfid-lane\($0)", kind: .rfid) }
        devices.append(.init(name: "eseal", kind: .eseal))
        devices.append(.init(name: "loops", kind: .loops))
        let eseal = DeviceIndex(UInt16(lanes)), loopCard = DeviceIndex(UInt16(lanes + 1))
        var layout = LaneLayout(devices: devices)
        for lane in 1...lanes {
            let reader = DeviceIndex(UInt16(lane - 1))
            layout.readPoints.append(.init(name: "lane\(lane)/upstream", lane: "lane\(lane)",
                                           antennas: [.init(device: reader, port: 1), .init(device: reader, port: 2)]))
            layout.readPoints.append(.init(name: "lane\(lane)/booth", lane: "lane\(lane)",
                                           antennas: [.init(device: reader, port: 3), .init(device: reader, port: 4),
                                                      .init(device: eseal, port: UInt8(lane))]))
            if exitReadPoints {
                layout.readPoints.append(.init(name: "lane\(lane)/exit", lane: "lane\(lane)",
                                               antennas: [.init(device: reader, port: 5), .init(device: reader, port: 6)]))
            }
            let a = LoopIndex(layout.loops.count)
            layout.loops.append(.init(name: "lane\(lane)/loop-a", lane: "lane\(lane)", device: loopCard, line: UInt16(2 * (lane - 1))))
            layout.loops.append(.init(name: "lane\(lane)/loop-b", lane: "lane\(lane)", device: loopCard, line: UInt16(2 * (lane - 1) + 1)))
            layout.speedTraps.append(.init(upstream: a, downstream: a + 1, spacing: spacing))
        }
        if plateCameras != nil {
            for lane in 1...lanes {
                let camera = DeviceIndex(UInt16(layout.devices.count))
                layout.devices.append(.init(name: "cam-lane\(lane)", kind: .camera))
                let booth = layout.readPoints.firstIndex { $0.name == "lane\(lane)/booth" }!
                layout.readPoints.append(.init(name: "lane\(lane)/plate", lane: "lane\(lane)", antennas: [.init(device: camera, port: 1)]))
                let loopB = layout.loops.firstIndex { $0.name == "lane\(lane)/loop-b" }!
                layout.passages.append(.init(loop: LoopIndex(loopB), readPoints: [ReadPointIndex(booth), ReadPointIndex(layout.readPoints.count - 1)]))
            }
        }
        return layout
    }

    public func generate() -> Output {
        var rng = SplitMix64(seed: seed)
        // Plates draw from a generator of their own: the rest of a seed's traffic stays the same
        // with cameras or without.
        var plateRNG = SplitMix64(seed: seed ^ 0x706C_6174_6573)
        var plates: [PlateSighting] = []
        var pushes: [CameraPush] = []
        let firstCamera = lanes + 2
        var detections: [Detection] = []
        var truth = Truth()
        let loopCard = DeviceIndex(UInt16(lanes + 1)), eseal = DeviceIndex(UInt16(lanes))
        // A tag is busy until its vehicle has left and its last visit has surely departed.
        var tagFreeAt = [MonotonicInstant](repeating: .zero, count: distinctTags)
        var laneFreeAt = [MonotonicInstant](repeating: start, count: lanes)
        var loopsFreeAt = [MonotonicInstant](repeating: start, count: lanes)
        if chatterPulses > 0 {
            for pulse in 0..<chatterPulses {
                let on = start.advanced(by: .milliseconds(200) * Int64(pulse))
                detections.append(Detection(time: on, device: loopCard, payload: .loop(LoopEdge(line: 0, occupied: true))))
                detections.append(Detection(time: on.advanced(by: .milliseconds(80)), device: loopCard,
                                            payload: .loop(LoopEdge(line: 0, occupied: false))))
                truth.passages.append(.init(loop: "lane1/loop-a", on: on, off: on.advanced(by: .milliseconds(80)), speed: 0))
            }
            truth.chattering.append("lane1/loop-a")
            let quiet = start.advanced(by: .milliseconds(200) * Int64(chatterPulses) + .seconds(2))
            loopsFreeAt[0] = quiet.advanced(by: .seconds(4))
            laneFreeAt[0] = quiet
        }
        let epcPrefix: [UInt8] = [0x30, 0x14, 0x2D, 0x1A, 0x80, 0x5C, 0x40]  // SGTIN-96-like header
        func epc(_ i: Int) -> TagID {
            let serial = UInt64(i) &* 0x9E37_79B1 & 0xFF_FFFF_FFFF
            return TagID(bytes: epcPrefix + (0..<5).map { UInt8(truncatingIfNeeded: serial >> UInt64(32 - 8 * $0)) })!
        }

        for _ in 0..<vehicles {
            let lane = Int.random(in: 0..<lanes, using: &rng)
            let reader = DeviceIndex(UInt16(lane))
            let isTruck = Double.random(in: 0..<1, using: &rng) < sealedShare
            var arrive = laneFreeAt[lane].advanced(by: scaled(Double.random(in: 2...20, using: &rng)))
            var tagIndex = Int.random(in: 0..<distinctTags, using: &rng)
            for _ in 0..<distinctTags where tagFreeAt[tagIndex] > arrive { tagIndex = (tagIndex + 1) % distinctTags }
            let tag = epc(tagIndex)

            // Upstream read point, then the approach over the speed trap, then the booth.
            let upstreamDwell = scaled(Double.random(in: 2...6, using: &rng))
            var boothStart = arrive.advanced(by: upstreamDwell + scaled(Double(Int64.random(in: 8...20, using: &rng))))
            // A vehicle reaches the loops only once the one before has left them (compressed
            // time could otherwise stack two vehicles on one loop).
            let loopsClear = loopsFreeAt[lane].since(boothStart.advanced(by: -.seconds(4)))
            if loopsClear > 0 {
                arrive = arrive.advanced(by: loopsClear)
                boothStart = boothStart.advanced(by: loopsClear)
            }
            let boothDwell = scaled(Double.random(in: isTruck ? 60...240 : 10...45, using: &rng))
            let boothEnd = boothStart.advanced(by: boothDwell)
            let lanePrefix = "lane\(lane + 1)"
            var stays = [("upstream", [UInt8(1), 2], arrive, upstreamDwell), ("booth", [UInt8(3), 4], boothStart, boothDwell)]
            var exit: MonotonicInstant?
            if exitReadPoints {
                exit = boothEnd.advanced(by: scaled(Double.random(in: 5...15, using: &rng)))
                stays.append(("exit", [5, 6], exit!, scaled(Double.random(in: 2...4, using: &rng))))
            }
            truth.crossings.append(Crossing(tag: tag, lane: lanePrefix, queueEnd: arrive, booth: boothStart, exit: exit))
            for (name, ports, from, span) in stays {
                var visit: Truth.Visit?
                var t = from
                let end = from.advanced(by: span)
                while t < end {
                    let progress = Double(t.since(from)) / Double(span)
                    for port in ports where Double.random(in: 0..<1, using: &rng) < readRate {
                        let jitter = Nanoseconds.random(in: 0..<readInterval / 2, using: &rng)
                        let at = t.advanced(by: jitter)
                        let rssi = Int8(-72 + 24 * (1 - abs(2 * progress - 1)) + Double.random(in: -3...3, using: &rng))
                        detections.append(Detection(time: at, device: reader,
                                                    payload: .tag(TagRead(tag: tag, antenna: port, rssi: rssi))))
                        if visit == nil { visit = .init(readPoint: "\(lanePrefix)/\(name)", tag: tag, firstRead: at, lastRead: at, reads: 0) }
                        visit!.reads += 1
                        if at > visit!.lastRead { visit!.lastRead = at }
                        if at < visit!.firstRead { visit!.firstRead = at }
                    }
                    t = t.advanced(by: readInterval)
                }
                if let visit { truth.visits.append(visit) }
            }

            // The speed trap: loop A then loop B, presence for the vehicle's length plus the loop's.
            let speed = Double.random(in: 2...9, using: &rng)
            let length = isTruck ? Double.random(in: 14...22, using: &rng) : Double.random(in: 3.5...5.5, using: &rng)
            let onA = boothStart.advanced(by: -.seconds(4))
            let occupancy = Nanoseconds((length + 1.8) / speed * 1e9)
            let onB = onA.advanced(by: Nanoseconds(spacing / speed * 1e9))
            for (k, on) in [(0, onA), (1, onB)] {
                let line = UInt16(2 * lane + k)
                let off = on.advanced(by: occupancy)
                detections.append(Detection(time: on, device: loopCard, payload: .loop(LoopEdge(line: line, occupied: true))))
                if Double.random(in: 0..<1, using: &rng) < 0.1 {  // contact bounce inside the call
                    let blip = on.advanced(by: occupancy / 2)
                    detections.append(Detection(time: blip, device: loopCard, payload: .loop(LoopEdge(line: line, occupied: false))))
                    detections.append(Detection(time: blip.advanced(by: .milliseconds(8)), device: loopCard,
                                                payload: .loop(LoopEdge(line: line, occupied: true))))
                }
                detections.append(Detection(time: off, device: loopCard, payload: .loop(LoopEdge(line: line, occupied: false))))
                loopsFreeAt[lane] = max(loopsFreeAt[lane], off.advanced(by: .seconds(1)))
                truth.passages.append(.init(loop: "\(lanePrefix)/loop-\(k == 0 ? "a" : "b")", on: on, off: off, speed: speed))
            }

            var sealOfTruck: SealID?
            defer {
                if let misreads = plateCameras {
                    let camera = PlateCameraSimulator(format: .hikvisionISAPI, camera: "cam-lane\(lane + 1)", misreads: misreads)
                    let plate = SimulatedPlates.next(using: &plateRNG)
                    let shot = camera.read(plate, using: &plateRNG)
                    let at = onB.advanced(by: Nanoseconds(Double.random(in: plateLatency, using: &plateRNG) * 1e9))
                    plates.append(PlateSighting(time: at, device: DeviceIndex(UInt16(firstCamera + lane)), channel: 1,
                                                plate: PlateText(shot.reported), confidence: UInt16((shot.confidence * 1000).rounded())))
                    pushes.append(CameraPush(time: at, lane: lane + 1, shot: shot))
                    truth.vehicles.append(Vehicle(lane: lanePrefix, onB: onB, tag: tag,
                                                  tagRead: truth.visits.contains { $0.tag == tag && $0.readPoint == "\(lanePrefix)/booth" && $0.firstRead >= boothStart },
                                                  plate: plate, camera: shot, seal: sealOfTruck))
                }
            }
            if isTruck {
                let seal = SealID(manufacturer: 0x0E1F, tag: UInt32(truncatingIfNeeded: rng.next()))
                sealOfTruck = seal
                let tamperAt: MonotonicInstant? = Double.random(in: 0..<1, using: &rng) < tamperShare
                    ? boothStart.advanced(by: boothDwell / 2) : nil
                var t = boothStart
                var reportedTamper = false
                while t < boothEnd {
                    let tampered = tamperAt.map { t >= $0 } ?? false
                    if Double.random(in: 0..<1, using: &rng) < 0.9 {
                        let status: SealStatus = tampered ? [.tampered, .opened] : .sealed
                        detections.append(Detection(time: t, device: eseal, payload: .seal(SealReport(
                            seal: seal, status: status, eventCount: tampered ? 2 : 1, eventTime: 1_763_900_000,
                            rssi: -60, antenna: UInt8(lane + 1)))))
                        if tampered && !reportedTamper {
                            reportedTamper = true
                            truth.tampers.append(.init(readPoint: "\(lanePrefix)/booth", seal: seal, time: t))
                        }
                    }
                    t = t.advanced(by: .seconds(1))
                }
            }
            laneFreeAt[lane] = boothEnd
            tagFreeAt[tagIndex] = (exit ?? boothEnd).advanced(by: max(scaled(30), .seconds(10)))
            // The outage goes into the first gap on lane 1 long enough to hold it with room to
            // reconnect: pulled after the vehicle's last read, back well before the next.
            if lane == 0, readerOutage > 0, truth.outages.isEmpty {
                let from = boothEnd.advanced(by: .milliseconds(300))
                let to = from.advanced(by: readerOutage)
                laneFreeAt[0] = max(laneFreeAt[0], to.advanced(by: .seconds(3)))
                truth.outages.append(.init(device: DeviceIndex(0), from: from, to: to))
            }
        }
        detections.sort { $0.time < $1.time }
        plates.sort { $0.time < $1.time }
        pushes.sort { $0.time < $1.time }
        return Output(detections: detections, truth: truth, plates: plates, cameraPushes: pushes)
    }

    private func scaled(_ seconds: Double) -> Nanoseconds { Nanoseconds(seconds * timeScale * 1e9) }
}
