import LaneCore
import Testing

@Suite struct PriorityTests {
    func sighting(_ status: SealStatus) -> LaneEvent {
        .sealSeen(SealSighting(readPoint: 0, seal: SealID(manufacturer: 0x0E1F, tag: 7), time: MonotonicInstant(nanoseconds: 1),
                               status: status, eventCount: 1, eventTime: 0, rssi: -60))
    }

    @Test func aSealFirstSeenTamperedOrOpenedIsAnAlarmLikeAChange() {
        #expect(sighting(.tampered).isPriority)
        #expect(sighting(.opened).isPriority)
        #expect(sighting([.tampered, .lowBattery]).isPriority)
        #expect(!sighting(.sealed).isPriority)
        #expect(!sighting(.approvedOpen).isPriority)
        #expect(!sighting(.lowBattery).isPriority)
    }
}
