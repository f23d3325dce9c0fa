import LaneCore

/// One alarm on its way to one webhook: queued in the store with the alarm itself, so that
/// neither a restart nor a receiver that is down for an hour loses it.
public struct AlarmDelivery: Sendable, Equatable {
    public struct Key: Sendable, Hashable {
        public var alarm: String
        public var webhook: String

        public init(alarm: String, webhook: String) {
            self.alarm = alarm
            self.webhook = webhook
        }
    }

    public enum State: String, Sendable, CaseIterable {
        /// Queued, or being tried, or waiting to be tried again.
        case pending
        /// The receiver answered 2xx.
        case delivered
        /// Every attempt failed: kept for an operator to see and send again.
        case dead
    }

    public enum Outcome: Sendable, Equatable {
        case delivered(atUTC: Int64)
        /// Failed; tried again at `retryAtUTC`.
        case failed(error: String, retryAtUTC: Int64)
        /// Failed for the last time.
        case dead(error: String)
    }

    public var alarm: Alarm
    public var webhook: String
    public var state: State
    /// Attempts made so far, the one under way included.
    public var attempts: Int
    public var nextAttemptUTC: Int64
    public var lastError: String?
    public var deliveredUTC: Int64?

    public init(alarm: Alarm, webhook: String, state: State, attempts: Int, nextAttemptUTC: Int64, lastError: String? = nil,
                deliveredUTC: Int64? = nil) {
        self.alarm = alarm
        self.webhook = webhook
        self.state = state
        self.attempts = attempts
        self.nextAttemptUTC = nextAttemptUTC
        self.lastError = lastError
        self.deliveredUTC = deliveredUTC
    }

    public var key: Key { Key(alarm: alarm.id, webhook: webhook) }

    public var json: String {
        "{\"alarm\":\(alarm.json),\"webhook\":\(jsonQuoted(webhook)),\"state\":\"\(state.rawValue)\",\"attempts\":\(attempts),"
            + "\"next_attempt_utc_ns\":\(nextAttemptUTC),\"last_error\":\(lastError.map(jsonQuoted) ?? "null"),"
            + "\"delivered_utc_ns\":\(deliveredUTC.map { "\($0)" } ?? "null")}"
    }
}
