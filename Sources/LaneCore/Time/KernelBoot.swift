#if canImport(Glibc)
import Glibc
#endif

/// This kernel boot's id (`/proc/sys/kernel/random/boot_id`): monotonic times compare only
/// within one boot, and a new id after an unclean stop means the machine lost power or crashed.
public enum KernelBoot {
    /// Read once; empty where the kernel does not say.
    public static let id: String = {
        guard let file = fopen("/proc/sys/kernel/random/boot_id", "r") else { return "" }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, 64, file) != nil else { return "" }
        let text = String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text
    }()
}
