import LaneCore
import Testing

/// The published answers: FIPS 180-2 for SHA-256, RFC 4231 for HMAC-SHA256. Pseudonyms, token
/// digests and webhook signatures all stand on these two functions.
@Suite struct DigestTests {
    @Test func sha256GivesThePublishedDigests() {
        #expect(Digest.sha256(Array("abc".utf8)).lowercaseHex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256([]).lowercaseHex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Digest.sha256(million).lowercaseHex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hmacGivesTheRFC4231Answers() {
        #expect(Digest.hmacSHA256(key: [UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8)).lowercaseHex
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Digest.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)).lowercaseHex
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // A key longer than SHA-256's block is hashed first.
        #expect(Digest.hmacSHA256(key: [UInt8](repeating: 0xAA, count: 131),
                                  Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)).lowercaseHex
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }
}
