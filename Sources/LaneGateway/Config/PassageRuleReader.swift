import LaneCore
import LaneTOML
import TOMLKit

extension ConfigReader {
    /// `[lanes.passage]`: which loop's vehicles are the lane's passages, and which of its read
    /// points (booth reader, e-seal receiver, camera) join them, within how long of the call.
    mutating func readPassage(_ lane: TOMLTable, lane laneName: String, path: String, loops: [String: LoopIndex],
                              layout: LaneLayout) -> LaneLayout.PassageRule? {
        guard let table = table(lane, "passage", path: path, required: false) else { return nil }
        checkKeys(table, path: path, allowed: ["loop", "read_points", "window"])
        let window = duration(table, "window", path: path + ".window", in: .milliseconds(100)...(.minutes(5))) ?? .seconds(5)
        var points: [ReadPointIndex] = []
        for name in stringOrStrings(table, "read_points", path: path + ".read_points") ?? [] {
            guard let i = layout.readPoints.firstIndex(where: { $0.name == "\(laneName)/\(name)" }) else {
                fail(path + ".read_points", "no read point named \"\(name)\" in lane \"\(laneName)\"")
                continue
            }
            points.append(ReadPointIndex(i))
        }
        if points.isEmpty { fail(path + ".read_points", "names the lane's read points whose reads join its passages, such as [\"booth\", \"plate\"]") }
        // Read after the read points, so that every mistake is named at once.
        guard let loopName = string(table, "loop", path: path + ".loop") else { return nil }
        guard let loop = loops[loopName] else {
            fail(path + ".loop", "no loop named \"\(loopName)\" in lane \"\(laneName)\"")
            return nil
        }
        return LaneLayout.PassageRule(loop: loop, readPoints: points, window: window)
    }
}
