import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// The open connections, shared by every connection's guard: what the cap counts, and where it
/// finds the connection idle the longest when a new one needs room.
public final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        /// When it started waiting for a request head; nil while a request is in progress.
        var idleSince: NIODeadline?
    }
    private let entries = NIOLockedValueBox([ObjectIdentifier: Entry]())
    let limits: ConnectionLimits

    public init(limits: ConnectionLimits = ConnectionLimits()) { self.limits = limits }

    public var count: Int { entries.withLockedValue { $0.count } }

    /// Registers a connection; returns a connection to close to keep under the cap (the one idle
    /// the longest, or the new one when all are busy), or nil.
    func admit(_ channel: any Channel) -> (any Channel)? {
        entries.withLockedValue { entries in
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, idleSince: .now())
            guard entries.count > limits.maxConnections else { return nil }
            let idlest = entries.lazy.filter { $0.key != ObjectIdentifier(channel) && $0.value.idleSince != nil }
                .min { $0.value.idleSince! < $1.value.idleSince! }
            guard let idlest else { return channel }
            entries[idlest.key] = nil
            return idlest.value.channel
        }
    }

    func setIdle(_ channel: any Channel, _ idle: Bool) {
        entries.withLockedValue { $0[ObjectIdentifier(channel)]?.idleSince = idle ? .now() : nil }
    }

    func remove(_ channel: any Channel) {
        entries.withLockedValue { $0[ObjectIdentifier(channel)] = nil }
    }
}

/// One per connection, after HTTP decoding: closes it when a request head, a body or the next
/// request takes longer than the limits allow, and keeps the registry's count.
public final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private let registry: ConnectionRegistry
    private var deadline: Scheduled<Void>?
    private var registered = false
    /// A request head arrived since the last response ended.
    private var sawHead = false

    public init(registry: ConnectionRegistry) { self.registry = registry }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        stop(context)
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) { stop(context) }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            sawHead = true
            registry.setIdle(context.channel, false)
            arm(context, registry.limits.bodyTimeout)
        case .end where sawHead:
            // The handler has the whole request: its own work is not timed here.
            deadline?.cancel()
            deadline = nil
        case .end:
            // The rest of a body refused before it was read (a bad token, too large): the answer
            // is out, so the connection is idle from now on and its idle timeout runs.
            registry.setIdle(context.channel, true)
            arm(context, registry.limits.idleTimeout)
        case .body: break
        }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        // An answer to bytes that never made a request (the parser's 400): say it, then hang up,
        // or the client could go on trickling garbage for as long as the idle timeout.
        guard sawHead else {
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
            return
        }
        sawHead = false
        registry.setIdle(context.channel, true)
        arm(context, registry.limits.idleTimeout)
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        if let victim = registry.admit(context.channel) { victim.close(promise: nil) }
        arm(context, registry.limits.headerTimeout)
    }

    private func stop(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if registered { registry.remove(context.channel) }
        registered = false
    }

    /// Closes the connection after `timeout` unless something re-arms or cancels it first.
    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}
