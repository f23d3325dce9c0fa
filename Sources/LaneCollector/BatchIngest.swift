import HTTPTypes
import Hummingbird
import LaneCore
import LaneWire
import NIOCore
import Prometheus

/// What became of one batch a gateway sent: the answer it gets for that batch.
enum BatchAnswer: Sendable {
    /// Stored now, or stored before with the same content ("duplicate"): the gateway may forget it.
    case acknowledged(gateway: String, sequence: UInt64, status: String, events: Int)
    /// Refused for good: the gateway keeps it as a dead letter.
    case refused(HTTPResponse.Status, label: String, reason: String, sequence: UInt64?)
    /// The store could not answer: the gateway keeps it spooled and tries again.
    case unavailable(StoreUnavailableError)
}

extension Collector {
    // MARK: POST /v1/batches

    /// One zstd-compressed batch (`Content-Encoding: zstd`), or a bundle of them
    /// (`Content-Type: application/x-lanegate-bundle`, see ``BatchBundle``).
    func ingest(_ request: Request, context: CollectorContext) async throws -> Response {
        let identity: String
        switch await identify(request, context: context) {
        case .gateway(let id): identity = id
        case .unknownCertificate(let name):
            return refuse(.forbidden, "unknown", "the client certificate names \"\(name)\", which is not a known gateway")
        case .none:
            return refuse(.unauthorized, "auth", "a gateway token is required: Authorization: Bearer <token>")
        }
        let isBundle = request.headers[.contentType]?.lowercased().hasPrefix(BatchBundle.contentType) ?? false
        let encoding = request.headers[.contentEncoding]?.lowercased()
        guard isBundle ? encoding == nil : encoding == "zstd" else {
            return refuse(.unsupportedMediaType, "encoding", isBundle
                          ? "a bundle is sent without Content-Encoding: its batches are compressed each"
                          : "the body must be a zstd-compressed lanegate.v1.Batch (Content-Encoding: zstd)")
        }
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: settings.maxBodyBytes) } catch {
            return refuse(.contentTooLarge, "size", "the body exceeds \(settings.maxBodyBytes) bytes")
        }
        let body = Array(buffer.readableBytesView)
        metrics.bytesReceived.increment(by: Int64(body.count))
        let backlog = request.headers[.lanegateBacklog].flatMap { Int($0) }
        guard isBundle else {
            switch try await accept(body, from: identity, backlog: backlog) {
            case .acknowledged(let gateway, let sequence, let status, let events):
                return announcingDictionaries(json(.ok, acknowledgement(gateway: gateway, sequence: sequence, status: status, events: events)))
            case .refused(let status, let label, let reason, _): return refuse(status, label, reason)
            case .unavailable(let error): return unavailable(error)
            }
        }
        let entries: [ArraySlice<UInt8>]
        do { entries = try BatchBundle.entries(body) } catch {
            return refuse(.badRequest, "malformed", error.description)
        }
        metrics.bundlesReceived.increment()
        // All at once, so the store's group commit takes the whole bundle in few transactions.
        let answers = try await withThrowingTaskGroup(of: (Int, BatchAnswer).self) { group in
            for (i, entry) in entries.enumerated() {
                group.addTask { (i, try await accept(Array(entry), from: identity, backlog: backlog)) }
            }
            var answers = [BatchAnswer?](repeating: nil, count: entries.count)
            for try await (i, answer) in group { answers[i] = answer }
            return answers.map { $0! }
        }
        let answer = bundleAnswer(gateway: identity, answers)
        // A bundle's answer is a line per batch, much alike: compressed it costs a gateway on a
        // cellular link a few bytes a batch instead of some 35.
        guard request.headers[.acceptEncoding]?.lowercased().contains("zstd") ?? false else {
            return announcingDictionaries(json(.ok, answer))
        }
        return announcingDictionaries(Response(status: .ok, headers: [.contentType: "application/json", .contentEncoding: "zstd"],
                                               body: .init(byteBuffer: ByteBuffer(bytes: Zstd.compress(Array(answer.utf8))))))
    }

    /// A gateway takes up the dictionary once a collector's answer names it; a gateway that
    /// fails over to an older collector hears no such header and stops using it.
    private func announcingDictionaries(_ response: Response) -> Response {
        var response = response
        response.headers[.lanegateZstdDictionaries] = ZstdDictionary.announcement
        return response
    }

    /// Verifies and stores one batch sent by `identity`.
    func accept(_ bytes: [UInt8], from identity: String, backlog: Int?) async throws -> BatchAnswer {
        let batch: DecodedBatch
        do { batch = try BatchDecoder.decode(bytes, limits: settings.limits) } catch {
            return refused(.badRequest, "malformed", error.description)
        }
        guard batch.gatewayID == identity else {
            return refused(.forbidden, "identity", "this gateway is \"\(identity)\"; the batch claims \"\(batch.gatewayID)\"",
                           sequence: batch.sequence)
        }
        let outcome: StoreOutcome
        let started = ContinuousClock.now
        do {
            outcome = try await store.store(batch, body: bytes, bodyDigest: Digest.sha256(bytes),
                                            receivedUTC: ClockAnchor.now().utcNanoseconds, backlog: backlog)
        } catch let error as StoreUnavailableError {
            return .unavailable(error)
        }
        metrics.storeWrites.record(ContinuousClock.now - started)
        switch outcome {
        case .stored(let events):
            updates.stored(gateway: batch.gatewayID)
            await raiseAlarms(for: batch)
            metrics.batchesStored.increment()
            metrics.eventsStored.increment(by: Int64(events))
            return .acknowledged(gateway: batch.gatewayID, sequence: batch.sequence, status: "stored", events: events)
        case .duplicate(let events):
            metrics.batchesDuplicate.increment()
            return .acknowledged(gateway: batch.gatewayID, sequence: batch.sequence, status: "duplicate", events: events)
        case .conflict:
            return refused(.conflict, "conflict", "sequence \(batch.sequence) of \(batch.gatewayID) is already stored with different content",
                           sequence: batch.sequence)
        }
    }

    /// Before the acknowledgement, so that a responder hears of a tamper within the request's
    /// time; only batches that can hold one (priority events: faults, seal changes) are looked at.
    private func raiseAlarms(for batch: DecodedBatch) async {
        var seals = Set<String>(), faults = false
        for event in batch.events {
            switch event {
            case .sealSeen(let e): seals.insert(e.seal.description)
            case .sealChanged(let e): seals.insert(e.seal.description)
            case .detectorFault: faults = true
            default: break
            }
        }
        guard faults || !seals.isEmpty else { return }
        await alarms.stored(batch, seals: seals)
    }

    private func refused(_ status: HTTPResponse.Status, _ label: String, _ reason: String, sequence: UInt64? = nil) -> BatchAnswer {
        .refused(status, label: label, reason: reason, sequence: sequence)
    }

    private func acknowledgement(gateway: String, sequence: UInt64, status: String, events: Int) -> String {
        "{\"gateway\":\(jsonQuoted(gateway)),\"sequence\":\(sequence),\"status\":\"\(status)\",\"events\":\(events)}"
    }

    /// `{"gateway":…,"results":[…]}`, one result per entry in the bundle's order:
    /// `{"sequence":…,"status":"stored"}` (or `"duplicate"`), `{"status":"refused","code":409,"error":…}` (with
    /// the sequence when the entry could be read), or `{"status":"unavailable","error":…}`.
    private func bundleAnswer(gateway: String, _ answers: [BatchAnswer]) -> String {
        var out = "{\"gateway\":\(jsonQuoted(gateway)),\"results\":["
        for (i, answer) in answers.enumerated() {
            if i > 0 { out += "," }
            switch answer {
            case .acknowledged(_, let sequence, let status, _):
                // Short: over a cellular link the answer costs as much as the batch's framing.
                out += "{\"sequence\":\(sequence),\"status\":\"\(status)\"}"
            case .refused(let status, let label, let reason, let sequence):
                metrics.rejected(status: status.code, reason: label)
                out += "{\(sequence.map { "\"sequence\":\($0)," } ?? "")\"status\":\"refused\",\"code\":\(status.code),\"error\":\(jsonQuoted(reason))}"
            case .unavailable(let error):
                metrics.rejected(status: HTTPResponse.Status.serviceUnavailable.code, reason: "store")
                out += "{\"status\":\"unavailable\",\"error\":\(jsonQuoted("the collector's store is unavailable: \(error.description)"))}"
            }
        }
        return out + "]}\n"
    }
}
