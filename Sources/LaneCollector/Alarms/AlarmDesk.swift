import LaneAnalytics
import LaneCore
import LaneWire
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization

/// Raises alarms: records each once in the store, logs it for the journal, and wakes the
/// alarm streams. Batches call on it as they are stored; ``AlarmWatch`` sweeps the store besides,
/// for what no batch announces (a silent gateway, a transit gone overdue) and for any alarm a
/// batch's own raise failed to record (the same facts give the same ids, so nothing is doubled).
public final class AlarmDesk: Sendable {
    let store: any EventStore
    public let rules: AlarmRules
    /// The webhooks each new alarm is queued for, by their scopes.
    let webhooks: [Webhook]
    let logger: Logger
    private let raised: Counter
    private let failures: Counter
    private let startedUTC = ClockAnchor.now().utcNanoseconds
    /// Everyone woken by new alarms; of them, the webhook senders, which are no client's stream.
    private let listeners = Mutex<(next: Int, all: [Int: AsyncStream<Void>.Continuation], senders: Set<Int>)>((0, [:], []))

    init(store: any EventStore, rules: AlarmRules, webhooks: [Webhook], registry: PrometheusCollectorRegistry, logger: Logger) {
        self.store = store
        self.rules = rules
        self.webhooks = webhooks
        self.logger = logger
        raised = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "lanegate", subsystem: "collector", metricName: "alarms_raised", unitName: "total",
            helpText: "Alarms raised (each incident once)"))
        failures = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "lanegate", subsystem: "collector", metricName: "alarm_errors", unitName: "total",
            helpText: "Alarm checks the store could not answer (the next sweep tries again)"))
    }

    /// Alarm streams open to clients (what `maxLiveStreams` bounds).
    public var streams: Int { listeners.withLock { $0.all.count - $0.senders.count } }

    /// Records `alarms`, each new one with its webhook deliveries; the new ones are logged and
    /// announced (to the streams and the webhook senders). Returns the new ones.
    @discardableResult
    public func raise(_ alarms: [Alarm]) async -> [Alarm] {
        guard !alarms.isEmpty else { return [] }
        do {
            var hearers: [String: [String]] = [:]
            for a in alarms { hearers[a.id] = webhooks.filter { $0.hears(a) }.map(\.name) }
            let new = try await store.raise(alarms, webhooks: hearers)
            for a in new { logger.warning("alarm \(a.kind.rawValue): \(a.detail)", metadata: ["alarm": "\(a.id)"]) }
            raised.increment(by: Int64(new.count))
            if !new.isEmpty { wakeAll() }
            return new
        } catch {
            failed("recording \(alarms.count) alarm(s)", error)
            return []
        }
    }

    /// A batch was stored: its raised detector faults, and what its seal readings say together
    /// with the same seals' earlier readings.
    func stored(_ batch: DecodedBatch, seals: Set<String>) async {
        let now = ClockAnchor.now().utcNanoseconds
        var alarms = rules.faultAlarms(batch, raisedUTC: now)
        for seal in seals.sorted() {
            do {
                let readings = try await store.sealReadings(fromUTC: now.subtractingClamped(rules.tracker.lookback), toUTC: now.addingClamped(1),
                                                            seal: seal)
                alarms += rules.sealAlarms(readings, now: now, raisedUTC: now)
            } catch {
                failed("reading seal \(seal)'s history", error)
            }
        }
        await raise(alarms)
    }

    /// Looks at the whole store: silent gateways (once the collector has itself been up for
    /// longer than the silence, so that its own downtime is not blamed on them), and every
    /// seal alarm of the horizon.
    public func sweep(now: Int64) async {
        var alarms: [Alarm] = []
        do {
            if now - startedUTC > rules.silentAfter {
                alarms += rules.silentGateways(try await store.gateways(), now: now, raisedUTC: now)
            }
            let readings = try await store.sealReadings(fromUTC: now.subtractingClamped(rules.tracker.lookback), toUTC: now.addingClamped(1),
                                                        seal: nil)
            alarms += rules.sealAlarms(readings, now: now, raisedUTC: now)
        } catch {
            failed("sweeping the store", error)
        }
        await raise(alarms)
    }

    /// Wake-ups for an alarm stream or a webhook sender: one now, one whenever alarms are raised here.
    func subscribe(sender: Bool = false) -> (id: Int, wakes: AsyncStream<Void>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        continuation.yield()
        let id = listeners.withLock { l in
            l.next += 1
            l.all[l.next] = continuation
            if sender { l.senders.insert(l.next) }
            return l.next
        }
        return (id, stream)
    }

    /// Wakes every stream and sender: there is something new in the store.
    func wakeAll() { listeners.withLock { for wake in $0.all.values { wake.yield() } } }

    /// Wakes one stream: its time to look at the store again.
    func poke(_ id: Int) { _ = listeners.withLock { $0.all[id] }?.yield() }

    func unsubscribe(_ id: Int) {
        listeners.withLock { l in
            l.senders.remove(id)
            return l.all.removeValue(forKey: id)
        }?.finish()
    }

    private func failed(_ what: String, _ error: any Error) {
        failures.increment()
        logger.error("alarms: \(what) failed: \(error)")
    }
}

/// Sweeps for alarms every `interval` while the collector runs.
public struct AlarmWatch: Service {
    let desk: AlarmDesk
    let interval: Duration

    public init(desk: AlarmDesk, interval: Duration = .seconds(30)) {
        self.desk = desk
        self.interval = interval
    }

    public func run() async throws {
        let (desk, interval) = (desk, interval)
        await cancelWhenGracefulShutdown {
            repeat { await desk.sweep(now: ClockAnchor.now().utcNanoseconds) } while (try? await Task.sleep(for: interval)) != nil
        }
    }
}
