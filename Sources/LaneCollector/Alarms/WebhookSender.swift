import AsyncHTTPClient
import LaneCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Prometheus
import ServiceLifecycle

/// How webhook deliveries are paced.
public struct WebhookTiming: Sendable {
    /// The first retry waits this long; each next one twice as long, up to `maxDelay`.
    public var firstRetry: Duration = .seconds(2)
    public var maxDelay: Duration = .seconds(600)
    /// How often the queue is looked at besides the wake-ups of new alarms: for retries that
    /// came due, and for alarms another collector on the store raised.
    public var poll: Duration = .seconds(1)
    /// A receiver that has not answered within this is a failed attempt.
    public var requestTimeout: Duration = .seconds(10)
    /// A claimed delivery is held this long: a collector that dies while sending leaves it to
    /// be tried again after it.
    public var lease: Duration = .seconds(30)

    public init() {}

    /// The wait after the `attempt`th failed attempt, with up to a fifth more at random so that
    /// a receiver back from an outage is not hit by every retry at once.
    func delay(after attempt: Int) -> Int64 {
        let doubled = firstRetry.nanoseconds.multipliedReportingOverflow(by: Int64(1) << Int64(min(max(attempt - 1, 0), 40)))
        let base = doubled.overflow ? maxDelay.nanoseconds : min(doubled.partialValue, maxDelay.nanoseconds)
        return base + Int64.random(in: 0...max(base / 5, 0))
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole.addingClamped(attoseconds / 1_000_000_000)
    }
}

/// Sends each alarm to the webhooks that are to hear of it: at least once, signed, from the
/// queue the store keeps with the alarms. Each webhook has its own sender, so a receiver that
/// is down delays only its own alarms.
public final class WebhookSender: Service, Sendable {
    let store: any EventStore
    let desk: AlarmDesk
    public let webhooks: [Webhook]
    let timing: WebhookTiming
    let logger: Logger
    private let registry: PrometheusCollectorRegistry

    init(store: any EventStore, desk: AlarmDesk, webhooks: [Webhook], timing: WebhookTiming, registry: PrometheusCollectorRegistry,
         logger: Logger) {
        self.store = store
        self.desk = desk
        self.webhooks = webhooks
        self.timing = timing
        self.registry = registry
        self.logger = logger
    }

    public func run() async throws {
        guard !webhooks.isEmpty else {
            try await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for webhook in self.webhooks { group.addTask { await self.serve(webhook) } }
            }
        }
    }

    /// One webhook's loop: drain what is due, then sleep until an alarm is raised here or the
    /// poll interval has passed.
    private func serve(_ webhook: Webhook) async {
        let client: HTTPClient
        do { client = try Self.client(for: webhook, timing: timing) } catch {
            logger.error("webhook \(webhook.name): \(error); its alarms stay queued")
            return
        }
        let (id, wakes) = desk.subscribe(sender: true)
        let ticker = Task { [desk, timing] in
            while (try? await Task.sleep(for: timing.poll)) != nil { desk.poke(id) }
        }
        for await _ in wakes {
            while !Task.isCancelled {
                let now = ClockAnchor.now().utcNanoseconds
                let due: [AlarmDelivery]
                do {
                    due = try await store.claimDeliveries(webhook: webhook.name, dueAt: now, leaseUntil: now.addingClamped(timing.lease.nanoseconds),
                                                          limit: 16)
                } catch {
                    logger.error("webhook \(webhook.name): reading its queue failed: \(error)")
                    break
                }
                if due.isEmpty { break }
                await withTaskGroup(of: Void.self) { group in
                    for delivery in due { group.addTask { await self.send(delivery, to: webhook, with: client) } }
                }
            }
        }
        ticker.cancel()
        desk.unsubscribe(id)
        try? await client.shutdown()
    }

    private func send(_ delivery: AlarmDelivery, to webhook: Webhook, with client: HTTPClient) async {
        let body = Array(delivery.alarm.json.utf8)
        var request = HTTPClientRequest(url: webhook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "lanegate-collector")
        request.headers.add(name: "Lanegate-Alarm-Id", value: delivery.alarm.id)
        request.headers.add(name: "Lanegate-Delivery-Attempt", value: String(delivery.attempts))
        request.headers.add(name: WebhookSignature.header,
                            value: WebhookSignature.sign(body, secret: webhook.secret, unixSeconds: ClockAnchor.now().utcNanoseconds / 1_000_000_000))
        request.body = .bytes(ByteBuffer(bytes: body))
        let failure: String
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timing.requestTimeout.nanoseconds))
            _ = try? await response.body.collect(upTo: 64 << 10)
            if (200..<300).contains(response.status.code) {
                await settle(delivery, .delivered(atUTC: ClockAnchor.now().utcNanoseconds), webhook)
                return
            }
            failure = "HTTP \(response.status.code)"
        } catch {
            failure = "\(error)"
        }
        if delivery.attempts >= webhook.maxAttempts {
            logger.error("webhook \(webhook.name): alarm \(delivery.alarm.id) not delivered after \(delivery.attempts) attempts (\(failure)); now a dead letter")
            await settle(delivery, .dead(error: failure), webhook)
        } else {
            if delivery.attempts == 1 { logger.warning("webhook \(webhook.name): alarm \(delivery.alarm.id): \(failure); retrying") }
            let retryAt = ClockAnchor.now().utcNanoseconds.addingClamped(timing.delay(after: delivery.attempts))
            await settle(delivery, .failed(error: failure, retryAtUTC: retryAt), webhook)
        }
    }

    private func settle(_ delivery: AlarmDelivery, _ outcome: AlarmDelivery.Outcome, _ webhook: Webhook) async {
        let result = switch outcome { case .delivered: "delivered"; case .failed: "failed"; case .dead: "dead" }
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "lanegate", subsystem: "collector", metricName: "webhook_attempts", unitName: "total",
            helpText: "Alarm deliveries attempted to webhooks, by webhook and result (delivered, failed and retried, dead)"),
                             labels: [("webhook", webhook.name), ("result", result)]).increment()
        do { try await store.settle(delivery.key, outcome) } catch {
            // Left pending: tried again once its lease ends (at least once).
            logger.error("webhook \(webhook.name): recording alarm \(delivery.alarm.id) as \(result) failed: \(error)")
        }
    }

    /// A client of its own per webhook: its own CA, and no redirects (a signed alarm goes
    /// where it was configured to go, nowhere else).
    private static func client(for webhook: Webhook, timing: WebhookTiming) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        if let ca = webhook.caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(ca)]
            configuration.tlsConfiguration = tls
        }
        let timeout = TimeAmount.nanoseconds(timing.requestTimeout.nanoseconds)
        configuration.timeout = .init(connect: timeout, read: timeout)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
