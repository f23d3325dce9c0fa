import LaneCore
import LaneSpool
import LaneWire
import LaneTOML

/// Runs raw detections through the same pipeline, batcher and encoder as the daemon, with time
/// taken from the detections: a trace replays to the same events every time.
public final class Replay {
    public let config: GatewayConfig
    private let pipeline: LanePipeline
    private let batches: BatchAssembler
    private let scanner: TraceScanner
    private var deviceIndex: [String: DeviceIndex] = [:]
    private var pending: [LaneEvent] = []
    private let onEvent: (LaneEvent, LaneLayout) -> Void
    public private(set) var statistics = ReplayStatistics()

    /// `onEvent` sees each lane event as it is emitted; closed batches are committed to `spool`
    /// when one is given.
    public init(config: GatewayConfig, pseudonymizer: TagPseudonymizer?, spool: Spool? = nil, dictionaryUse: DictionaryUse? = nil,
                onEvent: @escaping (LaneEvent, LaneLayout) -> Void) {
        self.config = config
        pipeline = LanePipeline(layout: config.layout, pseudonymizer: pseudonymizer)
        batches = BatchAssembler(config: config, spool: spool, dictionaryUse: dictionaryUse)
        for (i, device) in config.layout.devices.enumerated() { deviceIndex[device.name] = DeviceIndex(UInt16(i)) }
        scanner = TraceScanner(deviceNames: config.layout.devices.map(\.name))
        self.onEvent = onEvent
        pending.reserveCapacity(64)
    }

    /// Feeds one trace line; throws with what is wrong (the caller adds file and line).
    public func feed(line: String) throws(TraceFormatError) {
        statistics.traceLines += 1
        guard let record = try TraceLine(parsing: line) else { return }
        guard let device = deviceIndex[record.device] else {
            throw TraceFormatError("device \"\(record.device)\" is not in the configuration's [[devices]]")
        }
        feed(Detection(time: record.time, device: device, payload: record.payload))
    }

    /// Feeds one trace line given as UTF-8: the plain lines `lanegate record` writes take the
    /// scanner's fast path; any other line is parsed as a `String`, which also names its fault.
    public func feed(utf8 line: UnsafeBufferPointer<UInt8>) throws(TraceFormatError) {
        guard let detection = scanner.detection(in: line) else {
            return try feed(line: String(decoding: line, as: UTF8.self))
        }
        statistics.traceLines += 1
        feed(detection)
    }

    public func feed(_ detection: Detection) {
        pipeline.process(detection, into: &pending)
        flushPending()
    }

    /// Ends the trace: remaining visits depart, the last batch closes.
    public func finish() {
        pipeline.finish(into: &pending)
        flushPending()
        closeBatch()
        statistics.counters = pipeline.counters
    }

    private func flushPending() {
        let now = pipeline.now ?? .zero
        for event in pending {
            statistics.eventsByType[event.typeName, default: 0] += 1
            onEvent(event, config.layout)
            if batches.add(event, now: now) { closeBatch() }
        }
        pending.removeAll(keepingCapacity: true)
        if batches.isDue(now: now) { closeBatch() }
    }

    private func closeBatch() {
        // A replay is not live: the anchor says so (UTC 0, sync unknown) instead of inventing a time.
        let anchor = ClockAnchor(monotonic: pipeline.now ?? .zero, utcNanoseconds: 0, sync: .unknown,
                                 maxErrorMicros: -1, estimatedErrorMicros: -1)
        guard let (batch, body) = batches.close(now: pipeline.now ?? .zero, counters: pipeline.counters, anchor: anchor) else { return }
        statistics.batches += 1
        statistics.wireBytes += body.count
        for event in batch.events { statistics.jsonBytes += event.json(naming: config.layout).utf8.count + 1 }
    }

    /// Replays the trace file at `path` ("-": standard input), naming file and line on error.
    public static func run(config: GatewayConfig, pseudonymizer: TagPseudonymizer?, tracePath: String, spool: Spool? = nil,
                           dictionaryUse: DictionaryUse? = nil,
                           onEvent: @escaping (LaneEvent, LaneLayout) -> Void) throws -> ReplayStatistics {
        let replay = Replay(config: config, pseudonymizer: pseudonymizer, spool: spool, dictionaryUse: dictionaryUse, onEvent: onEvent)
        let reader: LineReader
        do { reader = try LineReader(path: tracePath) } catch {
            throw TraceFileError(file: tracePath, line: nil, message: "cannot open: \(error)")
        }
        while let line = reader.nextBytes() {
            do { try replay.feed(utf8: line) } catch {
                throw TraceFileError(file: tracePath, line: reader.lineNumber, message: error.message)
            }
        }
        replay.finish()
        return replay.statistics
    }
}

public struct TraceFileError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

/// Loads the site key for tag pseudonyms, if the configuration asks for one.
public func loadPseudonymizer(_ config: GatewayConfig) throws -> TagPseudonymizer? {
    guard let path = config.privacyKeyFile else { return nil }
    let bytes: [UInt8]
    do { bytes = try readFileBytes(path) } catch {
        throw ConfigError(file: path, line: nil, key: "privacy.key_file", message: "cannot read the site key: \(error)")
    }
    guard let p = TagPseudonymizer(keyBytes: bytes) else {
        throw ConfigError(file: path, line: nil, key: "privacy.key_file", message: "the site key must hold at least 16 bytes, has \(bytes.count)")
    }
    return p
}
