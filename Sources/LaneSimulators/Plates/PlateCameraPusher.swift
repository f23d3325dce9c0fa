import LaneCore
import Synchronization

/// The booth's simulated cameras pushing to a gateway's plate listener over real HTTP, each
/// lane's camera in its own format (lane 1 Hikvision ISAPI, lane 2 Plate Recognizer Stream,
/// lane 3 Rekor Scout, and round again), each with its own token.
public final class PlateCameraPusher: Sendable {
    public let host: String
    public let port: UInt16
    private let cameras: [PlateCameraSimulator]
    private let tokens: [String]
    private let sequence = Atomic<Int>(0)
    /// Pushes by the status they got; 0: no answer.
    private let statuses = Mutex<[Int: Int]>([:])

    public init(host: String, port: UInt16, lanes: Int, tokens: [String]) {
        precondition(tokens.count == lanes)
        self.host = host
        self.port = port
        self.tokens = tokens
        cameras = (1...lanes).map { lane in
            let format = PlateCameraSimulator.Format.allCases[(lane - 1) % PlateCameraSimulator.Format.allCases.count]
            return PlateCameraSimulator(format: format, camera: Self.name(lane: lane))
        }
    }

    public static func name(lane: Int) -> String { "cam-lane\(lane)" }

    /// The format lane `lane`'s camera pushes in, as the gateway's configuration names it.
    public func gatewayFormat(lane: Int) -> String {
        cameras[lane - 1].format == .hikvisionISAPI ? "hikvision-isapi" : "json-webhook"
    }

    /// Pushes one read now, blocking until the gateway answers; returns its status (0: none).
    @discardableResult
    public func push(_ push: BoothTraffic.CameraPush, utc: Int64) -> Int {
        let camera = cameras[push.lane - 1]
        let (type, body) = camera.push(push.shot, utc: utc, sequence: sequence.add(1, ordering: .relaxed).newValue)
        let status = (try? HTTPPost.send(host: host, port: port, path: "/v1/plates/\(camera.camera)",
                                         headers: [("Content-Type", type), ("Authorization", "Bearer \(tokens[push.lane - 1])")],
                                         body: body)) ?? 0
        statuses.withLock { $0[status, default: 0] += 1 }
        return status
    }

    public var answers: [Int: Int] { statuses.withLock { $0 } }
}
