#if canImport(Glibc)
import Glibc
#endif

/// Adds to `actions` the closing, in the child, of every descriptor from `lowest` up: a program
/// spawned by a test gets what it is given and nothing else the test process has open. Without
/// it, a PostgreSQL server started while another test held 300 connections kept a copy of each:
/// the collector's close of a connection then sent no FIN, and that test waited in vain.
/// glibc's closefrom action, which Swift's Glibc module does not import.
func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t, from lowest: Int32) {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
    _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, lowest)
}
