import CLibCrypto

/// SHA-256 and HMAC-SHA256, from the system's libcrypto (Debian's OpenSSL 3).
///
/// The project needs only these two, for tag and plate pseudonyms, token digests, picture
/// digests and webhook signatures. Taking them from the library every Debian system already
/// carries keeps a second copy of BoringSSL's C sources out of the daemon and out of the
/// instrumented builds (ThreadSanitizer, fuzzing), which compile every C file again.
public enum Digest {
    public static let sha256ByteCount = 32

    public static func sha256(_ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: sha256ByteCount)
        var length: UInt32 = 0
        let done = message.withUnsafeBufferPointer { bytes in
            digest.withUnsafeMutableBufferPointer { out in
                EVP_Digest(bytes.baseAddress ?? emptyInput, bytes.count, out.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        // Fails only without memory or with a broken libcrypto: nothing a caller could recover from.
        precondition(done == 1 && length == sha256ByteCount, "libcrypto's SHA-256 failed")
        return digest
    }

    public static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: sha256ByteCount)
        var length: UInt32 = 0
        let done = key.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { bytes in
                mac.withUnsafeMutableBufferPointer { out in
                    HMAC(EVP_sha256(), key.baseAddress ?? emptyInput, Int32(key.count),
                         bytes.baseAddress ?? emptyInput, bytes.count, out.baseAddress, &length)
                }
            }
        }
        precondition(done != nil && length == sha256ByteCount, "libcrypto's HMAC-SHA256 failed")
        return mac
    }

    /// An address for empty input: libcrypto reads no byte of it, but some paths want non-NULL.
    private nonisolated(unsafe) static let emptyInput: UnsafePointer<UInt8> = {
        let byte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        byte.initialize(to: 0)
        return UnsafePointer(byte)
    }()
}
